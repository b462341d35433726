"""The gateway's durable state behind one interface: events, issuances, batches, redemptions, API keys
and webhooks waiting to be delivered.

``open_store("sqlite:///path")`` (the default) gives a SQLite file in WAL mode with ``synchronous =
FULL``: what a call wrote is on disk when it returns, so an event answered 202 survives ``kill -9``.
One connection serves every thread, behind a lock; writes that must be atomic run in ``BEGIN
IMMEDIATE`` transactions. (PostgreSQL, for several gateway processes sharing the work, is not done yet:
its URL is refused with that said.)
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..errors import InputError

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL,
    created REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, member TEXT NOT NULL, occurred REAL NOT NULL,
    body TEXT NOT NULL, status TEXT NOT NULL, why TEXT, points INTEGER NOT NULL DEFAULT 0,
    received REAL NOT NULL, answer TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, member TEXT NOT NULL,
    points INTEGER NOT NULL, reason TEXT NOT NULL, kind TEXT NOT NULL, occurred REAL NOT NULL,
    batch_id INTEGER, status TEXT NOT NULL DEFAULT 'pending', tx_hash TEXT
);
CREATE INDEX IF NOT EXISTS grants_member ON grants (member, kind, occurred);
CREATE INDEX IF NOT EXISTS grants_status ON grants (status, reason);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT, reason TEXT NOT NULL, state TEXT NOT NULL,
    created REAL NOT NULL, tx_hash TEXT, error TEXT
);
CREATE TABLE IF NOT EXISTS referrals (
    referee TEXT PRIMARY KEY, referrer TEXT NOT NULL, event_id TEXT NOT NULL,
    rewarded INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS redemptions (
    id TEXT PRIMARY KEY, member TEXT NOT NULL, perk_id INTEGER NOT NULL, quantity INTEGER NOT NULL,
    signature TEXT NOT NULL UNIQUE, status TEXT NOT NULL, created REAL NOT NULL, gas INTEGER,
    tx_hash TEXT, redemption_id INTEGER, points_burned INTEGER, error TEXT
);
CREATE INDEX IF NOT EXISTS redemptions_member ON redemptions (member, created);
CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT
);
"""


@dataclass(frozen=True)
class StoredEvent:
    id: str
    type: str
    member: str
    status: str
    why: str | None
    points: int
    answer: dict[str, Any]
    tx_hashes: tuple[str, ...]


class Store:
    """The gateway's SQLite database (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{path} is not a gateway database ({exc}); pass another --db") from None
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta VALUES ('store_id', ?)", (uuid.uuid4().hex,))
        self.store_id = str(self.query_one("SELECT value FROM meta WHERE key = 'store_id'")[0])
        """Names this database in idempotency keys, so two gateways never share one."""

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locked) transaction, committed durably when the block ends."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._conn.execute(sql, args).fetchall())

    def query_one(self, sql: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...]:
        rows = self.query(sql, args)
        if not rows:
            raise LookupError(sql)
        return rows[0]

    # -- events -----------------------------------------------------------------------------

    def accept_event(
        self,
        event_id: str,
        decide: Callable[[sqlite3.Connection], T],
        write: Callable[[sqlite3.Connection, T], None],
    ) -> tuple[bool, StoredEvent]:
        """Store an event once: ``decide`` reads what it needs and ``write`` records the result, in one
        transaction. Returns (new?, the event as stored); an id seen before is returned as it was."""
        with self.transaction() as conn:
            if conn.execute("SELECT 1 FROM events WHERE id = ?", (event_id,)).fetchone() is None:
                write(conn, decide(conn))
                new = True
            else:
                new = False
        found = self.event(event_id)
        assert found is not None
        return new, found

    def event(self, event_id: str) -> StoredEvent | None:
        rows = self.query(
            "SELECT id, type, member, status, why, points, answer FROM events WHERE id = ?", (event_id,)
        )
        if not rows:
            return None
        r = rows[0]
        hashes = tuple(
            str(h[0])
            for h in self.query(
                "SELECT DISTINCT tx_hash FROM grants WHERE event_id = ? AND tx_hash IS NOT NULL", (event_id,)
            )
        )
        return StoredEvent(
            str(r[0]), str(r[1]), str(r[2]), str(r[3]), r[4], int(r[5]), json.loads(r[6]), hashes
        )

    def counts(self) -> dict[str, int]:
        """Events per status and grants per status, for /metrics."""
        out: dict[str, int] = {}
        for status, n in self.query("SELECT status, COUNT(*) FROM events GROUP BY status"):
            out[f"events_{status}"] = int(n)
        for status, n in self.query("SELECT status, COUNT(*) FROM grants GROUP BY status"):
            out[f"grants_{status}"] = int(n)
        for state, n in self.query("SELECT state, COUNT(*) FROM webhooks GROUP BY state"):
            out[f"webhooks_{state}"] = int(n)
        for status, n in self.query("SELECT status, COUNT(*) FROM redemptions GROUP BY status"):
            out[f"redemptions_{status}"] = int(n)
        return out

    # -- webhooks ---------------------------------------------------------------------------

    @staticmethod
    def enqueue_webhook(conn: sqlite3.Connection, kind: str, payload: dict[str, Any]) -> None:
        """Queue a webhook inside the caller's transaction (so it exists exactly when the change does)."""
        body = {"type": kind, "created": int(time.time()), "data": payload}
        conn.execute(
            "INSERT INTO webhooks (type, payload, next_at) VALUES (?, ?, ?)",
            (kind, json.dumps(body, sort_keys=True), time.time()),
        )


def open_store(url: str) -> Store:
    """The store a ``--db`` URL names: ``sqlite:///relative/path`` or ``sqlite:////absolute/path``."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if not path:
            raise InputError(f"--db {url!r} names no file; write sqlite:///gateway.sqlite")
        return Store(Path(path))
    if url.startswith(("postgresql:", "postgres:")):
        raise InputError(
            f"--db {url!r}: PostgreSQL storage is not available yet; use sqlite:///PATH (one gateway process)"
        )
    raise InputError(f"--db {url!r} is not a database URL; write sqlite:///gateway.sqlite")
