"""The gateway's store in a SQLite file (the default; one gateway, whose issuing worker may run in a
process of its own).

WAL mode with ``synchronous = FULL``: what a call wrote is on disk when it returns, so an event
answered 202 survives ``kill -9``. One connection per process writes, behind a lock; write
transactions are ``BEGIN IMMEDIATE`` (SQLite's one writer, across processes too). Reads outside a
transaction go to reader connections of their own (a small pool, one per thread reading at the
moment): in WAL mode they see the last commit without waiting for the writer, whose group commit
holds its connection through an fsync (with one connection, every read of every request waited for
it). A read inside the thread's own transaction uses the writer's connection and sees its writes.
The sender lock is an ``flock`` on a file beside the database, so the processes of one gateway send
for its account one at a time.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import InputError
from .store import Conn, Store

SCHEMA = """
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
CREATE INDEX IF NOT EXISTS grants_batch ON grants (batch_id);
CREATE INDEX IF NOT EXISTS grants_event ON grants (event_id);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT, reason TEXT NOT NULL, state TEXT NOT NULL,
    created REAL NOT NULL, chunk INTEGER NOT NULL, tx_hash TEXT, error TEXT
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
CREATE INDEX IF NOT EXISTS redemptions_created ON redemptions (created);
CREATE TABLE IF NOT EXISTS relays (
    redemption_id TEXT PRIMARY KEY, target TEXT NOT NULL, calldata TEXT NOT NULL, gas INTEGER NOT NULL,
    group_id INTEGER
);
CREATE INDEX IF NOT EXISTS relays_group ON relays (group_id);
CREATE TABLE IF NOT EXISTS relay_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT, state TEXT NOT NULL, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS relay_gas (day REAL PRIMARY KEY, gas INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT
);
"""
"""The tables (store_postgres.py has the same in PostgreSQL's types: keep them in step)."""


class SqliteStore(Store):
    """The gateway's SQLite database (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.journal = path.with_name(path.name + ".operations.sqlite")
        """Beside the database: its keys name this store's batches."""
        self._sender_file = path.with_name(path.name + ".sender.lock")
        self.url = f"sqlite:///{path.resolve()}"
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__()
        self._lock = threading.RLock()
        self._sending = threading.Lock()
        self._writer: int | None = None
        """The thread in a write transaction (its reads use the writer's connection)."""
        self._idle: list[sqlite3.Connection] = []
        self._readers: list[sqlite3.Connection] = []
        try:
            self._conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{path} is not a gateway database ({exc}); pass another --db") from None
        self._init_meta()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            for reader in self._readers:
                reader.close()

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            outer, self._writer = self._writer, threading.get_ident()
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            finally:
                self._writer = outer
            self._conn.execute("COMMIT")

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self._writer == threading.get_ident():  # in this thread's transaction: see its writes
            with self._lock:
                return list(self._conn.execute(sql, args).fetchall())
        try:
            reader = self._idle.pop()  # atomic: no two threads get the same one
        except IndexError:
            reader = self._open_reader()
        try:
            return list(reader.execute(sql, args).fetchall())
        finally:
            self._idle.append(reader)

    def _open_reader(self) -> sqlite3.Connection:
        reader = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        with self._lock:
            self._readers.append(reader)
        return reader

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        with self._sending, self._sender_file.open("a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)  # released when the file is closed (or the process dies)
            yield
