"""How long a `loyalty-chain` command takes from the shell, and how much of it is Python's imports.

Runs each command several times against one managed anvil and prints the median and the best
wall time, then the import time of the modules a chain command loads (``python -X importtime``).
Run: ``.venv/bin/python bench/cli_startup.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from loyalty_chain.chain import start_devnet
from loyalty_chain.program import ProgramOptions, deploy_program

EXE = Path(sys.executable).parent / "loyalty-chain"


def timed(args: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run([str(EXE), *args], env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if out.returncode != 0:
            raise SystemExit(f"{args} failed: {out.stderr}")
    return times


def import_seconds(modules: str) -> float:
    """Cumulative import time of ``modules`` (one fresh interpreter), from -X importtime."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {modules}"], capture_output=True, text=True
    )
    total = 0
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and not parts[2].startswith("  "):  # top-level imports only
            total += int(parts[1])
    return total / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with start_devnet() as chain:
        root = Path(tempfile.mkdtemp(prefix="cli-bench-"))
        deploy_program(chain, ProgramOptions("cafe"), chain.dev_account(0), root=root)
        env = {**os.environ, "LOYALTY_CHAIN_RPC": chain.rpc_url, "LOYALTY_CHAIN_DEPLOYMENTS": str(root)}
        alice = chain.dev_account(1).address
        commands = {
            "loyalty-chain --help": ["--help"],
            "loyalty-chain accounts list": ["accounts", "list"],
            "loyalty-chain points balance cafe ADDR": ["points", "balance", "cafe", alice],
            "loyalty-chain points issue cafe ADDR 5": ["points", "issue", "cafe", alice, "5"],
        }
        print(f"| command | median s | best s |  ({args.runs} runs, anvil on loopback)")
        print("|---|--:|--:|")
        for label, argv in commands.items():
            times = timed(argv, env, args.runs)
            print(f"| `{label}` | {statistics.median(times):.2f} | {min(times):.2f} |")
    print()
    print("| imports | seconds |")
    print("|---|--:|")
    for modules in (
        "loyalty_chain.cli",
        "web3",
        "loyalty_chain.cli, loyalty_chain.client, loyalty_chain.accounts",
    ):
        print(f"| `{modules}` | {import_seconds(modules):.2f} |")


if __name__ == "__main__":
    main()
