"""The brand gateway over HTTP (issue 11): shop events in, points on chain out, beside a naive
handler that calls ``transact()`` per event; then relayed redemptions.

One managed anvil mining 1-second blocks, one program, in the same run:

* **naive handler**: a FastAPI endpoint (its own uvicorn process) that, per posted event, calls
  ``issue(member, points, reason).transact()`` from anvil's unlocked account and answers 202 with
  the hash: what a shop's developer writes first;
* **gateway**: ``loyalty-chain serve`` (its own process, SQLite store) taking the same events, one
  per ``POST /v1/events``; then **gateway batch**: the same, ``--batch-events`` per ``POST
  /v1/events/batch`` (a shop posting its order batches; each event still its own idempotency key
  and answer).

The load is the same for all: ``--concurrency`` HTTP clients posting ``purchase`` events (each to
a fresh member) as fast as they are answered, for ``--naive-seconds`` and ``--seconds``. An
observer thread watches the chain (the token's mints, ``eth_getLogs`` per new block) and notes when
each member's points appear: *latency to issued* is from the POST to the block seen on chain, and
*events/s end to end* is the events on chain over the time from the first POST to the last mint.

Then **relayed redemptions** (bench/gateway_relays.py): a burst of ``--relays`` signed requests,
then ``--relay-seconds`` of them posted continuously, ``--concurrency`` at a time, with ``Prefer:
respond-async`` (202 once the relay is stored; ``--relay-wait`` to have each wait for its relay
instead), and a second observer noting each member's ``PerkRedeemed`` on chain: relays/s end to
end (first POST to last relay seen), latency to relayed, CPU per relay and where an admission's
time went (the gateway's ``/metrics`` spans).

Targets (issue 11): ≥ 1,000 events/s end to end and ≥ 20x the naive handler (the better of the two
gateway runs); ≥ 100 relayed redemptions/s (the sustained run; the burst without one). Exits 1 if
one is missed. Run:
``.venv/bin/python bench/gateway.py`` (``--help``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import gateway_relays as relaying
from _common import recipients
from eth_utils import keccak
from gateway_events import POINTS_PER_EUR, Run, load, naive_server
from gateway_load import Observer, pct, spawn, stop, wait_up
from gateway_relays import PERK_REDEEMED, Relays

from loyalty_chain.chain import free_port, start_devnet
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.gateway import SqliteStore, create_key
from loyalty_chain.program import ProgramOptions, ProgramRecord, deploy_program

TARGET_EVENTS_PER_S = 1_000.0
TARGET_SPEEDUP = 20.0
TARGET_RELAYS_PER_S = 100.0
TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
ZERO_TOPIC = "0x" + "00" * 32
RULES = f"[purchase]\nper_unit = {{ EUR = {POINTS_PER_EUR} }}\n"


# -- the runs -----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="gateway load (default 60)")
    parser.add_argument("--naive-seconds", type=float, default=20.0, help="naive handler load (default 20)")
    parser.add_argument("--concurrency", type=int, default=64, help="HTTP clients at once (default 64)")
    parser.add_argument("--block-time", type=float, default=1.0, help="seconds per block (default 1)")
    parser.add_argument("--batch-size", type=int, default=556, help="gateway --batch-size (default 556)")
    parser.add_argument(
        "--batch-txs",
        type=int,
        default=None,
        help="gateway --batch-txs (default: one per 15M gas of a block, 2 for anvil's 30M)",
    )
    parser.add_argument("--pipeline", type=int, default=3, help="gateway --pipeline (default 3)")
    parser.add_argument(
        "--worker",
        choices=("process", "thread"),
        default="process",
        help="gateway --worker: the issuing worker in a process of its own (default) or a thread",
    )
    parser.add_argument(
        "--relays", type=int, default=300, help="redemptions relayed in the burst (default 300)"
    )
    parser.add_argument(
        "--relay-seconds",
        type=float,
        default=60.0,
        help="sustained relays: seconds of posting, one relay per member (default 60; 0: none)",
    )
    parser.add_argument(
        "--relay-members",
        type=int,
        default=None,
        help="members set up for the sustained relays (default 300 per second of --relay-seconds)",
    )
    parser.add_argument(
        "--batch-events", type=int, default=100, help="events per POST /v1/events/batch (default 100)"
    )
    parser.add_argument(
        "--relay-wait",
        dest="relay_async",
        action="store_false",
        help="post redemptions without Prefer: respond-async (each waits for its relay to be mined)",
    )
    parser.add_argument(
        "--block-gas-limit",
        type=int,
        default=None,
        help="set anvil's block gas limit (evm_setBlockGasLimit; default: anvil's 30,000,000)",
    )
    parser.add_argument("--settle", type=float, default=120.0, help="most seconds to wait for the chain")
    parser.add_argument("--naive-server", nargs=3, metavar=("PORT", "RPC", "TOKEN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.naive_server:
        naive_server(int(args.naive_server[0]), args.naive_server[1], args.naive_server[2])
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    env = {
        **os.environ,
        "LOYALTY_CHAIN_DEPLOYMENTS": str(work / "deployments"),
        "LOYALTY_CHAIN_HOME": str(work),
    }
    os.environ.update(env)

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    (work / "rules.toml").write_text(RULES)
    capacity = int(2_000 * max(args.seconds, args.naive_seconds))  # more members than can be posted
    started = time.perf_counter()
    with start_devnet(block_time=args.block_time) as chain:
        if args.block_gas_limit:
            chain.w3.provider.make_request("evm_setBlockGasLimit", [hex(args.block_gas_limit)])  # type: ignore[arg-type]
            chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]  # the limit holds from the next block
        args.block_gas = int(chain.w3.eth.get_block("latest")["gasLimit"])
        if args.batch_txs is None:  # transactions of ~15M gas (under the EIP-7825 cap) fill a block
            args.batch_txs = max(1, args.block_gas // 15_000_000)
        admin = chain.dev_account(0)
        record: ProgramRecord = deploy_program(chain, ProgramOptions("bench-gateway"), admin)
        token = record.addresses["LoyaltyPoints"]
        client = LoyaltyClient(chain, record, admin)
        sustained_count = args.relay_members
        if sustained_count is None:
            sustained_count = int(300 * args.relay_seconds)
        burst_members = relaying.members(args.relays, b"bench-gateway-burst")
        sustained_members = relaying.members(sustained_count if args.relay_seconds > 0 else 0, b"sustained")
        relay_members = burst_members + sustained_members
        say(f"{len(relay_members):,} members for the redemptions, enrolled and paid …")
        relaying.set_up(client, relay_members)
        first_block = int(chain.w3.eth.block_number) + 1
        observer = Observer(chain.rpc_url, token, first_block, [TRANSFER, ZERO_TOPIC], 2)
        redeemed = Observer(chain.rpc_url, record.addresses["PerkCatalog"], first_block, [PERK_REDEEMED], 3)
        observer.start()
        redeemed.start()
        relay_runs = [Relays("burst")]
        if args.relay_seconds > 0:
            relay_runs.append(Relays("sustained", args.relay_seconds))
        store = SqliteStore(work / "gateway.sqlite")
        headers = {"Authorization": f"Bearer {create_key(store, 'bench')}"}
        store.close()
        runs: list[Run] = []
        try:
            naive_port = free_port()
            naive_url, naive_log = f"http://127.0.0.1:{naive_port}", work / "naive.log"
            naive = spawn(
                [sys.executable, __file__, "--naive-server", str(naive_port), chain.rpc_url, token],
                naive_log,
                env,
            )
            try:
                wait_up(naive_url, naive, naive_log)
                run = Run("naive", args.naive_seconds)
                say(f"naive handler: {args.naive_seconds:g} s of events, {args.concurrency} clients …")
                load(naive_url, naive.pid, headers, run, recipients(capacity, b"naive"), observer, args)
                runs.append(run)
            finally:
                stop(naive)
            port = free_port()
            url, log = f"http://127.0.0.1:{port}", work / "gateway.log"
            gateway = spawn(
                [
                    sys.executable,
                    "-m",
                    "loyalty_chain.cli",
                    "serve",
                    record.name,
                    "--rpc",
                    chain.rpc_url,
                    "--db",
                    f"sqlite:///{work / 'gateway.sqlite'}",
                    "--rules",
                    str(work / "rules.toml"),
                    "--port",
                    str(port),
                    "--batch-size",
                    str(args.batch_size),
                    "--batch-txs",
                    str(args.batch_txs),
                    "--pipeline",
                    str(args.pipeline),
                    "--worker",
                    args.worker,
                    # the bench measures what the gateway can relay, not the policy's default cap
                    "--relays-per-second",
                    "10000",
                    "--relay-gas-per-day",  # ~130,000 gas a relay: 10**9 is ~7,700 relays
                    str(10**12),
                ],
                log,
                env,
            )
            try:
                wait_up(url, gateway, log)
                run = Run("gateway", args.seconds)
                say(f"gateway: {args.seconds:g} s of events, {args.concurrency} clients …")
                load(url, gateway.pid, headers, run, recipients(capacity, b"gateway"), observer, args)
                runs.append(run)
                run = Run("gateway batch", args.seconds)
                say(f"gateway: {args.seconds:g} s of batches of {args.batch_events} events …")
                load(url, gateway.pid, headers, run, recipients(capacity, b"batch"), observer, args)
                runs.append(run)
                say("redemptions: requests signed (untimed) …")
                signed = relaying.signed_requests(url, relay_members)
                for relays, batch in zip(
                    relay_runs, (signed[: len(burst_members)], signed[len(burst_members) :]), strict=False
                ):
                    what = f"{relays.seconds:g} s" if relays.seconds else f"{len(batch)} relays"
                    say(f"redemptions: {relays.name}, {what} …")
                    relaying.run(url, gateway.pid, redeemed, batch, relays, args)
            finally:
                stop(gateway)
        finally:
            for watcher in (observer, redeemed):
                watcher.stop.set()
                watcher.join(10)
    say(f"whole run: {time.perf_counter() - started:.0f} s")
    return report(runs, relay_runs, args)


def report(runs: list[Run], relay_runs: list[Relays], args: Any) -> int:
    print(
        f"anvil {args.block_time:g} s blocks of {args.block_gas:,} gas (start_devnet, EIP-7825 cap "
        f"enforced), {args.concurrency} HTTP "
        f"clients; gateway --batch-size {args.batch_size} --batch-txs {args.batch_txs} "
        f"--pipeline {args.pipeline} --worker {args.worker}, SQLite; "
        f"batch runs post {args.batch_events} events per request\n"
    )
    print(
        "| handler | seconds posting | events accepted | refused or lost | accepted/s | answer p50 / p99 ms "
        "| on chain | events/s end to end | to issued p50 / p99 s | x naive | server CPU ms/event "
        "| blocks full while posting / after |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    naive = runs[0].end_to_end or float("nan")
    for r in runs:
        issued = r.issued
        print(
            f"| {r.name} | {r.seconds:.1f} | {len(r.posted):,} | {r.refused:,} | "
            f"{len(r.posted) / r.seconds:,.0f} | "
            f"{pct(r.answer_s, 0.5) * 1e3:.0f} / {pct(r.answer_s, 0.99) * 1e3:.0f} | {len(issued):,} | "
            f"{r.end_to_end:,.0f} | {pct(issued, 0.5):.2f} / {pct(issued, 0.99):.2f} | "
            f"{r.end_to_end / naive:.1f}x | {r.cpu_s * 1e3 / max(1, len(r.posted)):.1f} | "
            f"{r.fill[0]:.0%} / {r.fill[1]:.0%} |"
        )
    for r in runs:
        for kind, text in r.errors.items():
            print(f"\n{r.name}: refused or lost ({kind}), first: {text}")
    relaying.report(relay_runs, args.relay_async)
    best = max(runs[1:], key=lambda r: r.end_to_end)
    # the naive handler's own losses are its result (its row shows them), not a gateway failure
    complete = all(len(r.issued) == len(r.posted) for r in runs[1:])
    complete = complete and all(len(r.on_chain) == len(r.posted) for r in relay_runs)
    judged = relay_runs[-1]  # the sustained run if there is one
    verdicts = [
        (
            best.end_to_end >= TARGET_EVENTS_PER_S,
            f"{best.name} {best.end_to_end:,.0f} events/s end to end (target ≥ {TARGET_EVENTS_PER_S:,.0f})",
        ),
        (
            best.end_to_end / naive >= TARGET_SPEEDUP,
            f"{best.name} {best.end_to_end / naive:.1f}x the naive handler (target ≥ {TARGET_SPEEDUP:.0f}x)",
        ),
        (
            judged.per_s >= TARGET_RELAYS_PER_S,
            f"{judged.name}: {judged.per_s:,.1f} relayed redemptions/s (target ≥ {TARGET_RELAYS_PER_S:.0f})"
            + (f" (posted for {judged.posting_s:.0f} s: every member's relay)" if judged.ran_out else ""),
        ),
        (complete, "every event and relay the gateway accepted seen on chain"),
    ]
    print()
    for ok, text in verdicts:
        print(f"{'PASS' if ok else 'FAIL'} {text}")
    return 0 if all(ok for ok, _ in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
