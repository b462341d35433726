"""Roll-ups of the monthly retention cohorts, kept from ``wallet_days`` (:mod:`.rollup`) as it changes.

* ``wallet_months(wallet, month)``: every month (``year * 12 + month - 1``, UTC) a wallet acted in;
* ``cohort_sizes(start, n, wallets)``: how many wallets whose first month is ``start`` acted in month
  ``start + n`` (``n`` 0 is the cohort's size): a cohort report is a read of these few rows, and the
  wallets active per month are ``SUM(wallets)`` by ``start + n``.

Both change only for the wallets whose ``wallet_days`` changed (:func:`refresh`: their months are read
again, their old contributions to the cohorts taken out, the new ones put in), so new events cost work
in proportion to the wallets they touch, and a reorg's rollback is undone the same way. An empty
``wallet_months`` (a first index, an upgraded cache) is filled from all of ``wallet_days`` in SQL.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

DAY = 86_400

_IN_CHUNK = 500

TABLES = (
    "CREATE TABLE IF NOT EXISTS wallet_months(wallet TEXT, month INTEGER, PRIMARY KEY (wallet, month))"
    " WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS cohort_sizes(start INTEGER, n INTEGER, wallets INTEGER,"
    " PRIMARY KEY (start, n)) WITHOUT ROWID",
)

_MONTH = (
    f"(CAST(strftime('%Y', day * {DAY}, 'unixepoch') AS INTEGER) * 12"
    f" + CAST(strftime('%m', day * {DAY}, 'unixepoch') AS INTEGER) - 1)"
)
"""SQL: the month index of a ``wallet_days.day`` (as :func:`month_of_day`)."""


def create(conn: sqlite3.Connection) -> None:
    for sql in TABLES:
        conn.execute(sql)


def clear(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM wallet_months")
    conn.execute("DELETE FROM cohort_sizes")


def month_of_day(day: int) -> int:
    """``year * 12 + month - 1`` of a UTC day number (``ts // 86400``)."""
    when = datetime.fromtimestamp(day * DAY, UTC)
    return when.year * 12 + when.month - 1


def refresh(conn: sqlite3.Connection, wallets: Iterable[str]) -> None:
    """Bring both tables in line with ``wallet_days`` for ``wallets`` (inside the caller's transaction)."""
    if conn.execute("SELECT NOT EXISTS (SELECT 1 FROM wallet_months)").fetchone()[0]:
        _fill(conn)
        return
    keys = sorted(set(wallets))
    changes: Counter[tuple[int, int]] = Counter()
    for i in range(0, len(keys), _IN_CHUNK):
        chunk = keys[i : i + _IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        old = _months(
            conn.execute(f"SELECT wallet, month FROM wallet_months WHERE wallet IN ({marks})", chunk)
        )
        new = _months(
            (w, month_of_day(int(d)))
            for w, d in conn.execute(f"SELECT wallet, day FROM wallet_days WHERE wallet IN ({marks})", chunk)
        )
        for wallet in chunk:
            before, after = old.get(wallet, set()), new.get(wallet, set())
            if before == after:
                continue
            changes.subtract(_contribution(before))
            changes.update(_contribution(after))
            conn.executemany(
                "DELETE FROM wallet_months WHERE wallet = ? AND month = ?",
                [(wallet, m) for m in before - after],
            )
            conn.executemany("INSERT INTO wallet_months VALUES (?, ?)", [(wallet, m) for m in after - before])
    moved = sorted((key, n) for key, n in changes.items() if n)
    conn.executemany(
        """INSERT INTO cohort_sizes VALUES (?, ?, ?)
           ON CONFLICT(start, n) DO UPDATE SET wallets = wallets + excluded.wallets""",
        [(start, n, count) for (start, n), count in moved],
    )
    conn.executemany(
        "DELETE FROM cohort_sizes WHERE start = ? AND n = ? AND wallets <= 0", [key for key, _ in moved]
    )


def _months(rows: Iterable[Sequence[object]]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for wallet, month in rows:
        out.setdefault(str(wallet), set()).add(int(str(month)))
    return out


def _contribution(months: set[int]) -> Counter[tuple[int, int]]:
    if not months:
        return Counter()
    start = min(months)
    return Counter((start, m - start) for m in months)


def _fill(conn: sqlite3.Connection) -> None:
    """Both tables from all of ``wallet_days``, in SQL (``wallet_months`` is empty)."""
    conn.execute("DELETE FROM cohort_sizes")
    conn.execute(
        f"""INSERT INTO wallet_months SELECT DISTINCT wallet, {_MONTH} FROM wallet_days ORDER BY 1, 2"""
    )
    conn.execute(
        """INSERT INTO cohort_sizes
           SELECT f.first, m.month - f.first, COUNT(*) FROM wallet_months m
           JOIN (SELECT wallet, MIN(month) AS first FROM wallet_months GROUP BY wallet) f
             ON f.wallet = m.wallet
           GROUP BY 1, 2 ORDER BY 1, 2"""
    )
