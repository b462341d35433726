"""Airdrop points to every customer of a CSV export, resumably.

    ape run airdrop
    python scripts/airdrop.py [FILE.csv]

The CSV (``address,amount[,reason]``) is the argument, else $LOYALTY_CSV, else a generated sample
of 1,000 customers. The program is $LOYALTY_PROGRAM if it is deployed on this chain, else a new one.
Rerun it after any interruption: the journal beside the CSV makes sure nobody is paid twice.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from eth_account import Account

from loyalty_chain.airdrop import STATUS_ALREADY_PAID, STATUS_SENT, airdrop_points
from loyalty_chain.errors import UnknownProgramError
from loyalty_chain.program import ProgramOptions, deploy_program, load_program
from loyalty_chain.scripting import script_session


def sample_csv(count: int = 1_000) -> Path:
    path = Path(tempfile.mkdtemp(prefix="airdrop-")) / "customers.csv"
    rows = [f"{Account.create().address},{50 + i % 5 * 25},welcome" for i in range(count)]
    path.write_text("address,amount,reason\n" + "\n".join(rows) + "\n")
    return path


def main(csv: str | None = None) -> None:
    source = Path(csv or os.environ.get("LOYALTY_CSV") or sample_csv())
    name = os.environ.get("LOYALTY_PROGRAM", "airdrop-demo")
    with script_session() as (chain, signer):
        try:
            record = load_program(chain, name)
        except UnknownProgramError:
            record = deploy_program(chain, ProgramOptions(name), signer)
        report = airdrop_points(chain, record, source, signer)
        print(
            f"{source}: {report.count(STATUS_SENT)} paid now, {report.count(STATUS_ALREADY_PAID)} already "
            f"paid, in {report.transactions} transactions, {report.gas_used:,} gas; journal {report.journal}"
        )
        if not report.complete:
            raise SystemExit(f"not complete: {report.stopped or 'some recipients failed'}; rerun to resume")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
