"""What an aged anvil costs: the JSON-RPC methods a relay sends, a block's own cost, and how long
the relay's reads wait, on a young chain and after ``--mints`` mints (default 140,000: about what
bench/gateway.py's two 60-s event runs leave before its relay runs). Not in ``make bench``: it
explains a number there (BENCHMARKS.md, "Relays on an aged anvil").

    .venv/bin/python bench/anvil_age.py [--mints 140000] [--anvil-arg=--prune-history]

Per method: anvil's CPU (``/proc``, 10-ms ticks: ±0.03 ms a call) and wall time per call, 300
calls in batches of 30. A block: ``evm_mine`` of an empty block (CPU), and 1-second interval
blocks with nothing to mine (CPU per second). The reads: an admission's batch (the member's
nonce, the latest block, the member's code) in a closed loop for 6 s while 1-second blocks are
mined, latency percentiles.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import recipients

import loyalty_chain.chain as chains
from loyalty_chain.chain import Chain, start_devnet
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.program import ProgramOptions, deploy_program

NONCES = "0x7ecebe00"  # PerkCatalog.nonces(address)
CALLS = 300
READ_S = 6.0


def cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rpc(chain: Chain, method: str, *params: Any) -> None:
    chain.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]


def methods(chain: Chain, pid: int, catalog: str, member: str, sender: str, tx: str) -> None:
    head = hex(int(chain.w3.eth.block_number))
    nonce_call = {"to": catalog, "data": NONCES + "00" * 12 + member[2:].lower()}
    calls: dict[str, list[Any]] = {
        "eth_call latest (nonce)": [nonce_call, "latest"],
        "eth_call pending (nonce)": [nonce_call, "pending"],
        "eth_getBlockByNumber latest": ["latest", False],
        "eth_getCode latest": [member, "latest"],
        "eth_getTransactionCount latest": [sender, "latest"],
        "eth_getTransactionCount pending": [sender, "pending"],
        "eth_getTransactionReceipt": [tx],
        "eth_getTransactionByHash": [tx],
        "eth_getLogs (one block)": [{"fromBlock": head, "toBlock": head, "address": catalog}],
        "eth_blockNumber": [],
    }
    print("| method | anvil CPU ms / call | wall ms / call |\n|---|--:|--:|")
    for name, params in calls.items():
        method = name.split()[0]
        chain.batch([(method, params)])
        c, t = cpu(pid), time.perf_counter()
        for _ in range(CALLS // 30):
            chain.batch([(method, params)] * 30)
        used, took = (cpu(pid) - c) * 1e3 / CALLS, (time.perf_counter() - t) * 1e3 / CALLS
        print(f"| {name} | {used:.3f} | {took:.3f} |")


def blocks_and_reads(chain: Chain, pid: int, catalog: str, member: str) -> None:
    c = cpu(pid)
    for _ in range(20):
        rpc(chain, "evm_mine")
    mine = (cpu(pid) - c) * 1e3 / 20
    rpc(chain, "evm_setIntervalMining", 1)
    time.sleep(1.5)
    c = cpu(pid)
    time.sleep(5)
    idle = (cpu(pid) - c) * 1e3 / 5
    reads = [
        ("eth_call", [{"to": catalog, "data": NONCES + "00" * 12 + member[2:].lower()}, "latest"]),
        ("eth_getBlockByNumber", ["latest", False]),
        ("eth_getCode", [member, "latest"]),
    ]
    waited: list[float] = []
    end = time.perf_counter() + READ_S
    while time.perf_counter() < end:
        t = time.perf_counter()
        chain.batch(reads)
        waited.append(time.perf_counter() - t)
        time.sleep(0.005)
    rpc(chain, "evm_setIntervalMining", 0)
    rpc(chain, "evm_setAutomine", True)
    waited.sort()

    def q(p: float) -> float:
        return waited[min(len(waited) - 1, int(p * len(waited)))] * 1e3

    print(f"\nan empty block: {mine:.1f} ms of anvil's CPU; 1-s blocks, none to mine: {idle:.0f} ms/s")
    print(
        f"an admission's reads while 1-s blocks are mined: {len(waited)} in {READ_S:.0f} s, "
        f"p50 {q(0.5):.1f} / p90 {q(0.9):.1f} / p99 {q(0.99):.1f} / max {waited[-1] * 1e3:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mints", type=int, default=140_000)
    parser.add_argument("--anvil-arg", action="append", default=[], help="more anvil arguments")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bench-anvil-age-")
    os.environ.update(LOYALTY_CHAIN_HOME=work, LOYALTY_CHAIN_DEPLOYMENTS=f"{work}/deployments")
    command = chains.anvil_command
    chains.anvil_command = lambda *a, **k: command(*a, **k) + args.anvil_arg  # type: ignore[assignment]
    with start_devnet() as chain:
        assert chain.process is not None
        pid, admin = chain.process.pid, chain.dev_account(0)
        record = deploy_program(chain, ProgramOptions("anvil-age"), admin)
        client = LoyaltyClient(chain, record, admin)
        catalog = record.addresses["PerkCatalog"]
        member = recipients(1, b"member")[0]
        tx = client.issue_many([(member, 1)], "first")[0].tx_hash
        for label in ("young", "aged"):
            if label == "aged":
                t = time.perf_counter()
                minted = recipients(args.mints, b"aged")
                for i in range(0, len(minted), 2_000):
                    client.issue_many([(a, 100) for a in minted[i : i + 2_000]], "age")
                print(f"\n{args.mints:,} mints in {time.perf_counter() - t:.0f} s")
            print(f"\n## {label} chain: block {int(chain.w3.eth.block_number)} {' '.join(args.anvil_arg)}\n")
            methods(chain, pid, catalog, member, admin.address, tx)
            blocks_and_reads(chain, pid, catalog, member)


if __name__ == "__main__":
    main()
