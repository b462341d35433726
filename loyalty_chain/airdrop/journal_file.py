"""The airdrop journal's file: its tables, its lock, its connection, and the header that ties it
to one CSV, one contract on one chain and one set of options (see :mod:`.journal`)."""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path

from ..errors import InputError, JournalMismatchError
from .batches import JournalHeader

SCHEMA_VERSION = 2
"""Bumped whenever the tables change; an older journal is refused rather than misread."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    id           INTEGER PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('signed', 'sent', 'confirmed', 'failed', 'dropped')),
    sender       TEXT NOT NULL,
    nonce        INTEGER NOT NULL,
    tx_hash      TEXT NOT NULL UNIQUE,
    raw_tx       BLOB NOT NULL,
    gas_limit    INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    signed_block INTEGER NOT NULL,
    block        INTEGER,
    gas_used     INTEGER,
    error        TEXT,
    block_hash   TEXT,
    final        INTEGER NOT NULL DEFAULT 0,
    signed_at    REAL NOT NULL,
    updated_at   REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_recipients (
    batch_id INTEGER NOT NULL REFERENCES batches (id),
    position INTEGER NOT NULL,
    address  TEXT NOT NULL,
    line     INTEGER NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (batch_id, position)
);
CREATE TABLE IF NOT EXISTS batch_versions (
    batch_id INTEGER NOT NULL REFERENCES batches (id),
    tx_hash  TEXT NOT NULL UNIQUE,
    raw_tx   BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS batch_recipients_by_address ON batch_recipients (address);
CREATE TRIGGER IF NOT EXISTS one_live_batch_per_recipient
BEFORE INSERT ON batch_recipients
WHEN EXISTS (
    SELECT 1 FROM batch_recipients AS r JOIN batches AS b ON b.id = r.batch_id
    WHERE r.address = NEW.address AND r.batch_id != NEW.batch_id
      AND b.state IN ('signed', 'sent', 'confirmed')
)
BEGIN
    SELECT RAISE(ABORT, 'recipient is already covered by a batch in flight or confirmed');
END;
"""


def header_rows(header: JournalHeader) -> dict[str, str]:
    """The ``meta`` rows a new journal starts with."""
    return {
        "schema_version": str(SCHEMA_VERSION),
        "csv_digest": header.csv_digest,
        "kind": header.kind,
        "chain_id": str(header.chain_id),
        "contract": header.contract,
        "options": json.dumps(dict(header.options), sort_keys=True),
        "created_at": str(time.time()),
    }


def lock_file(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise InputError(
            f"journal {path} is in use by another airdrop run; wait for it to finish (or stop it)"
        ) from None
    return fd


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = FULL")  # a commit is on disk before the broadcast after it
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise InputError(f"{path} is not an airdrop journal ({exc}); pass another --journal path") from None
    return conn


def check_header(path: Path, stored: Mapping[str, str], header: JournalHeader) -> None:
    if stored.get("schema_version") != str(SCHEMA_VERSION):
        raise InputError(
            f"journal {path} has schema version {stored.get('schema_version')!r}, this version of "
            f"loyalty-chain writes {SCHEMA_VERSION}; finish it with the version that started it"
        )
    if stored["csv_digest"] != header.csv_digest:
        raise JournalMismatchError(str(path), stored["csv_digest"], header.csv_digest)
    expected = {
        "kind": header.kind,
        "chain_id": str(header.chain_id),
        "contract": header.contract,
        "options": json.dumps(dict(header.options), sort_keys=True),
    }
    for key, value in expected.items():
        if stored.get(key) != value:
            raise InputError(
                f"journal {path} was started with {key} {stored.get(key)}, not {value}; "
                "rerun with the original settings, or pass a new --journal"
            )
