"""Roll-ups of the point transfers, kept by the indexer so a report reads what is new, not everything.

Four tables, undone with the events they summarise on a reorg (:meth:`.store.EventStore.rollback_to`):

* ``wallet_days(wallet, day, n)``: the point transfers a wallet *acted* in on a UTC day (``ts // 86400``):
  the receiver of a mint, else the sender (a P2P transfer, a redemption's burn, a holder's burn). What
  cohorts, per-period active wallets and active 30/90 days count.
* ``balances(wallet, balance)``: every wallet's non-zero point balance at the cursor, exact: an SQLite integer
  when it fits in 64 bits, else decimal text (SQLite's ``+`` would silently turn an overflow into a
  float, so the sums are done here in Python).
* ``earned(wallet, total, first_ts, mints)``: every wallet's points minted to it (exact, as balances),
  its first mint's time and its mints: the all-time top earners, and the time from earn to redeem.
* ``point_totals(key, value)``: the all-time sums of the flows (``minted``, ``burned``, ``p2p_count``,
  ``p2p_volume``), exact.

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
    "CREATE TABLE IF NOT EXISTS earned(wallet TEXT PRIMARY KEY, total, first_ts INTEGER, mints INTEGER)"
    " WITHOUT ROWID",
    # the top earners, the largest first, ties by address (decimal text, beyond 64 bits, comes first)
    "CREATE INDEX IF NOT EXISTS earned_by_total ON earned(total DESC, wallet)",
    "CREATE TABLE IF NOT EXISTS point_totals(key TEXT PRIMARY KEY, value) WITHOUT ROWID",
)

TOTALS = ("minted", "burned", "p2p_count", "p2p_volume")
"""The keys of ``point_totals``."""

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

_PAIRS_SQL = f"""SELECT "from", "to", SUM(value), MIN(ts), COUNT(*) FROM {_T} WHERE block >= ?
    GROUP BY "from", "to" """
"""The transfers of blocks ``?`` on, summed per (sender, receiver): one pass gives the balances, the
``earned`` and the ``point_totals`` changes (a program's transfers are mostly mints: about a group a
wallet)."""

_ROWS_SQL = f'SELECT "from", "to", value, ts, 1 FROM {_T} WHERE block >= ?'
"""The same, a row a transfer (amounts beyond 64 bits: summed in Python)."""

Earned = dict[str, tuple[int, int, int]]
"""wallet → (points minted to it, its first mint's time, mints): a change to ``earned``."""


def create(conn: sqlite3.Connection) -> None:
    """The roll-up tables (inside the caller's transaction)."""
    for sql in TABLES:
        conn.execute(sql)


def clear(conn: sqlite3.Connection) -> None:
    """Empty the roll-up tables (to build them again from the events)."""
    for table in ("wallet_days", "balances", "earned", "point_totals"):
        conn.execute(f"DELETE FROM {table}")


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
    groups: list[Any] = []
    if not exact:
        try:
            groups = conn.execute(_PAIRS_SQL, (start,)).fetchall()
        except sqlite3.OperationalError as exc:  # "integer overflow": a sum beyond 64 bits
            if "overflow" not in str(exc):
                raise
            exact = True
    if exact:
        groups = conn.execute(_ROWS_SQL, (start,)).fetchall()
    deltas, earned, totals = _fold(groups, 1)
    _add_balances(conn, deltas)
    _add_earned(conn, earned)
    _add_totals(conn, totals)


def _fold(groups: Iterable[Sequence[Any]], sign: int) -> tuple[dict[str, int], Earned, dict[str, int]]:
    """Balance changes, ``earned`` changes and ``point_totals`` changes of transfers grouped as
    ``(from, to, amount, first ts, count)`` (a group may be one transfer), added (``sign`` 1) or taken
    away (-1), exactly."""
    deltas: defaultdict[str, int] = defaultdict(int)
    earned: dict[str, tuple[int, int, int]] = {}
    totals = dict.fromkeys(TOTALS, 0)
    for sender, receiver, raw, ts, count in groups:
        value, count = int(raw) * sign, int(count) * sign
        if sender != ZERO:
            deltas[sender] -= value
        if receiver != ZERO:
            deltas[receiver] += value
        if sender == ZERO:
            totals["minted"] += value
            total, first, mints = earned.get(receiver, (0, int(ts), 0))
            earned[receiver] = (total + value, min(first, int(ts)), mints + count)
        if receiver == ZERO:
            totals["burned"] += value
        if sender != ZERO and receiver != ZERO:
            totals["p2p_count"] += count
            totals["p2p_volume"] += value
    return deltas, earned, totals


def apply(conn: sqlite3.Connection, columns: Sequence[str], rows: Iterable[Sequence[Any]], sign: int) -> None:
    """Add (``sign`` 1) or take away (``sign`` -1) point transfer rows (as stored, ``columns`` naming
    them) from the roll-ups; inside the caller's transaction. Taking away is for the newest rows (a
    reorg's): a wallet's first mint stays unless all its mints go."""
    ts_i, from_i, to_i, value_i = (columns.index(c) for c in ("ts", "from", "to", "value"))
    rows = list(rows)
    days: Counter[tuple[str, int]] = Counter()
    for row in rows:
        days[(actor(row[from_i], row[to_i]), int(row[ts_i]) // DAY)] += sign
    if not days:
        return
    conn.executemany(
        "INSERT INTO wallet_days VALUES (?, ?, ?) ON CONFLICT(wallet, day) DO UPDATE SET n = n + excluded.n",
        [(w, d, n) for (w, d), n in sorted(days.items())],
    )
    if sign < 0:
        conn.executemany("DELETE FROM wallet_days WHERE wallet = ? AND day = ? AND n <= 0", sorted(days))
    deltas, earned, totals = _fold(((r[from_i], r[to_i], r[value_i], r[ts_i], 1) for r in rows), sign)
    _add_balances(conn, deltas)
    _add_earned(conn, earned)
    _add_totals(conn, totals)


def _add_balances(conn: sqlite3.Connection, deltas: dict[str, int]) -> None:
    """Add ``deltas`` to the stored balances, written in key order (sequential in the b-tree)."""
    wallets = sorted(deltas)
    current = balances_of(conn, wallets)
    after = [(w, current.get(w, 0) + deltas[w]) for w in wallets]
    conn.executemany("INSERT OR REPLACE INTO balances VALUES (?, ?)", [(w, stored(b)) for w, b in after if b])
    conn.executemany(
        "DELETE FROM balances WHERE wallet = ?", [(w,) for w, b in after if not b and w in current]
    )


def _add_earned(conn: sqlite3.Connection, changes: Earned) -> None:
    """Add ``changes`` to ``earned`` (a row whose mints fall to 0 goes), in key order."""
    wallets = sorted(changes)
    sql = "SELECT wallet, total, first_ts, mints FROM earned WHERE wallet IN ({})"
    current = _rows_of(conn, sql, wallets)
    write, drop = [], []
    for wallet in wallets:
        total, first, mints = changes[wallet]
        old = current.get(wallet)
        if old is not None:
            total, mints = total + int(old[0]), mints + int(old[2])
            first = min(first, int(old[1])) if changes[wallet][2] > 0 else int(old[1])
        if mints > 0:
            write.append((wallet, stored(total), first, mints))
        elif old is not None:
            drop.append((wallet,))
    conn.executemany("INSERT OR REPLACE INTO earned VALUES (?, ?, ?, ?)", write)
    conn.executemany("DELETE FROM earned WHERE wallet = ?", drop)


def _add_totals(conn: sqlite3.Connection, changes: dict[str, int]) -> None:
    current = totals_of(conn)
    conn.executemany(
        "INSERT OR REPLACE INTO point_totals VALUES (?, ?)",
        [(key, stored(current[key] + changes.get(key, 0))) for key in TOTALS],
    )


def totals_of(conn: sqlite3.Connection) -> dict[str, int]:
    """The all-time flows of ``point_totals`` (0 for a key not there yet)."""
    found = {str(k): int(v) for k, v in conn.execute("SELECT key, value FROM point_totals")}
    return {key: found.get(key, 0) for key in TOTALS}


def _rows_of(conn: sqlite3.Connection, sql: str, keys: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """``sql`` (``… WHERE key IN ({})``, the key first) for ``keys``, in chunks: key → the other columns."""
    out: dict[str, tuple[Any, ...]] = {}
    table = sql.split(" FROM ")[1].split()[0]
    if not keys or conn.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})").fetchone()[0]:
        return out  # a first index: nothing to look up
    for i in range(0, len(keys), _IN_CHUNK):
        chunk = keys[i : i + _IN_CHUNK]
        for key, *rest in conn.execute(sql.format(",".join("?" * len(chunk))), chunk):
            out[str(key)] = tuple(rest)
    return out


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
