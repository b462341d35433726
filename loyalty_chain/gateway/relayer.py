"""Relays sent in groups, exactly once even across ``kill -9``, the way the issuing worker sends
batches.

A redemption the gateway accepted is stored with its ``redeemWithSignature`` call (target, calldata,
gas limit) in the ``relays`` table, in the transaction that admits it (see
:mod:`.relay_admission`), before anything is sent. Then:

1. **grouped**: every stored relay not yet in a group is put in a new ``relay_groups`` row, in one
   committed transaction (the relays that arrived while the last group was being mined leave
   together, signed with consecutive nonces and sent at once, so they share blocks);
2. **sent** as ``redeemBatchWithSignature`` transactions of up to 100 relays each
   (:mod:`.relay_batch`; a bad item is skipped on chain, the others redeemed) under the idempotency
   key ``gateway:<store id>:relay-batches:<group id>``: signed, written down and broadcast under
   the store's sender lock, the group's state looked at again under it (another process never
   sends a group this one settled);
3. **settled** by a finisher thread once mined: each redemption relayed (tx hash, on-chain
   redemption id, points burned) or failed (why), with its webhook, and the group marked settled,
   in one transaction that looks at the group's state again (settled once, whoever sent it).

Groups are pipelined: while one is being mined, the relays stored since are grouped and sent
(every :data:`GROUP_GAP_S` at most, up to :data:`PIPELINE` groups on their way), so a relay waits
for the next block, not for the block after the one in flight; the sender lock is held while a
group is signed and broadcast, not while it is mined (the issuing worker sends meanwhile).

After a restart every pending group is sent again under the same key, with the same calls in the
same order: the delivery layer's operations journal wrote the signed transactions down before
broadcasting them, so it watches those (sending the same bytes again if the node lost them) instead
of signing new ones, and returns the first outcome. Whatever moment the kill hit (before the group
was formed, before it was sent, after it was sent, after it was mined but before it was recorded),
each accepted relay goes on chain once and is recorded as relayed. (The member's signed nonce makes
a second copy revert in any case; the journal is what keeps the first one from being recorded as
failed, or never sent.)

The HTTP request that brought a redemption waits for its outcome (:meth:`Relayer.relay`); the
background thread (:meth:`Relayer.start`) picks up what no request waits for: groups left pending
by a killed process, relays another process stored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from ..client import LoyaltyClient
from ..delivery import TxResult
from ..delivery.sender import InFlight
from ..errors import LoyaltyChainError, NeverMinedError
from .relay_batch import Batch, Relayed, batches, outcomes
from .spans import Spans
from .store import Conn, Store
from .worker import RETRY_LATER

log = logging.getLogger("loyalty_chain.gateway")

MAX_GROUP = 500
"""Most relays in one group (a redemption takes ~100-150k gas, so a group spans a few blocks: the
outbox keeps one block's gas in flight and sends the rest as blocks are mined)."""
WAIT_S = 60.0
"""How long ``POST /v1/redemptions`` waits for its relay to be mined before answering 202 (relaying)."""
INTERVAL_S = 0.5
"""The background thread's pause between rounds when nothing is waiting."""
PIPELINE = 4
"""Most groups on their way (sent, not settled) at once."""
GROUP_GAP_S = 0.2
"""While a group is on its way, the next one is formed this long after it was sent at the
earliest: relays arriving meanwhile leave together (a fraction of a block: they still make the
next one)."""


class Relayer:
    """Groups stored relays and sends each group once (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        client: LoyaltyClient,
        max_group: int = MAX_GROUP,
        on_settled: Callable[[str, int], None] | None = None,
        spans: Spans | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.max_group = max_group
        self.on_settled = on_settled
        """Told ``("relayed" | "failed", count)`` after each group (metrics)."""
        self.spans = spans or Spans()
        """Where the rounds' time goes: forming groups, starting them, settling them (/metrics)."""
        self._sending = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._finishers = ThreadPoolExecutor(PIPELINE, "gateway-relayed")

    # -- the background thread --------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="gateway-relayer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        """A relay was stored that no request waits for: the background thread sends it now."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                with self._sending:
                    busy = self.run_once(linger=True)
            except Exception:  # a service loop: log and go on; the group is retried under its key
                log.exception("the relayer's round failed; retrying")
                busy = 0
            if not busy:
                self._wake.wait(INTERVAL_S)

    # -- one request's wait -----------------------------------------------------------------

    def relay(self, redemption_id: str, wait_s: float = WAIT_S) -> str:
        """Send the stored relay ``redemption_id`` in the next group and wait for it to settle; its
        status: ``relayed``, ``failed``, or ``relaying`` if it is not settled after ``wait_s``."""
        deadline = time.monotonic() + wait_s
        while True:
            status = self._status(redemption_id)
            if status != "relaying" or time.monotonic() >= deadline:
                return status
            busy = 0
            if self._sending.acquire(timeout=0.1):  # else the background thread is sending rounds
                try:
                    busy = self.run_once()
                finally:
                    self._sending.release()
            if not busy:  # another thread or process has it (or the chain is slow): look again shortly
                time.sleep(0.05)

    def _status(self, redemption_id: str) -> str:
        (status,) = self.store.query_one("SELECT status FROM redemptions WHERE id = ?", (redemption_id,))
        return str(status)

    # -- rounds -----------------------------------------------------------------------------

    def run_once(self, *, linger: bool = False) -> int:
        """Group the stored relays and send every pending group, each settled by a finisher thread
        once mined; the number of relays settled. With ``linger`` (the background thread) it goes
        on while relays keep arriving, until nothing is pending or on its way."""
        settled = 0
        in_flight: dict[int, Future[int]] = {}
        skipped: set[int] = set()  # not on its way this round (retried under the same key next round)
        last_start = 0.0
        try:
            while not self._stop.is_set():
                settled += _collect(in_flight, FIRST_COMPLETED, timeout=0)
                if len(in_flight) >= PIPELINE:
                    settled += _collect(in_flight, FIRST_COMPLETED)
                    continue
                gap = GROUP_GAP_S - (time.monotonic() - last_start)
                if in_flight and gap > 0:  # let the relays arriving now leave together
                    settled += _collect(in_flight, FIRST_COMPLETED, timeout=gap)
                    continue
                if linger or not last_start:
                    with self.spans.stage("relay.form"):
                        self._form_groups()
                group_id = self._next_group(set(in_flight) | skipped)
                if group_id is None:
                    if not in_flight or not linger:
                        break
                    settled += _collect(in_flight, FIRST_COMPLETED, timeout=GROUP_GAP_S)
                    continue
                with self.spans.stage("relay.start"):
                    future = self._start(group_id)
                last_start = time.monotonic()
                if future is None:
                    skipped.add(group_id)
                else:
                    in_flight[group_id] = future
        finally:
            while in_flight:
                settled += _collect(in_flight, ALL_COMPLETED)
        return settled

    def _next_group(self, busy: set[int]) -> int | None:
        for (group_id,) in self.store.query(
            "SELECT id FROM relay_groups WHERE state = 'pending' ORDER BY id"
        ):
            if int(group_id) not in busy:
                return int(group_id)
        return None

    def _form_groups(self) -> None:
        if not self.store.query("SELECT 1 FROM relays WHERE group_id IS NULL LIMIT 1"):
            return
        with self.store.transaction() as conn:
            while True:
                ids = [
                    r
                    for (r,) in conn.execute(
                        "SELECT redemption_id FROM relays WHERE group_id IS NULL"
                        " ORDER BY redemption_id LIMIT ?",
                        (self.max_group,),
                    )
                ]
                if not ids:
                    break
                (group_id,) = conn.execute(
                    "INSERT INTO relay_groups (state, created) VALUES ('pending', ?) RETURNING id",
                    (time.time(),),
                ).fetchone()
                conn.executemany(
                    "UPDATE relays SET group_id = ? WHERE redemption_id = ?", [(group_id, r) for r in ids]
                )

    def _start(self, group_id: int) -> Future[int] | None:
        """Sign, write down and broadcast the group's transactions under the sender lock (its state
        looked at again under it) and leave the receipts to a finisher thread; None if it is not
        on its way (settled already, or to be retried under its key)."""
        rows = self.store.query(
            "SELECT redemption_id, calldata, gas FROM relays WHERE group_id = ? ORDER BY redemption_id",
            (group_id,),
        )
        ids = [str(r) for r, _, _ in rows]
        max_gas = self.client.sender.block_gas_limit() // 2
        catalog = str(self.client.catalog.address)
        plan = batches(catalog, [(str(d), int(g)) for _, d, g in rows], max_gas)
        key = f"gateway:{self.store.store_id}:relay-batches:{group_id}"
        with self.store.write_lock():
            (state,) = self.store.query_one("SELECT state FROM relay_groups WHERE id = ?", (group_id,))
            if state != "pending":
                return None
            try:
                started = self.client.sender.start_txs([b.tx for b in plan], key=key)
            except RETRY_LATER as exc:
                log.warning("relay group %s not sent yet (%s); retried under the same key", group_id, exc)
                return None
            except LoyaltyChainError as exc:  # refused before anything was signed
                self._record(group_id, ids, plan, [exc] * len(plan))
                return None
        return self._finishers.submit(self._finish, group_id, ids, plan, started)

    def _finish(self, group_id: int, ids: list[str], plan: list[Batch], started: InFlight) -> int:
        try:
            sent: list[TxResult | Exception] = list(self.client.sender.finish_many(started))
        except RETRY_LATER as exc:
            log.warning("relay group %s not settled yet (%s); retried under the same key", group_id, exc)
            return 0
        except LoyaltyChainError as exc:
            sent = [exc] * len(plan)
        return self._record(group_id, ids, plan, sent)

    def _record(
        self, group_id: int, ids: list[str], plan: list[Batch], sent: list[TxResult | Exception]
    ) -> int:
        each: list[Relayed | Exception] = []
        for batch, result in zip(plan, sent, strict=True):
            each.extend(outcomes(result, batch.size, self.client.decoder, batch.target))
        with self.spans.stage("relay.settle"):
            return self._settle(group_id, ids, each)

    def _settle(self, group_id: int, ids: list[str], each: list[Relayed | Exception]) -> int:
        """Record each relay as relayed or failed; one whose transaction was never mined (another
        transaction took its nonce: nothing happened, the member's nonce is unspent) waits again for
        a later group. The number recorded."""
        counts = {"relayed": 0, "failed": 0}
        with self.store.transaction() as conn:
            (state,) = conn.execute("SELECT state FROM relay_groups WHERE id = ?", (group_id,)).fetchone()
            if state != "pending":
                return 0  # another process settled it (it sent it again under the same key)
            for rid, outcome in zip(ids, each, strict=True):
                if isinstance(outcome, Relayed):
                    settle(
                        conn,
                        rid,
                        "relayed",
                        outcome.tx_hash,
                        outcome.redemption_id,
                        outcome.points_burned,
                        outcome.gas,
                    )
                    counts["relayed"] += 1
                elif isinstance(outcome, NeverMinedError):
                    log.warning("relay %s (group %s): %s; it waits again", rid, group_id, outcome)
                    conn.execute("UPDATE relays SET group_id = NULL WHERE redemption_id = ?", (rid,))
                else:
                    settle(conn, rid, "failed", getattr(outcome, "tx_hash", None), error=str(outcome))
                    counts["failed"] += 1
            conn.execute("UPDATE relay_groups SET state = 'settled' WHERE id = ?", (group_id,))
        if self.on_settled:
            for status, n in counts.items():
                if n:
                    self.on_settled(status, n)
        return counts["relayed"] + counts["failed"]


def _collect(in_flight: dict[int, Future[int]], when: str, timeout: float | None = None) -> int:
    """Wait (at most ``timeout``) for groups on their way, as ``when`` says; the relays settled by
    those that finished, which leave ``in_flight``."""
    if not in_flight:
        return 0
    done, _ = wait(list(in_flight.values()), timeout=timeout, return_when=when)
    settled = 0
    for group_id, future in list(in_flight.items()):
        if future in done:
            del in_flight[group_id]
            settled += future.result()
    return settled


def settle(
    conn: Conn,
    rid: str,
    status: str,
    tx_hash: str | None = None,
    onchain_id: int | None = None,
    burned: int | None = None,
    gas: int | None = None,
    error: str | None = None,
) -> None:
    """Record a redemption's outcome and queue its webhook, in the caller's transaction."""
    conn.execute(
        "UPDATE redemptions SET status = ?, tx_hash = ?, redemption_id = ?, points_burned = ?,"
        " gas = COALESCE(?, gas), error = ? WHERE id = ?",
        (status, tx_hash, onchain_id, burned, gas, error, rid),
    )
    Store.enqueue_webhook(conn, f"redemption.{status}", {"id": rid, "tx_hash": tx_hash, "error": error})
