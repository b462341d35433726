"""Indexing and report speed: a program with many members and events on anvil.

Builds the program with batch transactions (``enrollBatch`` for the members, ``issueBatch`` for the
points; every recipient is one ``Transfer`` log), then, in the same run:

1. the first index (``loyalty_chain.indexer.sync``: adaptive ``eth_getLogs``, decode, SQLite) in
   events/s, beside web3.py ``get_logs`` over the same blocks in one call and in per-1,000-block
   calls (raw logs only: no decoding, nothing stored);
2. an incremental report after 1,000 new events (sync + every KPI);
3. the full KPI report on the whole cache (no sync).

Run: ``.venv/bin/python bench/report.py [--members N] [--events N] [--get-logs both|paged|none]
[--state FILE [--build-only]]`` (defaults: the issue's 100,000 members and 1,000,000 events, both
web3.py comparisons). ``--state FILE`` keeps the built chain in an anvil state file (the program's
record beside it, in ``FILE.program/``): the first run builds and saves it, later runs load it
(minutes instead of half an hour at full size) after checking that the loaded anvil still answers
``eth_getLogs`` for the old blocks. anvil only loads the file (``--load-state``: nothing is written
back, so the incremental report's new events never reach it, and no minute-by-minute dump of the
whole chain, ~1 GB at full size, competes with the measurements for the CPU and the disk).
``--build-only`` builds and saves only.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loyalty_chain.chain import TX_GAS_CAP, Chain, launch_devnet
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.errors import DeploymentError
from loyalty_chain.indexer import open_store, sync
from loyalty_chain.program import CONTRACTS, ProgramOptions, ProgramRecord, deploy_program
from loyalty_chain.registry import load_program, record_path
from loyalty_chain.reports import build as report_build
from loyalty_chain.reports import compute, program_info, program_report
from loyalty_chain.values import reason_code

ENROLL_PER_TX = 500
"""Fresh members per ``enrollBatch`` (~28.5k gas each: 14.3M, under the EIP-7825 cap)."""
FRESH_PER_TX = 600
"""Fresh holders per ``issueBatch`` (~25k gas each)."""
EXISTING_PER_TX = 1_700
"""Existing holders per ``issueBatch`` (~8k gas each)."""
LOAD_TIMEOUT_S = 1_800.0
"""How long anvil may take to write (on SIGINT) or read a saved state (~1 GB at full size)."""
TARGETS = {"first index (events/s)": 20_000, "incremental report (s)": 2.0, "full report (s)": 10.0}


def addresses(count: int) -> list[str]:
    """Distinct, valid addresses without key derivation (0x…0001000 + i)."""
    return ["0x" + f"{0x1000 + i:040x}" for i in range(count)]


def build(client: LoyaltyClient, members: int, events: int) -> int:
    """Enrol ``members`` and issue points until the program has about ``events`` events; returns them."""
    wallets = addresses(members)
    card, points = client.card, client.points
    calls: list[Any] = []
    for start in range(0, members, ENROLL_PER_TX):
        words = [int(a, 16) for a in wallets[start : start + ENROLL_PER_TX]]  # tier 0, never expires
        calls.append(card.functions.enrollBatch(words))
    made = 2 * members  # Transfer + MemberEnrolled per member
    send(client, calls, "enrol")
    reason = reason_code("bench")
    calls, cursor, first_round = [], 0, True
    while made < events:
        size = FRESH_PER_TX if first_round else EXISTING_PER_TX
        size = min(size, max(1, events - made - 1), members - cursor)
        chunk = wallets[cursor : cursor + size]
        calls.append(
            points.functions.issueBatch(
                [(int(a, 16) << 96) | (1 + i % 50) for i, a in enumerate(chunk)], reason
            )
        )
        made += len(chunk) + 1  # a Transfer each, one PointsIssued
        cursor += size
        if cursor >= members:
            cursor, first_round = 0, False
    send(client, calls, "issue")
    return made


def send(client: LoyaltyClient, calls: list[Any], what: str) -> None:
    began = time.perf_counter()
    for start in range(0, len(calls), 64):
        results = client.sender.send_many(calls[start : start + 64], gas=TX_GAS_CAP)
        failed = [r for r in results if isinstance(r, Exception)]
        if failed:
            raise SystemExit(f"{what}: {len(failed)} transaction(s) failed, first: {failed[0]}")
    print(f"  {what}: {len(calls):,} transactions in {time.perf_counter() - began:.1f} s", flush=True)


def saved_chain(state: Path | None, members: int, events: int) -> tuple[Chain, ProgramRecord]:
    """A devnet with the built program: loaded from ``state`` when it holds this size, else built
    (and, with ``state``, saved there first, then loaded back, so every run measures a loaded anvil)."""
    if state is None:
        chain = launch_devnet()
        return chain, build_program(chain, Path(tempfile.mkdtemp()), members, events)
    folder, meta = state.with_name(state.name + ".program"), {"members": members, "events": events}
    if state.is_file() and (folder / "built.json").is_file():
        if json.loads((folder / "built.json").read_text()) == meta:
            loaded = load_saved(state, folder)
            if loaded is None:  # kept: a chain that took long to build is not thrown away unasked
                raise SystemExit(
                    f"anvil loaded {state} but does not answer eth_getLogs for its blocks; "
                    "delete the file to build it again"
                )
            return loaded
        print(f"{state} holds another size: building it again", flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    state.unlink(missing_ok=True)
    folder.mkdir(parents=True)
    chain = launch_devnet(state=state)
    try:
        build_program(chain, folder, members, events)
        began = time.perf_counter()
        chain.process.send_signal(signal.SIGINT)  # anvil writes --state as it exits
        chain.process.wait(timeout=LOAD_TIMEOUT_S)
    finally:
        chain.close()
    size = state.stat().st_size / 1e6
    print(f"  saved: {state} ({size:,.0f} MB) in {time.perf_counter() - began:.1f} s", flush=True)
    (folder / "built.json").write_text(json.dumps(meta))
    loaded = load_saved(state, folder)
    if loaded is None:
        raise SystemExit(f"anvil does not answer eth_getLogs for the blocks it loaded from {state}")
    return loaded


def load_saved(state: Path, folder: Path) -> tuple[Chain, ProgramRecord] | None:
    """anvil on the saved state and the program's record; None when the old blocks' logs are gone.
    anvil only loads the file (``--load-state``); should that anvil not answer for the old blocks,
    a copy is loaded with ``--state`` instead (how runs loaded it before; anvil then dumps the chain
    to the copy every minute, which the printed note says)."""
    for copied in (False, True):
        began = time.perf_counter()
        if copied:
            copy = Path(tempfile.mkdtemp(dir=state.parent)) / state.name
            atexit.register(shutil.rmtree, copy.parent, True)
            shutil.copyfile(state, copy)
            chain = launch_devnet(state=copy, startup_timeout_s=LOAD_TIMEOUT_S)
        else:
            chain = launch_devnet(load_state=state, startup_timeout_s=LOAD_TIMEOUT_S)
        how = "a copy of it with --state (anvil dumps it every minute)" if copied else "--load-state"
        print(f"  loaded {state} in {time.perf_counter() - began:.1f} s ({how})", flush=True)
        try:
            record = load_program(chain, "bench", root=folder)
        except DeploymentError as exc:
            # Most likely a contract changed since the chain was built (its artifact hash differs): the
            # benchmark reads only events and the points' and cards' settings, so it measures anyway.
            print(f"  note: {exc}\n  measured anyway: the saved chain's contracts are as built", flush=True)
            path = record_path(chain.chain_id, "bench", folder)
            record = ProgramRecord.from_json(json.loads(path.read_text()), root=folder)
        # The enrolments follow the deployment: a few thousand card logs in its first blocks.
        query = {
            "address": record.addresses["MembershipCard"],
            "fromBlock": hex(record.block),
            "toBlock": hex(record.block + 50),
        }
        first = chain.w3.provider.make_request("eth_getLogs", [query])  # type: ignore[union-attr]
        if first.get("result"):
            return chain, record
        kill(chain)
    return None


def build_program(chain: Chain, folder: Path, members: int, events: int) -> ProgramRecord:
    admin = chain.dev_account(0)
    record = deploy_program(chain, ProgramOptions("bench"), admin, root=folder)
    print(f"building {members:,} members / ~{events:,} events on anvil …", flush=True)
    build(LoyaltyClient(chain, record, admin), members, events)
    return record


@contextlib.contextmanager
def timed(parts: dict[str, tuple[float, float]], name: str) -> Iterator[None]:
    """Time every call of ``loyalty_chain.reports.build.<name>`` (the steps of ``program_report``)
    while in the block: ``parts[name]`` = (wall s, CPU s of this process, all threads)."""
    real = getattr(report_build, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began, cpu = time.perf_counter(), time.process_time()
        try:
            return real(*args, **kwargs)
        finally:
            parts[name] = (time.perf_counter() - began, time.process_time() - cpu)

    setattr(report_build, name, wrapper)
    try:
        yield
    finally:
        setattr(report_build, name, real)


def kill(chain: Chain) -> None:
    """Stop anvil at once (its copy of a saved state is thrown away)."""
    if chain.process is not None and chain.process.poll() is None:
        chain.process.kill()
        chain.process.wait()
    chain.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--get-logs",
        choices=["both", "paged", "none"],
        default="both",
        help="web3.py get_logs beside the index: in one call and per 1,000 blocks (both), only per "
        "1,000 blocks (paged: one call of 1,000,000 logs needs minutes and GBs), or not at all",
    )
    parser.add_argument("--no-get-logs", action="store_true", help="the same as --get-logs none")
    parser.add_argument("--state", type=Path, help="anvil state file: load the built chain, or save it")
    parser.add_argument("--build-only", action="store_true", help="with --state: build and save, no runs")
    args = parser.parse_args()
    if args.build_only and args.state is None:
        parser.error("--build-only needs --state FILE")
    get_logs = "none" if args.no_get_logs else args.get_logs
    chain, record = saved_chain(args.state, args.members, args.events)
    try:
        if not args.build_only:
            measure(chain, record, args.members, get_logs)
    finally:
        kill(chain)


def measure(chain: Chain, record: ProgramRecord, members: int, get_logs: str) -> None:
    """Every measurement, printed as BENCHMARKS.md's table."""
    admin = chain.dev_account(0)
    client = LoyaltyClient(chain, record, admin)
    folder = Path(tempfile.mkdtemp())
    head = int(chain.w3.eth.block_number)
    cache = folder / "index.sqlite"

    began, cpu = time.perf_counter(), time.process_time()
    first = sync(chain, record, cache)
    index_s, index_cpu = time.perf_counter() - began, time.process_time() - cpu
    rate = first.events / index_s

    query: Any = {
        "address": [record.addresses[n] for n in CONTRACTS],
        "fromBlock": record.block,
        "toBlock": head,
    }
    one_call = paged = 0
    one_s = paged_s = float("nan")
    one_failed = ""
    if get_logs == "both":
        began = time.perf_counter()
        try:
            one_call = len(chain.w3.eth.get_logs(query))
            one_s = time.perf_counter() - began
        except Exception as exc:  # a benchmark reports what happened (a timeout, memory) and goes on
            one_failed = f"{type(exc).__name__} after {time.perf_counter() - began:.0f} s: {exc}"
    if get_logs in ("both", "paged"):
        began = time.perf_counter()
        for lo in range(record.block, head + 1, 1_000):
            upper = min(head, lo + 999)
            paged += len(chain.w3.eth.get_logs({**query, "fromBlock": lo, "toBlock": upper}))
        paged_s = time.perf_counter() - began

    # A report has run before (the incremental one is its repeat): the tier names, decimals and
    # symbol are in the cache, as after any first report.
    with open_store(record, cache) as store:
        program_info(chain, record, store)

    wallets = addresses(999)
    words = [(int(a, 16) << 96) | 7 for a in wallets]
    client.sender.send(client.points.functions.issueBatch(words, reason_code("later")), gas=TX_GAS_CAP)
    calls_before = chain.rpc_stats
    parts: dict[str, tuple[float, float]] = {}
    began, cpu = time.perf_counter(), time.process_time()
    with timed(parts, "sync_store"), timed(parts, "compute"):
        incremental = program_report(chain, record, cache=cache)
    incremental_s, incremental_cpu = time.perf_counter() - began, time.process_time() - cpu
    calls = {k: v - calls_before.get(k, 0) for k, v in chain.rpc_stats.items()}
    (sync_s, sync_cpu), (kpi_s, kpi_cpu) = parts["sync_store"], parts["compute"]

    info = program_info(chain, record)
    with open_store(record, cache) as store:
        began, cpu = time.perf_counter(), time.process_time()
        full = compute(store, info)
        full_s, full_cpu = time.perf_counter() - began, time.process_time() - cpu

    events = first.events
    rate_cpu = events / index_cpu
    blocks = head - record.block + 1
    print(f"\nreport benchmark: {members:,} members, {events:,} events in {blocks:,} blocks")
    print(f"(one anvil, same run; cache {cache.stat().st_size / 1e6:,.0f} MB)\n")
    nan = float("nan")
    rows = [
        (f"first index (`sync`, {first.calls} eth_getLogs calls)", events, index_s, index_cpu, rate),
        ("web3.py `get_logs`, one call (raw logs)", one_call, one_s, nan, one_call / one_s),
        ("web3.py `get_logs`, per 1,000 blocks (raw logs)", paged, paged_s, nan, paged / paged_s),
        ("incremental report after 1,000 new events", 1_000, incremental_s, incremental_cpu, None),
        ("  of which: sync (reorg check, eth_getLogs, store)", 1_000, sync_s, sync_cpu, None),
        ("  of which: KPIs", events + 1_000, kpi_s, kpi_cpu, None),
        (
            "  of which: the rest (open, close the cache)",
            1_000,
            incremental_s - sync_s - kpi_s,
            incremental_cpu - sync_cpu - kpi_cpu,
            None,
        ),
        ("full KPI report (no sync)", events, full_s, full_cpu, None),
    ]
    print(f"| {'step':50} | {'events':>9} | seconds | CPU s | events/s |")
    print(f"|{'-' * 52}|----------:|--------:|------:|---------:|")
    for label, count, seconds, cpu_s, speed in rows:
        if seconds != seconds:
            continue  # skipped (--no-get-logs)
        shown = f"{speed:8,.0f}" if speed is not None and speed == speed else " " * 8
        used = f"{cpu_s:5.2f}" if cpu_s == cpu_s else " " * 5
        print(f"| {label:50} | {count:9,} | {seconds:7.2f} | {used} | {shown} |")
    print(f"\nCPU s: this process's CPU time (all threads; not the node's). First index: {rate_cpu:,.0f}")
    print("events per CPU second; the rest of the wall time is the node answering and other processes")
    print("(the sync's wall time beyond its CPU time: anvil answering its three requests).")
    asked = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()) if v and k != "http")
    if one_failed:
        print(f"web3.py get_logs in one call failed: {one_failed}")
    print(f"incremental report's JSON-RPC calls: {asked} ({calls.get('http', 0)} HTTP requests)")
    assert incremental.issued_by_reason.get("later") == 999 * 7 and full.members == members
    verdicts = [
        ("first index >= 20,000 events/s", rate >= TARGETS["first index (events/s)"]),
        ("incremental report < 2 s", incremental_s < TARGETS["incremental report (s)"]),
        ("full report < 10 s", full_s < TARGETS["full report (s)"]),
    ]
    print("\ntargets: " + "; ".join(f"{name} -> {'met' if ok else 'NOT met'}" for name, ok in verdicts))


if __name__ == "__main__":
    main()
