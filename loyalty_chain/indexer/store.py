"""The SQLite cache of one program's events: one table per event, the blocks seen, where indexing stopped.

Layout (created on first open, new event tables added whenever the ABIs gain events):

* ``meta(key, value)``: ``chain_id``, ``addresses`` (JSON), ``first_block``, ``cursor`` (the last block
  fully indexed), ``big_columns`` (integer columns with values too large for SQLite, kept as text);
* ``blocks(number, hash, ts)``: every block a stored log came from, and the last block of every range
  fetched, with its hash: what the reorg check compares against the chain;
* ``<Contract>_<Event>(block, log_index, tx_hash, ts, <arguments…>)``: see :mod:`.events`;
* roll-ups kept in the same transactions as the events they summarise: of the point transfers
  (:mod:`.rollup`), of the retention cohorts (:mod:`.cohorts`), of the cards (:mod:`.card_state`).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError
from . import card_state, cohorts, rollup
from .events import ROW_COLUMNS, EventSpec

SCHEMA_VERSION = "4"
"""Bumped when the layout changes; a cache of another version is rebuilt from the chain, unless it is
one of :data:`UPGRADABLE`."""

UPGRADABLE = frozenset({"3"})
"""Versions whose event tables are as now, and only the roll-ups differ: they are built again from the
stored events (no node needed)."""

ROLLED_UP = frozenset({rollup.POINTS_TRANSFER, *card_state.SOURCES})
"""The event tables whose new rows change the roll-ups."""


CACHE_KIB = 65_536
"""SQLite's page cache per connection (the default, 2 MB, makes a first index of a busy program re-read
its indexes from disk while inserting)."""


def quote(name: str) -> str:
    """An SQL identifier, quoted (argument names such as ``from`` and ``to`` are SQL keywords)."""
    return '"' + name.replace('"', '""') + '"'


class EventStore:
    """An open cache; ``with EventStore.open(path, specs) as store:`` closes it."""

    def __init__(self, conn: sqlite3.Connection, path: Path, specs: Sequence[EventSpec]) -> None:
        self.conn = conn
        self.path = path
        self.specs = {spec.table: spec for spec in specs}
        self._insert_sql = {
            spec.table: f"INSERT INTO {quote(spec.table)} VALUES ({','.join('?' * (4 + len(spec.columns)))})"
            for spec in specs
        }

    @classmethod
    def open(cls, path: str | os.PathLike[str], specs: Sequence[EventSpec]) -> EventStore:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(target, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            conn.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)")
        except sqlite3.DatabaseError as exc:
            raise InputError(
                f"{target} is not a usable index cache ({exc}); delete it and run again to rebuild it"
            ) from None
        store = cls(conn, target, specs)
        version = store.get("schema")
        if version not in (None, SCHEMA_VERSION, *UPGRADABLE):
            store.drop_all()
        upgrade = version in UPGRADABLE
        store._create(specs, mark=not upgrade)  # an upgrade is marked once its roll-ups are built
        if upgrade:
            store.rebuild_rollups()
        store.settle_rollups()  # a sync stopped before it settled them
        return store

    def reading_copy(self) -> EventStore | None:
        """The same cache on a connection of its own, for a thread that only reads while this one
        does too (no schema work, nothing written); None for an in-memory cache, which another
        connection would not see."""
        if str(self.path) == ":memory:":
            return None
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        return EventStore(conn, self.path, list(self.specs.values()))

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    # -- schema --------------------------------------------------------------------------------

    def _create(self, specs: Sequence[EventSpec], *, mark: bool = True) -> None:
        c = self.conn
        c.execute("BEGIN")
        c.execute("CREATE TABLE IF NOT EXISTS blocks(number INTEGER PRIMARY KEY, hash TEXT, ts INTEGER)")
        for spec in specs:
            columns = ", ".join(quote(name) for name in (*ROW_COLUMNS, *spec.columns))
            c.execute(f"CREATE TABLE IF NOT EXISTS {quote(spec.table)} ({columns})")
            c.execute(
                f"CREATE INDEX IF NOT EXISTS {quote('by_block_' + spec.table)} ON {quote(spec.table)}(block)"
            )
        rollup.create(c)
        cohorts.create(c)
        card_state.create(c)
        if mark:
            c.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        c.execute("COMMIT")

    def drop_all(self) -> None:
        """Forget everything (another schema version, or another program's cache)."""
        c = self.conn
        tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        c.execute("BEGIN")
        for table in tables:
            c.execute(f"DROP TABLE {quote(table)}")
        c.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)")
        c.execute("COMMIT")

    # -- meta ----------------------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: Any) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))

    @property
    def cursor(self) -> int | None:
        """The last block fully indexed, or None before the first sync."""
        value = self.get("cursor")
        return None if value is None else int(value)

    def bind(self, chain_id: int, addresses: dict[str, str], first_block: int) -> None:
        """Tie the cache to one program; a cache of another program (or chain) is emptied first."""
        identity = json.dumps({"chain_id": chain_id, "addresses": addresses}, sort_keys=True)
        if self.get("identity") not in (None, identity):
            self.drop_all()
            self._create(list(self.specs.values()))
        if self.get("identity") is None:
            self.put("identity", identity)
            self.put("first_block", first_block)

    @property
    def big_columns(self) -> frozenset[str]:
        """``table.column`` of integer columns holding values too large for SQLite, kept as decimal text
        (card ids always are): sums over them must be done exactly, not by SQLite."""
        return frozenset(json.loads(self.get("big_columns") or "[]"))

    # -- writing -------------------------------------------------------------------------------

    def append(
        self,
        rows: dict[str, list[tuple[Any, ...]]],
        blocks: Iterable[tuple[int, str, int]],
        cursor: int,
        *,
        big_columns: Iterable[str] = (),
        rollups: bool = True,
    ) -> None:
        """One range, atomically: its rows, its blocks, the new cursor and (unless ``rollups`` is
        False: :meth:`settle_rollups` adds them later, all deferred ranges in one pass) the roll-ups."""
        c = self.conn
        c.execute("BEGIN")
        try:
            for table, values in rows.items():
                c.executemany(self._insert_sql[table], values)
            firsts = [values[0][0] for table, values in rows.items() if table in ROLLED_UP and values]
            if firsts and self.get(rollup.PENDING) is None:  # rows come in block order
                self.put(rollup.PENDING, min(firsts))
            new = set(big_columns) - self.big_columns
            if new:
                self.put("big_columns", json.dumps(sorted(self.big_columns | new)))
            if rollups:
                self._settle()
            c.executemany("INSERT OR REPLACE INTO blocks VALUES (?, ?, ?)", list(blocks))
            self.put("cursor", cursor)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def rollback_to(self, block: int) -> int:
        """Forget every block after ``block`` (a reorg replaced them), and take their events out of
        the roll-ups; returns the rows deleted."""
        c = self.conn
        deleted = 0
        c.execute("BEGIN")
        try:
            self._settle()
            actors: set[str] = set()
            if rollup.POINTS_TRANSFER in self.specs:
                columns = self._columns(rollup.POINTS_TRANSFER)
                gone = c.execute(
                    f"SELECT * FROM {quote(rollup.POINTS_TRANSFER)} WHERE block > ?", (block,)
                ).fetchall()
                rollup.apply(c, columns, gone, -1)
                from_i, to_i = columns.index("from"), columns.index("to")
                actors = {rollup.actor(row[from_i], row[to_i]) for row in gone}
            cards_gone = 0
            for table in self.specs:
                count = c.execute(f"DELETE FROM {quote(table)} WHERE block > ?", (block,)).rowcount
                deleted += count
                cards_gone += count if table in card_state.SOURCES else 0
            cohorts.refresh(c, actors)
            if cards_gone:
                card_state.rebuild(c, self.specs)
            c.execute("DELETE FROM blocks WHERE number > ?", (block,))
            self.put("cursor", block)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return deleted

    def settle_rollups(self) -> None:
        """Add the point transfers that :meth:`append` was told not to roll up to the roll-ups."""
        if self.get(rollup.PENDING) is None:
            return
        c = self.conn
        c.execute("BEGIN")
        try:
            self._settle()
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def rebuild_rollups(self) -> None:
        """Every roll-up built again from the stored events (a cache of an :data:`UPGRADABLE` version)."""
        c = self.conn
        c.execute("BEGIN")
        try:
            rollup.clear(c)
            cohorts.clear(c)
            c.execute("DELETE FROM card_state")
            self.put(rollup.PENDING, -1)
            self._settle()
            c.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def _settle(self) -> None:
        pending = self.get(rollup.PENDING)
        if pending is None:
            return
        start = int(pending)
        if rollup.POINTS_TRANSFER in self.specs:
            rollup.settle(self.conn, start, exact=rollup.VALUE_COLUMN in self.big_columns)
            cohorts.refresh(self.conn, self._actors(start))
        card_state.settle(self.conn, start, self.specs)
        self.conn.execute("DELETE FROM meta WHERE key = ?", (rollup.PENDING,))

    def _actors(self, start: int) -> Iterator[str]:
        """The wallets that acted in the point transfers of blocks ``start`` on (read when iterated)."""
        sql = f"SELECT DISTINCT {rollup.ACTOR} FROM {quote(rollup.POINTS_TRANSFER)} WHERE block >= ?"
        for (wallet,) in self.conn.execute(sql, (start,)):
            yield str(wallet)

    def _columns(self, table: str) -> tuple[str, ...]:
        return (*ROW_COLUMNS, *self.specs[table].columns)

    def recent_blocks(self, since: int) -> list[tuple[int, str]]:
        """Stored (number, hash) of blocks at or after ``since``, newest first."""
        rows = self.conn.execute(
            "SELECT number, hash FROM blocks WHERE number >= ? ORDER BY number DESC", (since,)
        )
        return [(int(n), str(h)) for n, h in rows]

    def count(self, table: str | None = None) -> int:
        """Rows of one event table, or of all of them."""
        tables = [table] if table else list(self.specs)
        return sum(int(self.conn.execute(f"SELECT COUNT(*) FROM {quote(t)}").fetchone()[0]) for t in tables)
