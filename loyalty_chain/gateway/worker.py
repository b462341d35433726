"""The issuing worker: accepted events' grants → batched issuances through the delivery layer.

Exactly once, even across ``kill -9``: grants are assigned to a batch in one committed transaction
*before* anything is sent, and each batch is sent with the idempotency key
``gateway:<store id>:batch:<batch id>``. After a restart a pending batch is sent again under the
same key, and the delivery layer's operations journal returns the first outcome instead of minting
twice (it wrote the signed transactions down before broadcasting them).

A batch is up to ``txs_per_batch`` issueBatch transactions of ``batch_size`` grants each (the split
is stored with the batch, so a restart with other options sends it the same way), signed and sent
together: they share blocks instead of waiting for each other's receipts. Batches are pipelined
(:mod:`.issuing`): up to ``pipeline`` of them on their way at once, each sent in nonce order under
the sender lock, so a block is never left empty while the worker waits for receipts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ALL_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from ..client import LoyaltyClient
from ..delivery import TxResult
from ..errors import (
    BudgetExceededError,
    ChainError,
    FeeCapError,
    LoyaltyChainError,
    NeverMinedError,
    OutcomeUnknownError,
)
from .issuing import Issuer, StartedBatch
from .store import Conn, Store

log = logging.getLogger("loyalty_chain.gateway")

RETRY_LATER = (OutcomeUnknownError, ChainError, FeeCapError, BudgetExceededError)
"""Errors after which the same batch is sent again (same key) on the next round, not failed."""
WAIT_S = 0.1
"""Longest wait of the sending loop for a batch to be mined or settled before it looks again."""


@dataclass(frozen=True)
class WorkerOptions:
    batch_size: int = 500
    """Most grants in one issueBatch transaction (at most client.MAX_BATCH); fewer once the gas a
    grant takes is known, so that ``txs_per_batch`` transactions fill one block."""
    txs_per_batch: int = 4
    """Transactions in one batch (≥ 1): a batch is one block's worth."""
    pipeline: int = 3
    """Batches on their way at once (≥ 1): the next is sent while earlier ones are being mined."""
    interval_s: float = 0.2
    """Pause between rounds when nothing is waiting."""


