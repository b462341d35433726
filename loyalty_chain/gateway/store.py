"""The gateway's durable state behind one interface: events, issuances, batches, redemptions, API keys
and webhooks waiting to be delivered.

``open_store(url)`` picks the backend from ``--db``:

- ``sqlite:///path`` (the default, one gateway: its HTTP process and its worker's):
  :class:`~.store_sqlite.SqliteStore`.
- ``postgresql://user@host:port/db`` (several gateway processes sharing the work):
  :class:`~.store_postgres.PostgresStore`; needs ``pip install 'loyalty-chain[postgres]'``.

Both run the same SQL (written with ``?`` placeholders; PostgreSQL's are translated). Every write
transaction holds the database's one writer lock, so what a transaction read is still true when it
commits (an event id stored once, caps counted once), and :meth:`Store.write_lock` serialises the
sending of transactions across processes (one account, one nonce sequence).
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ..errors import InputError

T = TypeVar("T")


class Cursor(Protocol):
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Conn(Protocol):
    """What a transaction gives its block: a connection with ``?`` placeholders."""

    def execute(self, sql: str, args: Sequence[Any] = ..., /) -> Cursor: ...
    def executemany(self, sql: str, args: Iterable[Sequence[Any]], /) -> Any: ...


@dataclass(frozen=True)
class StoredEvent:
    id: str
    type: str
    member: str
    status: str
    why: str | None
    points: int
    answer: dict[str, Any]
    tx_hashes: tuple[str, ...]


@dataclass
class _Accept:
    """One event waiting to be stored by the next group commit."""

    event_id: str | None
    """None: not an event, a write of its own (:meth:`Store.group_write`)."""
    decide: Callable[[Conn], Any]
    write: Callable[[Conn, Any], None]
    new: bool = False
    error: Exception | None = None
    done: bool = False
    result: Any = None


class Store(ABC):
    """The interface every backend implements, and what they share (see the module docstring)."""

    def __init__(self) -> None:
        self._queue: list[_Accept] = []
        self._queue_lock = threading.Lock()
        self._commit_lock = threading.Lock()

    store_id: str
    """Names this database in idempotency keys, so two gateways never share one."""
    url: str
    """What ``open_store`` takes to open this database again (in another process)."""
    journal: Path | None
    """The delivery layer's operations journal for this store (None: the user's default one)."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Conn]:
        """A write transaction holding the writer lock, committed durably when the block ends."""

    @abstractmethod
    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def write_lock(self) -> AbstractContextManager[None]:
        """Held while a transaction is sent for the gateway's account: one sender at a time, in this
        process and (PostgreSQL) in every process on the same database."""

    def query_one(self, sql: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...]:
        rows = self.query(sql, args)
        if not rows:
            raise LookupError(sql)
        return rows[0]

    def _init_meta(self) -> None:
        import uuid

        self.store_id = self.bind("store_id", uuid.uuid4().hex)

    def bind(self, key: str, value: str) -> str:
        """The ``meta`` value under ``key``: ``value``, stored now, if there was none (first use)."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, value)
            )
        return str(self.query_one("SELECT value FROM meta WHERE key = ?", (key,))[0])

    # -- events -----------------------------------------------------------------------------

    def accept_event(
        self,
        event_id: str,
        decide: Callable[[Conn], T],
        write: Callable[[Conn, T], None],
    ) -> tuple[bool, StoredEvent]:
        """Store an event once: ``decide`` reads what it needs and ``write`` records the result, in one
        transaction. Returns (new?, the event as stored); an id seen before is returned as it was.

        Group commit: events posted at the same time are stored in one transaction (one fsync),
        each in a savepoint of its own, so one that fails is rolled back alone. Whoever finds the
        queue waiting when the previous commit is done commits everything in it."""
        (item,) = self.accept_events([(event_id, decide, write)])
        if item.error is not None:
            raise item.error
        found = self.event(event_id)
        assert found is not None
        return item.new, found

    def accept_events(
        self, events: Sequence[tuple[str, Callable[[Conn], Any], Callable[[Conn, Any], None]]]
    ) -> list[_Accept]:
        """Several events (id, decide, write) stored in the same group commit as :meth:`accept_event`
        stores one; each item says whether it was new, or its own error. The same id twice: the
        second is seen as stored before."""
        return self._group([_Accept(event_id, decide, write) for event_id, decide, write in events])

    def group_write(self, work: Callable[[Conn], T]) -> T:
        """Run ``work`` in the next group commit (with the events and other writes posted at the
        same time: one fsync for all), in a savepoint of its own; its result, or its error raised."""
        (item,) = self._group([_Accept(None, work, lambda conn, result: None)])
        if item.error is not None:
            raise item.error
        result: T = item.result
        return result

    def _group(self, items: list[_Accept]) -> list[_Accept]:
        with self._queue_lock:
            self._queue.extend(items)  # together: one group commit takes all of them
        with self._commit_lock:
            if items and not items[0].done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._commit(group)
        return items

    def _commit(self, group: list[_Accept]) -> None:
        try:
            with self.transaction() as conn:
                for item in group:
                    conn.execute("SAVEPOINT accept_event")
                    try:
                        if item.event_id is None:
                            item.result = item.decide(conn)
                        elif conn.execute("SELECT 1 FROM events WHERE id = ?", (item.event_id,)).fetchone():
                            item.new = False
                        else:
                            item.write(conn, item.decide(conn))
                            item.new = True
                    except Exception as exc:  # that event's own failure, handed to its caller
                        conn.execute("ROLLBACK TO SAVEPOINT accept_event")
                        item.error = exc
                    conn.execute("RELEASE SAVEPOINT accept_event")
        except Exception as exc:  # the commit failed: nothing of the group is stored
            for item in group:
                item.error = item.error or exc
        for item in group:
            item.done = True

    def event(self, event_id: str) -> StoredEvent | None:
        rows = self.query(
            "SELECT id, type, member, status, why, points, answer FROM events WHERE id = ?", (event_id,)
        )
        if not rows:
            return None
        r = rows[0]
        hashes = tuple(
            str(h[0])
            for h in self.query(
                "SELECT DISTINCT tx_hash FROM grants WHERE event_id = ? AND tx_hash IS NOT NULL", (event_id,)
            )
        )
        return StoredEvent(
            str(r[0]), str(r[1]), str(r[2]), str(r[3]), r[4], int(r[5]), json.loads(r[6]), hashes
        )

    def counts(self) -> dict[str, int]:
        """Events per status and grants per status, for /metrics."""
        out: dict[str, int] = {}
        for status, n in self.query("SELECT status, COUNT(*) FROM events GROUP BY status"):
            out[f"events_{status}"] = int(n)
        for status, n in self.query("SELECT status, COUNT(*) FROM grants GROUP BY status"):
            out[f"grants_{status}"] = int(n)
        for state, n in self.query("SELECT state, COUNT(*) FROM webhooks GROUP BY state"):
            out[f"webhooks_{state}"] = int(n)
        for status, n in self.query("SELECT status, COUNT(*) FROM redemptions GROUP BY status"):
            out[f"redemptions_{status}"] = int(n)
        return out

    # -- webhooks ---------------------------------------------------------------------------

    @staticmethod
    def enqueue_webhook(conn: Conn, kind: str, payload: dict[str, Any]) -> None:
        """Queue a webhook inside the caller's transaction (so it exists exactly when the change does)."""
        body = {"type": kind, "created": int(time.time()), "data": payload}
        conn.execute(
            "INSERT INTO webhooks (type, payload, next_at) VALUES (?, ?, ?)",
            (kind, json.dumps(body, sort_keys=True), time.time()),
        )


def open_store(url: str) -> Store:
    """The store a ``--db`` URL names: ``sqlite:///relative/path``, ``sqlite:////absolute/path`` or
    ``postgresql://user:password@host:port/database``."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if not path:
            raise InputError(f"--db {url!r} names no file; write sqlite:///gateway.sqlite")
        from .store_sqlite import SqliteStore

        return SqliteStore(Path(path))
    if url.startswith(("postgresql://", "postgres://")):
        from .store_postgres import PostgresStore

        return PostgresStore(url)
    raise InputError(
        f"--db {url!r} is not a database URL; write sqlite:///gateway.sqlite"
        " or postgresql://user@host:5432/database"
    )
