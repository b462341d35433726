"""The issuing worker: accepted events' grants → batched issuances through the delivery layer.

Exactly once, even across ``kill -9``: grants are assigned to a batch in one committed transaction
*before* anything is sent, and each batch is sent with the idempotency key
``gateway:<store id>:batch:<batch id>``. After a restart a pending batch is sent again under the
same key, and the delivery layer's operations journal returns the first outcome instead of minting
twice (it wrote the signed transactions down before broadcasting them).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..client import MAX_BATCH, LoyaltyClient
from ..errors import (
    BudgetExceededError,
    ChainError,
    FeeCapError,
    LoyaltyChainError,
    OutcomeUnknownError,
)
from .store import Conn, Store

log = logging.getLogger("loyalty_chain.gateway")

RETRY_LATER = (OutcomeUnknownError, ChainError, FeeCapError, BudgetExceededError)
"""Errors after which the same batch is sent again (same key) on the next round, not failed."""


@dataclass(frozen=True)
class WorkerOptions:
    batch_size: int = 500
    """Most grants in one batch (one issueBatch transaction; at most client.MAX_BATCH)."""
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
        for batch_id, reason in self.store.query(
            "SELECT id, reason FROM batches WHERE state = 'pending' ORDER BY id"
        ):
            if self._stop.is_set():
                break
            issued += self._send(int(batch_id), str(reason))
        return issued

    def _form_batches(self) -> None:
        size = max(1, min(self.options.batch_size, MAX_BATCH))
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
                        "INSERT INTO batches (reason, state, created) VALUES (?, 'pending', ?) RETURNING id",
                        (reason, time.time()),
                    ).fetchone()
                    conn.executemany(
                        "UPDATE grants SET status = 'batched', batch_id = ? WHERE id = ?",
                        [(batch_id, i) for i in ids],
                    )

    def _send(self, batch_id: int, reason: str) -> int:
        rows = self.store.query(
            "SELECT member, points FROM grants WHERE batch_id = ? ORDER BY id", (batch_id,)
        )
        recipients = [(str(m), int(p)) for m, p in rows]
        key = f"gateway:{self.store.store_id}:batch:{batch_id}"
        # Under the sender lock (every process's, on PostgreSQL) the batch is looked at again and
        # settled before the lock is let go: another process never sends a batch this one issued.
        with self.store.write_lock():
            (state,) = self.store.query_one("SELECT state FROM batches WHERE id = ?", (batch_id,))
            if state != "pending":
                return 0
            try:
                results = self.client.issue_many(recipients, reason, batch_size=MAX_BATCH, key=key)
            except RETRY_LATER as exc:
                log.warning("batch %s not settled yet (%s); it is retried under the same key", batch_id, exc)
                return 0
            except LoyaltyChainError as exc:
                self._fail(batch_id, str(exc))
                return 0
            tx_hash = results[0].tx_hash
            with self.store.transaction() as conn:
                conn.execute(
                    "UPDATE batches SET state = 'issued', tx_hash = ? WHERE id = ?", (tx_hash, batch_id)
                )
                conn.execute(
                    "UPDATE grants SET status = 'issued', tx_hash = ? WHERE batch_id = ?", (tx_hash, batch_id)
                )
                self._settle_events(conn, batch_id, "issued")
        if self.on_issued:
            self.on_issued(len(recipients))
        return len(recipients)

    def _fail(self, batch_id: int, error: str) -> None:
        log.error("batch %s failed: %s", batch_id, error)
        with self.store.transaction() as conn:
            conn.execute("UPDATE batches SET state = 'failed', error = ? WHERE id = ?", (error, batch_id))
            conn.execute("UPDATE grants SET status = 'failed' WHERE batch_id = ?", (batch_id,))
            self._settle_events(conn, batch_id, "failed", error)

    @staticmethod
    def _settle_events(conn: Conn, batch_id: int, outcome: str, error: str | None = None) -> None:
        events = [
            e for (e,) in conn.execute("SELECT DISTINCT event_id FROM grants WHERE batch_id = ?", (batch_id,))
        ]
        for event_id in events:
            if outcome == "failed":
                conn.execute("UPDATE events SET status = 'failed', why = ? WHERE id = ?", (error, event_id))
            else:
                open_ = conn.execute(
                    "SELECT COUNT(*) FROM grants WHERE event_id = ? AND status != 'issued'", (event_id,)
                ).fetchone()[0]
                if open_:
                    continue
                conn.execute("UPDATE events SET status = 'issued' WHERE id = ?", (event_id,))
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
