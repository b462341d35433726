"""The airdrop journal: a SQLite file that lets a push airdrop stop anywhere and resume exactly.

Every batch transaction is written down *before* it is broadcast, with its signed raw bytes, its
hash and its nonce, and then moves through these states::

    signed ──► sent ──► confirmed ──► (final)   mined, status 1: its recipients are paid
       │         │ │ ▲        │
       │         │ │ └────────┘ reorged away: back to sent, the same bytes go out again
       │         │ └──► failed             mined, reverted: its recipients will be sent again
       └─────────┴────► dropped            never mined, and its nonce was used by another transaction

A batch can be signed more than once at its nonce (a fee bump): every version's hash and bytes are
kept, and whichever mines settles it. A confirmed batch keeps its block hash and is checked again
on every run until it is deep enough to be final, so a reorg cannot leave a recipient recorded as
paid who is not.

``signed`` and ``sent`` batches are *in flight*: on resume each is looked up on chain before
anything new is signed (see :func:`loyalty_chain.airdrop.resume.reconcile_journal`). A recipient is covered
by at most one batch that is in flight or confirmed; a trigger refuses a second one, so a bug
elsewhere cannot pay anybody twice.

A journal belongs to one CSV (its sha256), one kind of airdrop, one contract on one chain and one set
of options; opening it for anything else raises :class:`~loyalty_chain.errors.JournalMismatchError`
(another CSV) or :class:`~loyalty_chain.errors.InputError` (the rest). One process at a time holds it
(an exclusive ``flock``, released by the kernel even on ``kill -9``).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from .batches import JournalBatch, JournalEntry, JournalHeader, NewBatch, Outcome
from .journal_file import SCHEMA, check_header, connect, header_rows, lock_file

__all__ = [
    "Journal",
    "JournalBatch",
    "JournalEntry",
    "JournalHeader",
    "NewBatch",
    "Outcome",
    "default_journal_path",
]

IN_FLIGHT_STATES = ("signed", "sent")
"""States of a batch whose fate is not known yet."""

LIVE_STATES = ("signed", "sent", "confirmed")
"""States in which a batch still covers its recipients (may pay them, or did)."""


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def default_journal_path(csv_path: Path) -> Path:
    """``drop.csv`` → ``drop.journal.sqlite``, beside the CSV."""
    return csv_path.with_name(csv_path.stem + ".journal.sqlite")


class Journal:
    """An open journal file. Use :meth:`open` (creates or checks it) or :meth:`read_only`."""

    def __init__(self, path: Path, conn: sqlite3.Connection, lock: int | None) -> None:
        self.path = path
        self._conn = conn
        self._lock = lock

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, header: JournalHeader) -> Journal:
        """The journal at ``path``, created for ``header`` if missing, else checked against it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = lock_file(path)
        conn: sqlite3.Connection | None = None
        try:
            conn = connect(path)
            journal = cls(path, conn, lock)
            try:
                with conn:
                    conn.executescript(SCHEMA)
            except sqlite3.DatabaseError as exc:
                raise InputError(
                    f"{path} is not an airdrop journal ({exc}); pass another --journal path"
                ) from None
            stored = journal._meta()
            if not stored:
                journal._write_header(header)
            else:
                check_header(path, stored, header)
        except BaseException:
            if conn is not None:
                conn.close()
            with contextlib.suppress(OSError):
                os.close(lock)
            raise
        return journal

    @classmethod
    def read_only(cls, path: Path, header: JournalHeader) -> Journal | None:
        """The existing journal at ``path`` checked against ``header``, or None; never writes (dry runs)."""
        if not path.is_file():
            return None
        conn = _read_only(path)
        journal = cls(path, conn, None)
        try:
            check_header(path, journal._meta(), header)
        except BaseException:
            conn.close()
            raise
        return journal

    @staticmethod
    def stored_meta(path: Path) -> dict[str, str]:
        """The ``meta`` rows of the journal at ``path``, read only; empty if there is no journal there."""
        if not path.is_file():
            return {}
        conn = _read_only(path)
        try:
            return dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError:
            return {}  # not a journal: opening it says so
        finally:
            conn.close()

    @staticmethod
    def set_aside(path: Path, tag: str) -> Path:
        """Rename the journal at ``path``, with SQLite's side files, to ``<stem>.stale-<tag><suffix>``
        (kept, never deleted); refused while another run holds it."""
        lock = lock_file(path)
        try:
            aside = path.with_name(f"{path.stem}.stale-{tag}{path.suffix}")
            for side in ("-journal", "-wal", "-shm"):
                extra = path.with_name(path.name + side)
                if extra.exists():
                    extra.replace(aside.with_name(aside.name + side))
            path.replace(aside)
        finally:
            os.close(lock)
        return aside

    def close(self) -> None:
        self._conn.close()
        if self._lock is not None:
            os.close(self._lock)  # releases the flock
            self._lock = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _meta(self) -> dict[str, str]:
        try:
            return dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise InputError(
                f"{self.path} is not an airdrop journal ({exc}); pass another --journal path"
            ) from None

    def _write_header(self, header: JournalHeader) -> None:
        with self._conn:
            self._conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", header_rows(header).items())

    # -- writing (each method is one SQLite transaction, committed before it returns) ----------

    def record_signed(self, batches: Sequence[NewBatch]) -> list[int]:
        """Write signed batches (state ``signed``) before they are broadcast; returns their ids."""
        now = time.time()
        ids: list[int] = []
        with self._conn:
            for batch in batches:
                cursor = self._conn.execute(
                    "INSERT INTO batches (state, sender, nonce, tx_hash, raw_tx, gas_limit, reason,"
                    " signed_block, signed_at, updated_at) VALUES ('signed', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (batch.sender, batch.nonce, batch.tx_hash, batch.raw_tx, batch.gas_limit,
                     batch.reason, batch.signed_block, now, now),
                )  # fmt: skip
                batch_id = int(cursor.lastrowid or 0)
                self._conn.execute(
                    "INSERT INTO batch_versions (batch_id, tx_hash, raw_tx) VALUES (?, ?, ?)",
                    (batch_id, batch.tx_hash, batch.raw_tx),
                )
                self._conn.executemany(
                    "INSERT INTO batch_recipients (batch_id, position, address, line, value)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [(batch_id, i, r.address, r.line, str(r.value)) for i, r in enumerate(batch.recipients)],
                )
                ids.append(batch_id)
        return ids

    def add_version(self, batch_id: int, tx_hash: str, raw_tx: bytes) -> None:
        """Another signed version of a batch at the same nonce (a fee bump), kept before it is sent."""
        with self._conn:
            self._conn.execute(
                "INSERT OR IGNORE INTO batch_versions (batch_id, tx_hash, raw_tx) VALUES (?, ?, ?)",
                (batch_id, tx_hash, raw_tx),
            )

    def versions(self, batch_id: int) -> list[tuple[str, bytes]]:
        """Every (hash, raw bytes) signed for a batch, the first one first."""
        rows = self._conn.execute(
            "SELECT tx_hash, raw_tx FROM batch_versions WHERE batch_id = ? ORDER BY rowid", (batch_id,)
        ).fetchall()
        return [(str(h), bytes(r)) for h, r in rows]

    def set_meta(self, key: str, value: str) -> None:
        with self._conn:
            self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def meta(self, key: str) -> str | None:
        return self._meta().get(key)

    def unconfirm(self, batch_id: int, why: str) -> None:
        """A confirmed batch whose block was reorged away: in flight again."""
        with self._conn:
            self._conn.execute(
                "UPDATE batches SET state = 'sent', block = NULL, block_hash = NULL, gas_used = NULL,"
                " error = ?, updated_at = ? WHERE id = ? AND state = 'confirmed' AND final = 0",
                (why, time.time(), batch_id),
            )

    def mark_final(self, batch_ids: Sequence[int]) -> None:
        with self._conn:
            self._conn.executemany(
                "UPDATE batches SET final = 1, updated_at = ? WHERE id = ? AND state = 'confirmed'",
                [(time.time(), i) for i in batch_ids],
            )

    def confirmed_not_final(self) -> list[tuple[int, int, str]]:
        """(id, block, block hash) of confirmed batches still shallow enough for a reorg."""
        rows = self._conn.execute(
            "SELECT id, block, COALESCE(block_hash, '') FROM batches WHERE state = 'confirmed' AND final = 0"
        )
        return [(int(i), int(b or 0), str(h)) for i, b, h in rows]

    def highest_block(self) -> int:
        row = self._conn.execute("SELECT MAX(block) FROM batches WHERE state = 'confirmed'").fetchone()
        return int(row[0] or 0)

    def mark_sent(self, batch_ids: Sequence[int]) -> None:
        """The node accepted these batches' transactions."""
        with self._conn:
            self._conn.executemany(
                "UPDATE batches SET state = 'sent', updated_at = ? WHERE id = ? AND state = 'signed'",
                [(time.time(), i) for i in batch_ids],
            )

    def note_error(self, batch_id: int, error: str) -> None:
        """Keep the last problem of a batch still in flight (e.g. the node refused to relay it)."""
        with self._conn:
            self._conn.execute(
                "UPDATE batches SET error = ?, updated_at = ? WHERE id = ?", (error, time.time(), batch_id)
            )

    def record_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        """Settle batches: confirmed (with block and gas), failed (with the error) or dropped."""
        with self._conn:
            for outcome in outcomes:
                if outcome.state not in ("confirmed", "failed", "dropped"):
                    raise ValueError(f"an outcome is confirmed, failed or dropped, not {outcome.state!r}")
                self._conn.execute(
                    "UPDATE batches SET state = ?, block = ?, gas_used = ?, error = ?, block_hash = ?,"
                    " tx_hash = COALESCE(?, tx_hash), updated_at = ?"
                    " WHERE id = ? AND state IN ('signed', 'sent')",
                    (outcome.state, outcome.block, outcome.gas_used, outcome.error, outcome.block_hash,
                     outcome.tx_hash, time.time(), outcome.batch_id),
                )  # fmt: skip

    # -- reading --------------------------------------------------------------------------------

    def batches(self, states: Sequence[str] | None = None) -> list[JournalBatch]:
        """Batches in the order they were signed, optionally only those in ``states``."""
        query = (
            "SELECT id, state, sender, nonce, tx_hash, raw_tx, gas_limit, reason, signed_block, block,"
            " gas_used, error FROM batches"
        )
        params: tuple[str, ...] = ()
        if states is not None:
            query += f" WHERE state IN ({', '.join('?' for _ in states)})"
            params = tuple(states)
        rows = self._conn.execute(query + " ORDER BY id", params).fetchall()
        entries: dict[int, list[JournalEntry]] = {row[0]: [] for row in rows}
        if rows:
            for batch_id, address, line, value in self._conn.execute(
                "SELECT batch_id, address, line, value FROM batch_recipients ORDER BY batch_id, position"
            ):
                if batch_id in entries:
                    entries[batch_id].append(JournalEntry(address, int(line), int(value)))
        return [
            JournalBatch(
                id=row[0],
                state=row[1],
                sender=row[2],
                nonce=row[3],
                tx_hash=row[4],
                raw_tx=bytes(row[5]),
                gas_limit=row[6],
                reason=row[7],
                signed_block=row[8],
                block=row[9],
                gas_used=row[10],
                error=row[11],
                recipients=tuple(entries[row[0]]),
            )
            for row in rows
        ]

    def in_flight(self) -> list[JournalBatch]:
        """Batches signed or sent whose fate is not known yet, in nonce order."""
        return sorted(self.batches(IN_FLIGHT_STATES), key=lambda b: (b.sender, b.nonce))

    def paid(self) -> dict[str, str]:
        """Address → hash of the confirmed transaction that paid it."""
        rows = self._conn.execute(
            "SELECT r.address, b.tx_hash FROM batch_recipients AS r JOIN batches AS b ON b.id = r.batch_id"
            " WHERE b.state = 'confirmed'"
        )
        return dict(rows.fetchall())

    def covered(self) -> set[str]:
        """Addresses in a batch that is in flight or confirmed: they must not be planned again."""
        rows = self._conn.execute(
            "SELECT r.address FROM batch_recipients AS r JOIN batches AS b ON b.id = r.batch_id"
            f" WHERE b.state IN ({', '.join('?' for _ in LIVE_STATES)})",
            LIVE_STATES,
        )
        return {row[0] for row in rows}

    def last_failures(self) -> dict[str, tuple[str, str]]:
        """Address → (tx hash, error) of its latest failed or dropped batch."""
        rows = self._conn.execute(
            "SELECT r.address, b.tx_hash, COALESCE(b.error, b.state) FROM batch_recipients AS r"
            " JOIN batches AS b ON b.id = r.batch_id WHERE b.state IN ('failed', 'dropped') ORDER BY b.id"
        )
        return {address: (tx_hash, error) for address, tx_hash, error in rows}
