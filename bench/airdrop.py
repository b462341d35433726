"""Push-airdrop throughput: ``loyalty_chain.airdrop`` against a naive web3.py ``transact()`` loop.

Run: ``.venv/bin/python bench/airdrop.py`` (options: ``--recipients N``, default 10,000;
``--naive N``, default 1,000). One managed anvil (``start_devnet``, EIP-7825 cap enforced), two
fresh programs so both sides pay fresh recipients, in the same run (the naive loop first, on the
emptier chain):

* ours, end to end: write the CSV, read and validate it, plan gas-sized batches, estimate, sign,
  journal (SQLite, written before every broadcast), send, collect receipts, write the results CSV;
* naive: ``points.functions.issue(to, amount, reason).transact({"from": admin})`` once per recipient
  (anvil signs; web3 estimates gas and fills nonce and fees each time), then the last receipt.

Prints a Markdown table: recipients/s of each, the speed-up, and gas per recipient beside the floor
of a fresh recipient (a new balance slot 22,100 + the ERC-20 Transfer log 1,756 = 23,856).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from _common import naive_issue_loop, recipient, tutorial_web3, write_airdrop_csv

from loyalty_chain.airdrop import airdrop_points
from loyalty_chain.airdrop.journal import Journal
from loyalty_chain.chain import TX_GAS_CAP, start_devnet
from loyalty_chain.program import ProgramOptions, deploy_program

FRESH_RECIPIENT_FLOOR = 22_100 + 1_756
"""A zero→non-zero balance slot (cold SSTORE) plus the ERC-20 Transfer log: 23,856 gas."""

TARGET_SPEEDUP = 20.0
"""Ours must pay recipients at least this many times faster than the naive loop."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--naive", type=int, default=1_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-airdrop-"))
    os.environ["LOYALTY_CHAIN_DEPLOYMENTS"] = str(work / "deployments")

    with start_devnet() as chain:
        admin = chain.dev_account(0)
        deploy_program(chain, ProgramOptions("ours"), admin)
        naive_record = deploy_program(chain, ProgramOptions("naive"), admin)
        block_gas_limit = int(chain.w3.eth.get_block("latest")["gasLimit"])

        # -- naive, first (on the fresher chain): one issue() transaction per recipient
        naive_rows = [(recipient(i, b"naive"), 1 + i % 500) for i in range(args.naive)]
        naive_s, hashes = naive_issue_loop(
            tutorial_web3(chain), naive_record, admin.address, naive_rows, b"\0" * 32, every_receipt=False
        )
        naive_gas = sum(int(chain.w3.eth.get_transaction_receipt(h)["gasUsed"]) for h in hashes)

        # -- ours: CSV → validated rows → batches → signed txs → receipts → journal and report
        csv_path = work / "drop.csv"
        start = time.perf_counter()
        write_airdrop_csv(csv_path, [(recipient(i, b"ours"), 1 + i % 500) for i in range(args.recipients)])
        report = airdrop_points(chain, "ours", csv_path, admin)
        ours_s = time.perf_counter() - start
        assert report.complete, report.stopped
        with Journal(report.journal, sqlite3.connect(report.journal), None) as journal:
            batches = journal.batches()
        biggest = max(b.gas_used or 0 for b in batches)
        assert max(b.gas_limit for b in batches) <= TX_GAS_CAP

    ours_rate, naive_rate = args.recipients / ours_s, args.naive / naive_s
    speedup = ours_rate / naive_rate
    ours_gas, naive_per = report.gas_used / args.recipients, naive_gas / args.naive
    print(f"anvil (start_devnet, EIP-7825 cap enforced), block gas limit {block_gas_limit:,}\n")
    print("| | recipients | seconds | recipients/s | speed-up | gas per recipient | floor | gas/floor |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    print(f"| ours: `airdrop_points`, {report.transactions} batch txs | {args.recipients:,} | {ours_s:.2f} | "
          f"{ours_rate:,.0f} | {speedup:.1f}x | {ours_gas:,.0f} | {FRESH_RECIPIENT_FLOOR:,} | "
          f"{ours_gas / FRESH_RECIPIENT_FLOOR:.3f} |")  # fmt: skip
    print(f"| naive: `issue(...).transact()` per recipient | {args.naive:,} | {naive_s:.2f} | "
          f"{naive_rate:,.0f} | 1.0x | {naive_per:,.0f} | {FRESH_RECIPIENT_FLOOR:,} | "
          f"{naive_per / FRESH_RECIPIENT_FLOOR:.3f} |")  # fmt: skip
    print(f"\nlargest batch: {max(len(b.recipients) for b in batches)} recipients, {biggest:,} gas "
          f"(cap {TX_GAS_CAP:,}); gas limits ≤ {max(b.gas_limit for b in batches):,}")  # fmt: skip
    ok = speedup >= TARGET_SPEEDUP
    print(f"{'PASS' if ok else 'FAIL'} speed-up {speedup:.1f}x >= {TARGET_SPEEDUP:.0f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
