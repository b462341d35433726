"""Roll-ups of the point transfers, kept by the indexer so a report reads what is new, not everything.

Two tables, undone with the events they summarise on a reorg (:meth:`.store.EventStore.rollback_to`):

* ``wallet_days(wallet, day, n)``: the point transfers a wallet *acted* in on a UTC day (``ts // 86400``):
  the receiver of a mint, else the sender (a P2P transfer, a redemption's burn, a holder's burn). What
  cohorts, per-period active wallets and active 30/90 days count.
* ``balances(wallet, balance)``: every wallet's non-zero point balance at the cursor, exact: an SQLite integer
  when it fits in 64 bits, else decimal text (SQLite's ``+`` would silently turn an overflow into a
  float, so the sums are done here in Python).

They are built in one pass over the transfers of the blocks from ``meta.rollups_from`` on
(:func:`settle`): per range as it is stored, or once at the end of a sync that defers them (a first
index: one grouped insert in key order instead of an upsert per wallet per range). Until then the
``rollups_from`` key says which transfers are not in them yet; opening the store settles them.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

POINTS_TRANSFER = "LoyaltyPoints_Transfer"
"""The event table that is rolled up."""

VALUE_COLUMN = f"{POINTS_TRANSFER}.value"
"""The ``big_columns`` entry of the transfers' amounts (decimal text beyond 64 bits)."""

PENDING = "rollups_from"
"""``meta`` key: the first block whose point transfers are not in the roll-ups yet (absent: none)."""

DAY = 86_400
ZERO = "0x" + "0" * 40
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_IN_CHUNK = 500
"""Wallets per ``IN (…)`` lookup (SQLite allows 999 parameters by default on old builds)."""

# WITHOUT ROWID: the rows live in the primary key's b-tree, not in a rowid table beside an index of it.
TABLES = (
    "CREATE TABLE IF NOT EXISTS wallet_days(wallet TEXT, day INTEGER, n INTEGER, PRIMARY KEY (wallet, day))"
    " WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS wallet_days_by_day ON wallet_days(day)",
    "CREATE TABLE IF NOT EXISTS balances(wallet TEXT PRIMARY KEY, balance) WITHOUT ROWID",
)

POSITIVE = (
    "((typeof(balance) = 'integer' AND balance > 0) OR (typeof(balance) = 'text' AND balance NOT LIKE '-%'))"
)
"""SQL: the ``balances`` row is above zero (text only holds values beyond 64 bits, never zero)."""

ACTOR = f"""CASE WHEN "from" = '{ZERO}' THEN "to" ELSE "from" END"""
"""SQL of :func:`actor` over a point transfer row."""

_T = f'"{POINTS_TRANSFER}"'

_DAYS_SQL = f"""INSERT INTO wallet_days(wallet, day, n)
    SELECT {ACTOR} AS wallet, ts / {DAY} AS day, COUNT(*) FROM {_T} WHERE block >= ?
    GROUP BY wallet, day ORDER BY wallet, day
    ON CONFLICT(wallet, day) DO UPDATE SET n = n + excluded.n"""

_DELTAS_SQL = f"""SELECT wallet, SUM(delta) FROM (
        SELECT "to" AS wallet, value AS delta FROM {_T} WHERE block >= :lo AND "to" != '{ZERO}'
        UNION ALL
        SELECT "from", -value FROM {_T} WHERE block >= :lo AND "from" != '{ZERO}'
    ) GROUP BY wallet"""


def create(conn: sqlite3.Connection) -> None:
    """The roll-up tables (inside the caller's transaction)."""
    for sql in TABLES:
        conn.execute(sql)


def stored(value: int) -> int | str:
    """A balance as stored: an integer when SQLite can hold it, else decimal text."""
    return value if INT64_MIN <= value <= INT64_MAX else str(value)


def actor(sender: str, receiver: str) -> str:
    """The wallet that acted in a point transfer (see the module's docstring)."""
    return receiver if sender == ZERO else sender


def settle(conn: sqlite3.Connection, start: int, exact: bool) -> None:
    """Add the point transfers of blocks ``start`` on to the roll-ups, in one pass each (inside the
    caller's transaction). ``exact``: amounts beyond 64 bits are stored as text, so the sums are done in
    Python; else SQLite sums them (and says so if a sum overflows: then Python does too)."""
    conn.execute(_DAYS_SQL, (start,))
    deltas: dict[str, int] = {}
    if not exact:
        try:
            deltas = {str(w): int(d) for w, d in conn.execute(_DELTAS_SQL, {"lo": start})}
        except sqlite3.OperationalError as exc:  # "integer overflow": a sum beyond 64 bits
            if "overflow" not in str(exc):
                raise
            exact = True
    if exact:
        sums: defaultdict[str, int] = defaultdict(int)
        for sender, receiver, value in conn.execute(
            f'SELECT "from", "to", value FROM {_T} WHERE block >= ?', (start,)
        ):
            if sender != ZERO:
                sums[sender] -= int(value)
            if receiver != ZERO:
                sums[receiver] += int(value)
        deltas = sums
    _add_balances(conn, deltas)


def apply(conn: sqlite3.Connection, columns: Sequence[str], rows: Iterable[Sequence[Any]], sign: int) -> None:
    """Add (``sign`` 1) or take away (``sign`` -1) point transfer rows (as stored, ``columns`` naming
    them) from the roll-ups; inside the caller's transaction."""
    ts_i, from_i, to_i, value_i = (columns.index(c) for c in ("ts", "from", "to", "value"))
    days: Counter[tuple[str, int]] = Counter()
    deltas: defaultdict[str, int] = defaultdict(int)
    for row in rows:
        sender, receiver, value = row[from_i], row[to_i], int(row[value_i]) * sign
        days[(actor(sender, receiver), int(row[ts_i]) // DAY)] += sign
        if sender != ZERO:
            deltas[sender] -= value
        if receiver != ZERO:
            deltas[receiver] += value
    if not days:
        return
    conn.executemany(
        "INSERT INTO wallet_days VALUES (?, ?, ?) ON CONFLICT(wallet, day) DO UPDATE SET n = n + excluded.n",
        [(w, d, n) for (w, d), n in sorted(days.items())],
    )
    if sign < 0:
        conn.executemany("DELETE FROM wallet_days WHERE wallet = ? AND day = ? AND n <= 0", sorted(days))
    _add_balances(conn, deltas)


def _add_balances(conn: sqlite3.Connection, deltas: dict[str, int]) -> None:
    """Add ``deltas`` to the stored balances, written in key order (sequential in the b-tree)."""
    wallets = sorted(deltas)
    current = balances_of(conn, wallets)
    after = [(w, current.get(w, 0) + deltas[w]) for w in wallets]
    conn.executemany("INSERT OR REPLACE INTO balances VALUES (?, ?)", [(w, stored(b)) for w, b in after if b])
    conn.executemany(
        "DELETE FROM balances WHERE wallet = ?", [(w,) for w, b in after if not b and w in current]
    )


def balances_of(conn: sqlite3.Connection, wallets: Sequence[str]) -> dict[str, int]:
    """The stored balances of ``wallets`` (absent ones are left out)."""
    out: dict[str, int] = {}
    if conn.execute("SELECT NOT EXISTS (SELECT 1 FROM balances)").fetchone()[0]:
        return out  # a first index: nothing to look up
    for i in range(0, len(wallets), _IN_CHUNK):
        chunk = wallets[i : i + _IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        for wallet, balance in conn.execute(
            f"SELECT wallet, balance FROM balances WHERE wallet IN ({marks})", chunk
        ):
            out[str(wallet)] = int(balance)
    return out
