"""Indexing and report speed: a program with many members and events on anvil.

Builds the program with batch transactions (``enrollBatch`` for the members, ``issueBatch`` for the
points; every recipient is one ``Transfer`` log), then, in the same run:

1. the first index (``loyalty_chain.indexer.sync``: adaptive ``eth_getLogs``, decode, SQLite) in
   events/s, beside web3.py ``get_logs`` over the same blocks in one call and in per-1,000-block
   calls (raw logs only: no decoding, nothing stored);
2. an incremental report after 1,000 new events (sync + every KPI);
3. the full KPI report on the whole cache (no sync).

Run: ``.venv/bin/python bench/report.py [--members N] [--events N] [--no-get-logs]`` (defaults: the
issue's 100,000 members and 1,000,000 events; ``--no-get-logs`` leaves out the web3.py comparison).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from loyalty_chain.chain import TX_GAS_CAP, start_devnet
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.indexer import open_store, sync
from loyalty_chain.program import CONTRACTS, ProgramOptions, deploy_program
from loyalty_chain.reports import compute, program_info, program_report
from loyalty_chain.values import reason_code

ENROLL_PER_TX = 500
"""Fresh members per ``enrollBatch`` (~28.5k gas each: 14.3M, under the EIP-7825 cap)."""
FRESH_PER_TX = 600
"""Fresh holders per ``issueBatch`` (~25k gas each)."""
EXISTING_PER_TX = 1_700
"""Existing holders per ``issueBatch`` (~8k gas each)."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--no-get-logs",
        action="store_true",
        help="skip the web3.py get_logs comparison (on a loaded machine most of the run's time)",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    with start_devnet() as chain:
        admin = chain.dev_account(0)
        record = deploy_program(chain, ProgramOptions("bench"), admin, root=folder)
        client = LoyaltyClient(chain, record, admin)
        print(f"building {args.members:,} members / ~{args.events:,} events on anvil …", flush=True)
        build(client, args.members, args.events)
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
        if not args.no_get_logs:
            began = time.perf_counter()
            one_call = len(chain.w3.eth.get_logs(query))
            one_s = time.perf_counter() - began
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
        began, cpu = time.perf_counter(), time.process_time()
        incremental = program_report(chain, record, cache=cache)
        incremental_s, incremental_cpu = time.perf_counter() - began, time.process_time() - cpu
        calls = {k: v - calls_before.get(k, 0) for k, v in chain.rpc_stats.items()}
        kpi_s = incremental.seconds  # the KPIs' part; the rest is the sync and opening the cache

        info = program_info(chain, record)
        with open_store(record, cache) as store:
            began, cpu = time.perf_counter(), time.process_time()
            full = compute(store, info)
            full_s, full_cpu = time.perf_counter() - began, time.process_time() - cpu

    events = first.events
    rate_cpu = events / index_cpu
    blocks = head - record.block + 1
    print(f"\nreport benchmark: {args.members:,} members, {events:,} events in {blocks:,} blocks")
    print(f"(one anvil, same run; cache {cache.stat().st_size / 1e6:,.0f} MB)\n")
    nan = float("nan")
    rows = [
        (f"first index (`sync`, {first.calls} eth_getLogs calls)", events, index_s, index_cpu, rate),
        ("web3.py `get_logs`, one call (raw logs)", one_call, one_s, nan, one_call / one_s),
        ("web3.py `get_logs`, per 1,000 blocks (raw logs)", paged, paged_s, nan, paged / paged_s),
        ("incremental report after 1,000 new events", 1_000, incremental_s, incremental_cpu, None),
        ("  of which: sync (reorg check, eth_getLogs, store)", 1_000, incremental_s - kpi_s, nan, None),
        ("  of which: KPIs", events + 1_000, kpi_s, nan, None),
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
    print("events per CPU second; the rest of the wall time is the node answering and other processes.")
    asked = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()) if v and k != "http")
    print(f"incremental report's JSON-RPC calls: {asked} ({calls.get('http', 0)} HTTP requests)")
    assert incremental.issued_by_reason.get("later") == 999 * 7 and full.members == args.members
    verdicts = [
        ("first index >= 20,000 events/s", rate >= TARGETS["first index (events/s)"]),
        ("incremental report < 2 s", incremental_s < TARGETS["incremental report (s)"]),
        ("full report < 10 s", full_s < TARGETS["full report (s)"]),
    ]
    print("\ntargets: " + "; ".join(f"{name} -> {'met' if ok else 'NOT met'}" for name, ok in verdicts))


if __name__ == "__main__":
    main()