class Worker:
    """Forms batches from pending grants and sends them, pipelined."""

    def __init__(
        self,
        store: Store,
        client: LoyaltyClient,
        options: WorkerOptions | None = None,
        on_issued: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.options = options or WorkerOptions()
        self.on_issued = on_issued
        self.issuer = Issuer(client)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # settling may lag behind mining by a batch or two: more finishers than batches on their way
        self._finishers = ThreadPoolExecutor(2 * max(1, self.options.pipeline), "gateway-issued")
        self._unmined = 0
        """Batches started and not yet mined (or failed): what ``pipeline`` bounds."""
        self._progress = threading.Condition()
        """Notified when a batch is mined and when it is settled."""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="gateway-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._finishers.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # a service loop: log and go on; the batch is retried under its key
                log.exception("the issuing worker's round failed; retrying")
                busy = 0
            if not busy:
                self._stop.wait(self.options.interval_s)

    def run_once(self) -> int:
        """Batch what is pending and send it, ``pipeline`` batches on their way at once, until
        nothing is pending (grants accepted meanwhile included); the number of grants issued.

        A batch is on its way until it is mined: settling it (each grant and event recorded, in
        the store) goes on in its finisher thread while the next one is started. While batches
        are on their way only full ones are formed: a partial batch would take a block's room for
        fewer grants; what is left waits until fewer than ``pipeline - 1`` batches are on their
        way (then the next block would go without ours)."""
        issued = 0
        in_flight: dict[int, Future[int]] = {}  # started, not settled
        skipped: set[int] = set()  # not settled this round (retried under the same key next round)
        depth = max(1, self.options.pipeline)
        try:
            while not self._stop.is_set():
                issued += self._collect(in_flight)
                with self._progress:
                    if not self._progress.wait_for(lambda: self._unmined < depth, timeout=WAIT_S):
                        continue
                    on_way = self._unmined
                busy = set(in_flight) | skipped
                batch = self._next_batch(busy)
                if batch is None:
                    self._form_batches(partial=on_way < max(1, depth - 1))
                    batch = self._next_batch(busy)
                if batch is None:
                    if not in_flight:
                        break
                    with self._progress:  # a batch mined or settled; new grants are looked at again
                        self._progress.wait(WAIT_S)
                    continue
                future = self._start(*batch)
                if future is None:
                    skipped.add(batch[0])
                else:
                    in_flight[batch[0]] = future
        finally:
            issued += self._collect(in_flight, every=True)
        return issued

    def _next_batch(self, busy: set[int]) -> tuple[int, str, int] | None:
        for batch_id, reason, chunk in self.store.query(
            "SELECT id, reason, chunk FROM batches WHERE state = 'pending' ORDER BY id"
        ):
            if int(batch_id) not in busy:
                return int(batch_id), str(reason), int(chunk)
        return None

    @staticmethod
    def _collect(in_flight: dict[int, Future[int]], every: bool = False) -> int:
        """Grants issued by the batches settled so far (with ``every``: waits for all of them),
        which leave ``in_flight``."""
        if every:
            wait(list(in_flight.values()), return_when=ALL_COMPLETED)
        issued = 0
        for batch_id, future in list(in_flight.items()):
            if future.done():
                del in_flight[batch_id]
                issued += future.result()
        return issued

    def _form_batches(self, partial: bool = True) -> None:
        """Pending grants into batches of one block's worth, per reason; the last, smaller one
        too with ``partial``."""
        block_gas = self.client.sender.block_gas_limit()
        chunk = self.issuer.chunk_for(block_gas, self.options.txs_per_batch, self.options.batch_size)
        size = chunk * max(1, self.options.txs_per_batch)
        query = "SELECT reason, COUNT(*) FROM grants WHERE status = 'pending' GROUP BY reason"
        if not any(int(n) >= size or (partial and int(n) > 0) for _, n in self.store.query(query)):
            return  # looked at without the writer lock, which accepting events needs all the time
        with self.store.transaction() as conn:
            waiting = conn.execute(query).fetchall()
            for reason, count in waiting:
                count = int(count)
                while count >= size or (partial and count > 0):
                    n = min(size, count)
                    (batch_id,) = conn.execute(
                        "INSERT INTO batches (reason, state, created, chunk) VALUES (?, 'pending', ?, ?)"
                        " RETURNING id",
                        (reason, time.time(), min(chunk, n)),
                    ).fetchone()
                    conn.execute(
                        "UPDATE grants SET status = 'batched', batch_id = ? WHERE id IN (SELECT id"
                        " FROM grants WHERE status = 'pending' AND reason = ? ORDER BY id LIMIT ?)",
                        (batch_id, reason, n),
                    )
                    count -= n

    def _start(self, batch_id: int, reason: str, chunk: int) -> Future[int] | None:
        """Send the batch (under the sender lock, every process's on PostgreSQL, where its state is
        looked at again) and leave its receipts to a finisher thread; None if it is not on its way.

        A batch stays ``pending`` until settled: after ``kill -9`` it is sent again under its key
        and the journal watches what was sent. Another process that picks it up meanwhile does the
        same; settling is done once (:meth:`_settle` looks at the state again)."""
        rows = self.store.query(
            "SELECT id, member, points FROM grants WHERE batch_id = ? ORDER BY id", (batch_id,)
        )
        ids = [int(i) for i, _, _ in rows]
        recipients = [(str(m), int(p)) for _, m, p in rows]
        key = f"gateway:{self.store.store_id}:batch:{batch_id}"
        with self.store.write_lock():
            (state,) = self.store.query_one("SELECT state FROM batches WHERE id = ?", (batch_id,))
            if state != "pending":
                return None
            try:
                started = self.issuer.start(recipients, reason, chunk, key)
            except RETRY_LATER as exc:
                log.warning("batch %s not sent yet (%s); it is retried under the same key", batch_id, exc)
                return None
            except LoyaltyChainError as exc:
                self._finish(batch_id, ids, chunk, [exc] * -(-len(ids) // chunk))
                return None
            with self._progress:
                self._unmined += 1
        return self._finishers.submit(self._wait, batch_id, ids, chunk, started)

    def _wait(self, batch_id: int, ids: list[int], chunk: int, started: StartedBatch) -> int:
        try:
            try:
                outcomes = self.issuer.finish(started)
            except RETRY_LATER as exc:
                log.warning("batch %s not settled yet (%s); it is retried under the same key", batch_id, exc)
                return 0
            except LoyaltyChainError as exc:
                outcomes = [exc] * len(started.sizes)
            finally:
                self._signal(mined=True)
            return self._finish(batch_id, ids, chunk, outcomes)
        finally:
            self._signal()

    def _signal(self, mined: bool = False) -> None:
        with self._progress:
            if mined:
                self._unmined -= 1
            self._progress.notify_all()

    def _finish(self, batch_id: int, ids: list[int], chunk: int, outcomes: list[TxResult | Exception]) -> int:
        issued = self._settle(batch_id, ids, chunk, outcomes)
        if self.on_issued and issued:
            self.on_issued(issued)
        return issued

    def _settle(self, batch_id: int, ids: list[int], chunk: int, outcomes: list[TxResult | Exception]) -> int:
        """Record each transaction's grants as issued (its hash), failed (why), or pending again if it
        was never mined (another transaction took its nonce: another process sending from the same
        account, say; its grants go into a later batch, under a new key); then the events."""
        issued, errors, dropped = 0, [], []
        with self.store.transaction() as conn:
            (state,) = conn.execute("SELECT state FROM batches WHERE id = ?", (batch_id,)).fetchone()
            if state != "pending":
                return 0  # another process settled it (it sent it again under the same key)
            for n, outcome in enumerate(outcomes):
                part = ids[n * chunk : (n + 1) * chunk]
                if isinstance(outcome, TxResult):
                    conn.executemany(
                        "UPDATE grants SET status = 'issued', tx_hash = ? WHERE id = ?",
                        [(outcome.tx_hash, i) for i in part],
                    )
                    issued += len(part)
                elif isinstance(outcome, NeverMinedError):
                    log.warning("batch %s, transaction %s: %s; grants wait again", batch_id, n + 1, outcome)
                    dropped.append(str(outcome))
                    again = "UPDATE grants SET status = 'pending', batch_id = NULL WHERE id = ?"
                    conn.executemany(again, [(i,) for i in part])
                else:
                    log.error("batch %s, transaction %s failed: %s", batch_id, n + 1, outcome)
                    errors.append(str(outcome))
                    conn.executemany("UPDATE grants SET status = 'failed' WHERE id = ?", [(i,) for i in part])
            first = next((o.tx_hash for o in outcomes if isinstance(o, TxResult)), None)
            state = "failed" if errors else "issued" if issued else "dropped"
            conn.execute(
                "UPDATE batches SET state = ?, tx_hash = ?, error = ? WHERE id = ?",
                (state, first, next(iter(errors + dropped), None), batch_id),
            )
            # an event with a grant pending again is neither failed nor issued yet: it waits
            self._settle_events(conn, batch_id, errors[0] if errors else None)
        return issued

    @staticmethod
    def _settle_events(conn: Conn, batch_id: int, error: str | None) -> None:
        """Each event with grants in the batch: failed if one of its grants failed, issued once all
        are issued (a webhook either way); otherwise it waits for its other batches. A few
        set-wide statements, not a handful per event: a batch holds a block's worth of events."""
        events = "SELECT DISTINCT event_id FROM grants WHERE batch_id = ?"
        counts: dict[str, dict[str, int]] = {}
        for event_id, status, n in conn.execute(
            f"SELECT event_id, status, COUNT(*) FROM grants WHERE event_id IN ({events})"
            " GROUP BY event_id, status",
            (batch_id,),
        ):
            counts.setdefault(str(event_id), {})[str(status)] = int(n)
        failed = [e for e, c in counts.items() if c.get("failed")]
        issued = [e for e, c in counts.items() if not c.get("failed") and set(c) == {"issued"}]
        if not failed and not issued:
            return
        conn.executemany(
            "UPDATE events SET status = 'failed', why = ? WHERE id = ?", [(error, e) for e in failed]
        )
        conn.executemany("UPDATE events SET status = 'issued' WHERE id = ?", [(e,) for e in issued])
        hashes: dict[str, list[str]] = {}
        for event_id, tx_hash in conn.execute(
            f"SELECT DISTINCT event_id, tx_hash FROM grants WHERE event_id IN ({events})"
            " AND tx_hash IS NOT NULL ORDER BY event_id, tx_hash",
            (batch_id,),
        ):
            hashes.setdefault(str(event_id), []).append(str(tx_hash))
        rows = {
            str(e): (m, p, w)
            for e, m, p, w in conn.execute(
                f"SELECT id, member, points, why FROM events WHERE id IN ({events})", (batch_id,)
            )
        }
        for outcome, ids in (("failed", failed), ("issued", issued)):
            for event_id in ids:
                member, points, why = rows[event_id]
                Store.enqueue_webhook(
                    conn,
                    f"event.{outcome}",
                    {
                        "id": event_id,
                        "member": member,
                        "points": points,
                        "tx_hashes": hashes.get(event_id, []),
                        "why": why,
                    },
                )
