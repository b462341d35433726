"""Exact sums over the cache, and the date range of a report as block bounds.

Amounts are SQLite integers unless a value did not fit (then the column holds decimal text, see
:mod:`loyalty_chain.indexer.store`): :class:`Reader` runs a query with SQLite's ``SUM`` and, when an
involved column holds text or the sum overflows 64 bits, runs it again with an exact Python
aggregate. Either way every amount a report shows is exact.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..indexer import EventStore, quote

ZERO = "0x" + "0" * 40
"""The zero address, as the cache stores addresses (lowercase)."""


class _BigSum:
    """``BIGSUM(x)``: the exact sum of integers and decimal text, returned as text."""

    def __init__(self) -> None:
        self.total = 0
        self.seen = False

    def step(self, value: Any) -> None:
        if value is not None:
            self.total += int(value)
            self.seen = True

    def finalize(self) -> str | None:
        return str(self.total) if self.seen else None


@dataclass(frozen=True)
class Window:
    """A report's date range, ``since <= ts <= until`` (unix seconds), as the blocks it covers."""

    since: int
    until: int
    first_block: int
    """The first stored block at or after ``since`` (or past the last, if none)."""
    last_block: int
    """The last stored block at or before ``until`` (-1 if none)."""
    from_start: bool = False
    """No stored block comes before the range: it starts where the cache does."""
    to_end: bool = False
    """No stored block comes after the range: it ends where the cache does, so the indexer's roll-ups
    (kept up to the cursor) hold its end state and, with :attr:`from_start`, its totals."""


class Reader:
    """Queries over one open cache."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.conn: sqlite3.Connection = store.conn
        self.conn.create_aggregate("BIGSUM", 1, _BigSum)  # type: ignore[arg-type]
        self._big = store.big_columns

    def has(self, table: str) -> bool:
        return table in self.store.specs

    def rows(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = (), *, sums: Sequence[str] = ()
    ) -> list[tuple[Any, ...]]:
        """Rows of ``sql``; ``sums`` names the ``table.column`` its SUMs read (to pick the exact path)."""
        if any(column in self._big for column in sums):
            return self._exact(sql, params)
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "integer overflow" not in str(exc):
                raise
            return self._exact(sql, params)

    def _exact(self, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql.replace("SUM(", "BIGSUM("), params).fetchall()

    def one(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = (), *, sums: Sequence[str] = ()
    ) -> tuple[Any, ...]:
        return self.rows(sql, params, sums=sums)[0]

    def window(self, since: int | None, until: int | None) -> Window:
        """The blocks of ``[since, until]``; open ends mean the first and the last stored block."""
        lo = since if since is not None else 0
        hi = until if until is not None else 2**62
        first = self.conn.execute("SELECT MIN(number) FROM blocks WHERE ts >= ?", (lo,)).fetchone()[0]
        last = self.conn.execute("SELECT MAX(number) FROM blocks WHERE ts <= ?", (hi,)).fetchone()[0]
        if until is None:
            stamp = self.conn.execute("SELECT MAX(ts) FROM blocks").fetchone()[0]
            hi = int(stamp) if stamp is not None else 0
        if since is None:
            stamp = self.conn.execute("SELECT MIN(ts) FROM blocks").fetchone()[0]
            lo = int(stamp) if stamp is not None else 0
        low, high = self.conn.execute("SELECT MIN(number), MAX(number) FROM blocks").fetchone()
        return Window(
            lo,
            hi,
            int(first) if first is not None else 2**62,
            int(last) if last is not None else -1,
            from_start=first is not None and first <= low,
            to_end=last is not None and last >= high,
        )

    def block_at(self, ts: int) -> int:
        """The last stored block at or before ``ts`` (-1 if none)."""
        value = self.conn.execute("SELECT MAX(number) FROM blocks WHERE ts <= ?", (ts,)).fetchone()[0]
        return int(value) if value is not None else -1


def t(name: str) -> str:
    """A table name, quoted."""
    return quote(name)


def as_int(value: Any) -> int:
    """A SUM's result (None for no rows, text from the exact path) as an int."""
    return 0 if value is None else int(value)


def text32(value: Any) -> str:
    """A ``bytes32`` text column ("0x…") as the short string it encodes (reasons, perk titles)."""
    raw = bytes.fromhex(str(value)[2:]) if value else b""
    return raw.rstrip(b"\0").decode("utf-8", errors="replace")
