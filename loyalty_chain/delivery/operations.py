"""The operations journal: what an idempotency key sent, so the same key never sends twice.

A local SQLite file (default ``~/.loyalty-chain/operations.sqlite``, or ``$LOYALTY_CHAIN_HOME``).
An operation is keyed by (idempotency key, chain id, sender). Its signed transactions are written
down *before* they are broadcast — every version of every nonce — so a retry with the same key,
even from another process after ``kill -9``, watches those transactions instead of signing new
ones, and returns the first outcome. A key used again for different calls is refused.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import IdempotencyKeyError, InputError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS operations (
    key       TEXT NOT NULL,
    chain_id  INTEGER NOT NULL,
    sender    TEXT NOT NULL,
    digest    TEXT NOT NULL,
    what      TEXT NOT NULL,
    size      INTEGER NOT NULL,
    state     TEXT NOT NULL CHECK (state IN ('pending', 'settled')),
    created   REAL NOT NULL,
    PRIMARY KEY (key, chain_id, sender)
);
CREATE TABLE IF NOT EXISTS versions (
    key       TEXT NOT NULL,
    chain_id  INTEGER NOT NULL,
    sender    TEXT NOT NULL,
    position  INTEGER NOT NULL,
    nonce     INTEGER NOT NULL,
    tx_hash   TEXT NOT NULL,
    raw       BLOB NOT NULL,
    PRIMARY KEY (key, chain_id, sender, tx_hash)
);
"""


def default_path() -> Path:
    home = os.environ.get("LOYALTY_CHAIN_HOME")
    return (Path(home) if home else Path.home() / ".loyalty-chain") / "operations.sqlite"


def digest_of(parts: Sequence[tuple[str | None, bytes, int]]) -> str:
    """What an operation asks for (target, calldata, value of each transaction), as one hash."""
    h = hashlib.sha256()
    for to, data, value in parts:
        h.update(f"{(to or '').lower()}|{value}|".encode() + data + b"\x00")
    return h.hexdigest()


@dataclass(frozen=True)
class StoredVersion:
    position: int
    nonce: int
    tx_hash: str
    raw: bytes


@dataclass(frozen=True)
class Operation:
    key: str
    digest: str
    what: str
    size: int
    state: str
    versions: tuple[StoredVersion, ...]


class OperationsJournal:
    """An open operations journal (one SQLite connection; writes are committed before returning)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # pipelined writes: one thread writes down, another settles
        try:
            self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._conn.execute("PRAGMA synchronous = FULL")  # on disk before the broadcast after it
            with self._conn:
                self._conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(
                f"{self.path} is not an operations journal ({exc}); move it away or set LOYALTY_CHAIN_HOME"
            ) from None

    def close(self) -> None:
        self._conn.close()

    def find(self, key: str, chain_id: int, sender: str) -> Operation | None:
        with self._lock:
            return self._find(key, chain_id, sender)

    def _find(self, key: str, chain_id: int, sender: str) -> Operation | None:
        row = self._conn.execute(
            "SELECT digest, what, size, state FROM operations WHERE key = ? AND chain_id = ? AND sender = ?",
            (key, chain_id, sender.lower()),
        ).fetchone()
        if row is None:
            return None
        versions = tuple(
            StoredVersion(int(p), int(n), str(h), bytes(r))
            for p, n, h, r in self._conn.execute(
                "SELECT position, nonce, tx_hash, raw FROM versions"
                " WHERE key = ? AND chain_id = ? AND sender = ? ORDER BY position, rowid",
                (key, chain_id, sender.lower()),
            )
        )
        return Operation(key, str(row[0]), str(row[1]), int(row[2]), str(row[3]), versions)

    def begin(
        self, key: str, chain_id: int, sender: str, digest: str, what: str, size: int
    ) -> Operation | None:
        """Record a new operation, or return the earlier one under this key (refused if it asked
        for something else)."""
        if not key or len(key) > 255:
            raise InputError(f"an idempotency key is 1..255 characters, got {len(key)}")
        earlier = self.find(key, chain_id, sender)
        if earlier is not None:
            if earlier.digest != digest:
                raise IdempotencyKeyError(key, earlier.what)
            return earlier
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT INTO operations (key, chain_id, sender, digest, what, size, state, created)"
                " VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                (key, chain_id, sender.lower(), digest, what, size, time.time()),
            )
        return None

    def add_versions(self, key: str, chain_id: int, sender: str, versions: Sequence[StoredVersion]) -> None:
        with self._lock, self._conn:
            self._conn.executemany(
                "INSERT OR IGNORE INTO versions (key, chain_id, sender, position, nonce, tx_hash, raw)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(key, chain_id, sender.lower(), v.position, v.nonce, v.tx_hash, v.raw) for v in versions],
            )

    def settle(self, key: str, chain_id: int, sender: str) -> None:
        with self._lock, self._conn:
            self._conn.execute(
                "UPDATE operations SET state = 'settled' WHERE key = ? AND chain_id = ? AND sender = ?",
                (key, chain_id, sender.lower()),
            )
