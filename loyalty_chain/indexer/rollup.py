"""Roll-ups of the point transfers, kept by the indexer so a report reads what is new, not everything.

Two tables, written in the same SQLite transaction as the events they summarise (see
:meth:`.store.EventStore.append`) and undone with them on a reorg (:meth:`.store.EventStore.rollback_to`):

* ``wallet_days(wallet, day, n)``: the point transfers a wallet *acted* in on a UTC day (``ts // 86400``):
  the receiver of a mint, else the sender (a P2P transfer, a redemption's burn, a holder's burn). What
  cohorts, per-period active wallets and active 30/90 days count.
* ``balances(wallet, balance)``: every wallet's non-zero point balance at the cursor, exact: an SQLite integer
  when it fits in 64 bits, else decimal text (SQLite's ``+`` would silently turn an overflow into a
  float, so the sums are done here in Python).
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

POINTS_TRANSFER = "LoyaltyPoints_Transfer"
"""The event table that is rolled up."""

DAY = 86_400
ZERO = "0x" + "0" * 40
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_IN_CHUNK = 500
"""Wallets per ``IN (…)`` lookup (SQLite allows 999 parameters by default on old builds)."""

TABLES = (
    "CREATE TABLE IF NOT EXISTS wallet_days(wallet TEXT, day INTEGER, n INTEGER, PRIMARY KEY (wallet, day))",
    "CREATE INDEX IF NOT EXISTS wallet_days_by_day ON wallet_days(day)",
    "CREATE TABLE IF NOT EXISTS balances(wallet TEXT PRIMARY KEY, balance)",
)

POSITIVE = (
    "((typeof(balance) = 'integer' AND balance > 0) OR (typeof(balance) = 'text' AND balance NOT LIKE '-%'))"
)
"""SQL: the ``balances`` row is above zero (text only holds values beyond 64 bits, never zero)."""


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
        [(w, d, n) for (w, d), n in days.items()],
    )
    if sign < 0:
        conn.executemany("DELETE FROM wallet_days WHERE wallet = ? AND day = ? AND n <= 0", list(days))
    current = balances_of(conn, list(deltas))
    after = {w: current.get(w, 0) + d for w, d in deltas.items()}
    conn.executemany(
        "INSERT OR REPLACE INTO balances VALUES (?, ?)", [(w, stored(b)) for w, b in after.items() if b]
    )
    conn.executemany("DELETE FROM balances WHERE wallet = ?", [(w,) for w, b in after.items() if not b])


def balances_of(conn: sqlite3.Connection, wallets: Sequence[str]) -> dict[str, int]:
    """The stored balances of ``wallets`` (absent ones are left out)."""
    out: dict[str, int] = {}
    for i in range(0, len(wallets), _IN_CHUNK):
        chunk = wallets[i : i + _IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        for wallet, balance in conn.execute(
            f"SELECT wallet, balance FROM balances WHERE wallet IN ({marks})", chunk
        ):
            out[str(wallet)] = int(balance)
    return out
