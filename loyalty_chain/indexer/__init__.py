"""The incremental indexer: a program's events in a local SQLite cache, kept up to date and reorg-safe.

::

    result = sync(chain, record)            # from where the cache stopped to the chain's head
    with open_store(record) as store: ...   # what the reports read

See :mod:`.events` (which events, how they are stored), :mod:`.fetch` (adaptive ``eth_getLogs``),
:mod:`.store` (the SQLite layout), :mod:`.rollup`, :mod:`.cohorts` and :mod:`.card_state` (what the
reports read instead of every event, kept as events are stored) and :mod:`.sync` (the loop and the
reorg check).
"""

from __future__ import annotations

from .events import EventSpec, LogDecoder, event_specs
from .fetch import FetchSettings
from .store import EventStore, quote
from .sync import REORG_DEPTH, SyncResult, default_cache_path, open_store, program_specs, sync, sync_store

__all__ = [
    "REORG_DEPTH",
    "EventSpec",
    "EventStore",
    "FetchSettings",
    "LogDecoder",
    "SyncResult",
    "default_cache_path",
    "event_specs",
    "open_store",
    "program_specs",
    "quote",
    "sync",
    "sync_store",
]
