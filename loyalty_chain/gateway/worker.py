"""The issuing worker: accepted events' grants → batched issuances through the delivery layer.

Exactly once, even across ``kill -9``: grants are assigned to a batch in one committed transaction
*before* anything is sent, and each batch is sent with the idempotency key
``gateway:<store id>:batch:<batch id>``. After a restart a pending batch is sent again under the
same key, and the delivery layer's operations journal returns the first outcome instead of minting
twice (it wrote the signed transactions down before broadcasting them).

A batch is up to ``txs_per_batch`` issueBatch transactions of ``batch_size`` grants each (the split
is stored with the batch, so a restart with other options sends it the same way), signed and sent
together: they share blocks instead of waiting for each other's receipts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..client import MAX_BATCH, LoyaltyClient
from ..delivery import TxResult
from ..errors import (
    BudgetExceededError,
    ChainError,
    FeeCapError,
    LoyaltyChainError,
    OutcomeUnknownError,
    PartialBatchError,
)
from .store import Conn, Store

log = logging.getLogger("loyalty_chain.gateway")

RETRY_LATER = (OutcomeUnknownError, ChainError, FeeCapError, BudgetExceededError)
"""Errors after which the same batch is sent again (same key) on the next round, not failed."""


@dataclass(frozen=True)
class WorkerOptions:
    batch_size: int = 500
    """Most grants in one issueBatch transaction (at most client.MAX_BATCH)."""
    txs_per_batch: int = 4
    """Most transactions one batch sends together (≥ 1)."""
    interval_s: float = 0.2
    """Pause between rounds when nothing is waiting."""


class Worker:
    """Forms batches from pending grants and sends them, one round at a time."""

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
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="gateway-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

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
        """Batch what is pending and send every unsent batch; the number of grants issued."""
        self._form_batches()
        issued = 0
        for batch_id, reason, chunk in self.store.query(
            "SELECT id, reason, chunk FROM batches WHERE state = 'pending' ORDER BY id"
        ):
            if self._stop.is_set():
                break
            issued += self._send(int(batch_id), str(reason), int(chunk))
        return issued

    def _form_batches(self) -> None:
        chunk = max(1, min(self.options.batch_size, MAX_BATCH))
        size = chunk * max(1, self.options.txs_per_batch)
        with self.store.transaction() as conn:
            reasons = [
                r for (r,) in conn.execute("SELECT DISTINCT reason FROM grants WHERE status = 'pending'")
            ]
            for reason in reasons:
                while True:
                    ids = [
                        i
                        for (i,) in conn.execute(
                            "SELECT id FROM grants WHERE status = 'pending' AND reason = ?"
                            " ORDER BY id LIMIT ?",
                            (reason, size),
                        )
                    ]
                    if not ids:
                        break
                    (batch_id,) = conn.execute(
                        "INSERT INTO batches (reason, state, created, chunk) VALUES (?, 'pending', ?, ?)"
                        " RETURNING id",
                        (reason, time.time(), min(chunk, len(ids))),
                    ).fetchone()
                    conn.executemany(
                        "UPDATE grants SET status = 'batched', batch_id = ? WHERE id = ?",
                        [(batch_id, i) for i in ids],
                    )

    def _send(self, batch_id: int, reason: str, chunk: int) -> int:
        rows = self.store.query(
            "SELECT id, member, points FROM grants WHERE batch_id = ? ORDER BY id", (batch_id,)
        )
        ids = [int(i) for i, _, _ in rows]
        recipients = [(str(m), int(p)) for _, m, p in rows]
        key = f"gateway:{self.store.store_id}:batch:{batch_id}"
        # Under the sender lock (every process's, on PostgreSQL) the batch is looked at again and
        # settled before the lock is let go: another process never sends a batch this one issued.
        with self.store.write_lock():
            (state,) = self.store.query_one("SELECT state FROM batches WHERE id = ?", (batch_id,))
            if state != "pending":
                return 0
            try:
                outcomes: list[TxResult | Exception] = list(
                    self.client.issue_many(recipients, reason, batch_size=chunk, key=key)
                )
            except PartialBatchError as exc:
                outcomes = list(exc.results)
            except RETRY_LATER as exc:
                log.warning("batch %s not settled yet (%s); it is retried under the same key", batch_id, exc)
                return 0
            except LoyaltyChainError as exc:
                outcomes = [exc] * -(-len(ids) // chunk)
            issued = self._settle(batch_id, ids, chunk, outcomes)
        if self.on_issued and issued:
            self.on_issued(issued)
        return issued

    def _settle(self, batch_id: int, ids: list[int], chunk: int, outcomes: list[TxResult | Exception]) -> int:
        """Record each transaction's grants as issued (its hash) or failed (why); then the events."""
        issued, errors = 0, []
        with self.store.transaction() as conn:
            for n, outcome in enumerate(outcomes):
                part = ids[n * chunk : (n + 1) * chunk]
                if isinstance(outcome, TxResult):
                    conn.executemany(
                        "UPDATE grants SET status = 'issued', tx_hash = ? WHERE id = ?",
                        [(outcome.tx_hash, i) for i in part],
                    )
                    issued += len(part)
                else:
                    log.error("batch %s, transaction %s failed: %s", batch_id, n + 1, outcome)
                    errors.append(str(outcome))
                    conn.executemany("UPDATE grants SET status = 'failed' WHERE id = ?", [(i,) for i in part])
            first = next((o.tx_hash for o in outcomes if isinstance(o, TxResult)), None)
            conn.execute(
                "UPDATE batches SET state = ?, tx_hash = ?, error = ? WHERE id = ?",
                ("failed" if errors else "issued", first, errors[0] if errors else None, batch_id),
            )
            self._settle_events(conn, batch_id, errors[0] if errors else None)
        return issued

    @staticmethod
    def _settle_events(conn: Conn, batch_id: int, error: str | None) -> None:
        """Each event with grants in the batch: failed if one of its grants failed, issued once all
        are issued (a webhook either way); otherwise it waits for its other batches."""
        events = [
            e for (e,) in conn.execute("SELECT DISTINCT event_id FROM grants WHERE batch_id = ?", (batch_id,))
        ]
        for event_id in events:
            counts = dict(
                conn.execute(
                    "SELECT status, COUNT(*) FROM grants WHERE event_id = ? GROUP BY status", (event_id,)
                ).fetchall()
            )
            if counts.get("failed"):
                outcome = "failed"
                conn.execute("UPDATE events SET status = 'failed', why = ? WHERE id = ?", (error, event_id))
            elif set(counts) == {"issued"}:
                outcome = "issued"
                conn.execute("UPDATE events SET status = 'issued' WHERE id = ?", (event_id,))
            else:
                continue
            row = conn.execute("SELECT member, points, why FROM events WHERE id = ?", (event_id,)).fetchone()
            hashes = [
                h
                for (h,) in conn.execute(
                    "SELECT DISTINCT tx_hash FROM grants WHERE event_id = ? AND tx_hash IS NOT NULL",
                    (event_id,),
                )
            ]
            Store.enqueue_webhook(
                conn,
                f"event.{outcome}",
                {"id": event_id, "member": row[0], "points": row[1], "tx_hashes": hashes, "why": row[2]},
            )
