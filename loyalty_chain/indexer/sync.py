"""Bring a program's cache up to the chain's head: check recent blocks for a reorg, then fetch the rest."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from ..artifacts import load_artifact
from ..chain import Chain
from ..program import CONTRACTS, ProgramRecord
from ..record_check import OPTIONAL_CONTRACTS, recorded_contracts
from .events import EventSpec, LogDecoder, event_specs
from .fetch import FetchSettings, LogRange, RawLog, block_headers, fetch_ranges, latest_block
from .store import EventStore

REORG_DEPTH = 64
"""Blocks below the cursor whose stored hashes are re-checked on every sync. A reorg deeper than this
(unheard of after the merge on mainnet; possible on a devnet rewound by hand) is also caught, because
the cursor block itself is checked: the cache is then rebuilt from the program's first block."""


@dataclass(frozen=True)
class SyncResult:
    """What one sync did."""

    cache: Path
    from_block: int
    to_block: int
    """The cursor after the sync: every block up to here is indexed."""
    events: int
    """Events stored by this sync."""
    calls: int
    """``eth_getLogs`` calls made."""
    reorged: int
    """Events deleted because their blocks were replaced (0 without a reorg)."""
    seconds: float


SyncProgress = Callable[[int, int], None]
"""``on_progress(block, head)``: indexed up to ``block`` of ``head``."""


def default_cache_path(record: ProgramRecord) -> Path:
    """``deployments/<chain-id>/<name>.index.sqlite``, beside the program's record
    (``$LOYALTY_CHAIN_INDEX_DIR`` moves it)."""
    folder = os.environ.get("LOYALTY_CHAIN_INDEX_DIR")
    base = Path(folder) / str(record.chain_id) if folder else record.path.parent
    return base / f"{record.name}.index.sqlite"


def program_specs() -> list[EventSpec]:
    """The events of the four contracts and the optional ones (mechanics), from the shipped ABIs."""
    names = CONTRACTS + OPTIONAL_CONTRACTS
    return event_specs({name: cast(Any, load_artifact(name).abi) for name in names})


def open_store(record: ProgramRecord, cache: str | os.PathLike[str] | None = None) -> EventStore:
    """The program's cache, bound to it (a cache of another program at that path is emptied)."""
    store = EventStore.open(cache or default_cache_path(record), program_specs())
    store.bind(record.chain_id, dict(record.addresses), record.block)
    return store


def sync(
    chain: Chain,
    record: ProgramRecord,
    cache: str | os.PathLike[str] | None = None,
    *,
    settings: FetchSettings | None = None,
    to_block: int | None = None,
    on_progress: SyncProgress | None = None,
) -> SyncResult:
    """Index the program's events from where the cache stopped up to ``to_block`` (default: the head)."""
    chain.require_chain_id(record.chain_id, f"program {record.name!r}")
    with open_store(record, cache) as store:
        return sync_store(chain, record, store, settings=settings, to_block=to_block, on_progress=on_progress)


def sync_store(
    chain: Chain,
    record: ProgramRecord,
    store: EventStore,
    *,
    settings: FetchSettings | None = None,
    to_block: int | None = None,
    on_progress: SyncProgress | None = None,
) -> SyncResult:
    """:func:`sync` on an open store."""
    began = time.perf_counter()
    opts = settings or FetchSettings()
    latest = latest_block(chain)
    head = latest if to_block is None else to_block
    reorged = _undo_reorg(chain, record, store, opts, latest)
    cursor = store.cursor
    start = record.block if cursor is None else cursor + 1
    decoder = LogDecoder(store.specs.values(), record.addresses)
    addresses = [record.addresses[name] for name in recorded_contracts(record)]
    stored = calls = 0
    for part in prefetched(fetch_ranges(chain, addresses, start, head, opts)):
        calls += 1
        rows, blocks = _rows(chain, decoder, part.logs, part.end, opts)
        # The roll-ups are built once at the end (a first index: one grouped insert in key order, not
        # an upsert per wallet per range); a sync stopped halfway leaves them to the next open.
        store.append(rows, blocks, part.end, big_columns=decoder.big_columns, rollups=False)
        stored += sum(len(v) for v in rows.values())
        if on_progress is not None:
            on_progress(part.end, head)
    store.settle_rollups()
    cursor_after = store.cursor if store.cursor is not None else start - 1
    return SyncResult(store.path, start, cursor_after, stored, calls, reorged, time.perf_counter() - began)


def prefetched(parts: Iterator[LogRange]) -> Iterator[LogRange]:
    """The ranges of ``parts``, the next one fetched on a thread while the caller stores this one
    (the node's time and the socket wait overlap the decoding)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="getlogs") as pool:
        pending = pool.submit(next, parts, None)
        while True:
            part = pending.result()
            if part is None:
                return
            pending = pool.submit(next, parts, None)
            yield part


def _rows(
    chain: Chain, decoder: LogDecoder, logs: list[RawLog], end: int, opts: FetchSettings
) -> tuple[dict[str, list[tuple[Any, ...]]], list[tuple[int, str, int]]]:
    """The logs of one range as rows per table, and the blocks to remember (theirs and the range's end)."""
    numbers: dict[str, int] = {}  # a range's logs share few block numbers: convert each once
    times: dict[int, tuple[str, int]] = {}
    missing: set[int] = {end}
    for log in logs:
        raw = log.blockNumber
        if raw in numbers:
            continue
        number = numbers[raw] = int(raw, 16)
        if log.blockTimestamp is not None:
            times[number] = (log.blockHash, int(log.blockTimestamp, 16))
        else:
            missing.add(number)
    missing -= times.keys()
    if missing:
        times.update(block_headers(chain, sorted(missing), opts.header_batch))
    rows: dict[str, list[tuple[Any, ...]]] = {}
    stamps = {raw: (number, times[number][1]) for raw, number in numbers.items()}
    read = decoder.read  # the hot loop of a first index: no attribute look-ups per log
    for log in logs:
        if log.removed:
            continue
        decoded = read(log.address, log.topics, log.data)
        if decoded is None:
            continue
        table, values = decoded
        number, ts = stamps[log.blockNumber]
        rows.setdefault(table, []).append((number, int(log.logIndex, 16), log.transactionHash, ts, *values))
    blocks = [(number, block_hash, ts) for number, (block_hash, ts) in times.items()]
    return rows, blocks


def _undo_reorg(
    chain: Chain, record: ProgramRecord, store: EventStore, opts: FetchSettings, head: int
) -> int:
    """Compare the stored hashes of recent blocks with the chain's; forget from the first that changed.
    The newest stored block is asked for alone first: when it is unchanged (every sync but a reorg's),
    so is everything below it, and that one header is the whole check."""
    cursor = store.cursor
    if cursor is None:
        return 0
    recent = store.recent_blocks(cursor - REORG_DEPTH)
    if not recent:
        return 0
    newest, newest_hash = recent[0]
    if newest <= head and block_headers(chain, [newest], 1)[newest][0] == newest_hash:
        return 0
    known = [(n, h) for n, h in recent if n <= head]
    current = block_headers(chain, [n for n, _ in known], opts.header_batch) if known else {}
    good = None
    for number, block_hash in known:  # newest first
        if current[number][0] == block_hash:
            good = number
            break
    if good == recent[0][0]:
        return 0  # the newest stored block is unchanged: nothing below it changed either
    if good is None:  # deeper than we can see: start again from the program's first block
        return store.rollback_to(record.block - 1)
    return store.rollback_to(good)
