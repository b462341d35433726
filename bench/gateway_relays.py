"""The relayed redemptions of bench/gateway.py: members with keys, cards and points; their signed
requests; posting them as wallets would; what reached the chain and what it cost.

Two runs against the same gateway:

* **burst**: ``--relays`` signed redemptions posted by ``--concurrency`` clients as fast as they are
  answered (information: with a few hundred relays the last ones' ~1-2 s to the chain weighs on the
  rate);
* **sustained**: the same clients posting continuously for ``--relay-seconds``, each relay from a
  member of its own (a member's next request needs its previous one mined: its nonce), from as many
  members as can be posted. What issue 11's "relayed redemptions/s" judges.

Members are set up before the clock starts by batch transactions (cards by ``enrollBatch``, points
by ``issueBatch``); each request is the typed data the gateway hands out for the first member,
with the member changed (all are fresh: nonce 0), signed with coincurve (untimed). With
``Prefer: respond-async`` the gateway answers 202 once the relay is stored; an observer notes each
member's ``PerkRedeemed`` on chain. Relays/s end to end: relays seen on chain over the time from
the first POST to the last one seen. CPU per relay: the gateway's processes, anvil, and this
bench's own process (the HTTP clients and the observers) while posting.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import coincurve
import httpx2 as httpx
from eth_utils import keccak, to_checksum_address
from gateway_load import (
    Observer,
    cpu_seconds,
    end_to_end_per_s,
    named_children,
    pct,
    spans,
    spans_between,
    to_chain_s,
)

from loyalty_chain.client import LoyaltyClient
from loyalty_chain.gasless import parse_request
from loyalty_chain.records import PerkSpec

PERK_REDEEMED = "0x" + keccak(text="PerkRedeemed(uint256,uint256,address,uint256,uint256)").hex()
SETUP_BATCH = 2_000
"""Members per enrolment / issuance call (each split under the per-transaction gas cap)."""


@dataclass
class Member:
    address: str
    key: coincurve.PrivateKey


def members(count: int, salt: bytes) -> list[Member]:
    """``count`` members with keys, different for each salt (coincurve: fast for 10,000s)."""
    out = []
    for i in range(count):
        key = coincurve.PrivateKey(keccak(salt + i.to_bytes(4, "big")))
        address = keccak(key.public_key.format(compressed=False)[1:])[-20:]
        out.append(Member(to_checksum_address(address), key))
    return out


def set_up(client: LoyaltyClient, accounts: list[Member]) -> None:
    """Each member enrolled and holding 100 points, in batch transactions; perk 1 (10 points) to
    redeem, added once."""
    if client.catalog.functions.perkCount().call() == 0:
        client.add_perk(PerkSpec("Bench coffee", price=10))
    for i in range(0, len(accounts), SETUP_BATCH):
        chunk = accounts[i : i + SETUP_BATCH]
        client.enroll_many([(m.address, 0) for m in chunk])
        client.issue_many([(m.address, 100) for m in chunk], "bench")


def signed_requests(url: str, accounts: list[Member]) -> list[tuple[str, dict[str, Any]]]:
    """Each member's signed redemption of perk 1: the gateway's typed data for the first member
    (``POST /v1/redemptions/requests``: relayer, catalog, price, deadline), the member changed."""
    if not accounts:
        return []
    answer = httpx.post(
        f"{url}/v1/redemptions/requests", json={"member": accounts[0].address, "perk_id": 1}, timeout=60
    )
    template = answer.json()["typed_data"]
    signed = []
    for m in accounts:
        typed = {**template, "message": {**template["message"], "member": m.address}}
        raw = m.key.sign_recoverable(parse_request(typed).digest(), hasher=None)
        signature = "0x" + (raw[:64] + bytes([raw[64] + 27])).hex()
        signed.append((m.address, {"typed_data": typed, "signature": signature}))
    return signed


@dataclass
class Relays:
    """One relay run: answers, then each member's ``PerkRedeemed`` seen on chain."""

    name: str
    seconds: float | None = None
    """How long to post (None: until every request is posted)."""
    available: int = 0
    posted: dict[str, float] = field(default_factory=dict)
    answer_s: list[float] = field(default_factory=list)
    refused: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    first_post: float = 0.0
    posting_s: float = 0.0
    seen: dict[str, float] = field(default_factory=dict)
    cpu_s: float = 0.0
    """CPU seconds of the gateway's processes from the first POST until the last relay was seen."""
    anvil_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    """CPU seconds of this bench's process (its HTTP clients, the observers) while posting."""
    spans: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    shared: tuple[int, int] = (0, 0)
    """Admissions' node reads and the JSON-RPC batches that carried them (``/metrics``)."""

    @property
    def on_chain(self) -> list[float]:
        return to_chain_s(self.posted, self.seen)

    @property
    def per_s(self) -> float:
        return end_to_end_per_s(self.posted, self.seen, self.first_post)

    @property
    def ran_out(self) -> bool:
        """A timed run that posted every request it had before its time was up."""
        return self.seconds is not None and len(self.posted) + self.refused >= self.available


async def post(
    url: str, signed: list[tuple[str, dict[str, Any]]], relays: Relays, concurrency: int, respond_async: bool
) -> None:
    """``concurrency`` wallets posting signed redemptions until time or requests run out.

    The wallets are aiohttp clients on ``concurrency`` kept-alive connections, each waiting for its
    answer before posting again (httpx's client cost this process ~3.5 ms of CPU a relay, on the
    same 2 cores as the gateway and the node; aiohttp ~1 ms). The bodies are JSON-encoded with
    the signing, before the clock starts."""
    queue = iter([(member, json.dumps(body).encode()) for member, body in signed])
    relays.available = len(signed)
    headers = {"Content-Type": "application/json"}
    if respond_async:
        headers["Prefer"] = "respond-async"
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout, headers=headers) as client:
        relays.first_post = time.perf_counter()
        deadline = relays.first_post + (relays.seconds if relays.seconds is not None else float("inf"))

        async def one_client() -> None:
            for member, body in queue:
                started = time.perf_counter()
                if started >= deadline:
                    return
                try:
                    async with client.post("/v1/redemptions", data=body) as answer:
                        text = await answer.text()
                except (aiohttp.ClientError, TimeoutError) as exc:  # counted, and shown once
                    relays.refused += 1
                    relays.errors.setdefault(type(exc).__name__, str(exc))
                    continue
                relays.answer_s.append(time.perf_counter() - started)
                if answer.status in (201, 202):
                    relays.posted[member.lower()] = started
                else:
                    relays.refused += 1
                    relays.errors.setdefault(str(answer.status), text[:200])

        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        relays.posting_s = time.perf_counter() - relays.first_post


def run(
    url: str,
    gateway_pid: int,
    redeemed: Observer,
    signed: list[tuple[str, dict[str, Any]]],
    relays: Relays,
    args: Any,
) -> None:
    """Post, wait for the chain, and note the CPU each side spent and the gateway's spans."""
    anvil = named_children("anvil")
    spans_before, cpu_before, shared_before = spans(url), cpu_seconds(gateway_pid), shared_reads(url)
    anvil_before, own_before = sum(cpu_seconds(p) for p in anvil), time.process_time()
    asyncio.run(post(url, signed, relays, args.concurrency, args.relay_async))
    relays.client_cpu_s = time.process_time() - own_before
    deadline = time.monotonic() + args.settle
    while time.monotonic() < deadline and any(m not in redeemed.seen for m in relays.posted):
        time.sleep(0.2)
    relays.cpu_s = cpu_seconds(gateway_pid) - cpu_before
    relays.anvil_cpu_s = sum(cpu_seconds(p) for p in anvil) - anvil_before
    relays.spans = spans_between(spans_before, spans(url))
    (reads, batches), (reads_before, batches_before) = shared_reads(url), shared_before
    relays.shared = (reads - reads_before, batches - batches_before)
    relays.seen = {m: redeemed.seen[m] for m in relays.posted if m in redeemed.seen}


def shared_reads(url: str) -> tuple[int, int]:
    """The gateway's admissions' node reads so far, and the batches that carried them."""
    found = dict.fromkeys(("relay_reads", "relay_read_batches"), 0)
    for line in httpx.get(f"{url}/metrics", timeout=30).text.splitlines():
        name, _, value = line.partition(" ")
        if name.removeprefix("loyalty_gateway_") in found:
            found[name.removeprefix("loyalty_gateway_")] = int(float(value))
    return found["relay_reads"], found["relay_read_batches"]


def report(runs: list[Relays], respond_async: bool) -> None:
    mode = "Prefer: respond-async (202 once stored)" if respond_async else "each waits for its relay"
    print(
        f"\n| relayed redemptions ({mode}) | seconds posting | accepted | refused | answer p50 / p99 ms "
        "| relayed on chain | relays/s end to end | to relayed p50 / p99 s "
        "| CPU ms/relay: gateway / anvil / bench client |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in runs:
        n, on_chain = max(1, len(r.posted)), r.on_chain
        name = r.name + (" (every member posted before the time was up)" if r.ran_out else "")
        print(
            f"| {name} | {r.posting_s:.1f} | {len(r.posted):,} | {r.refused:,} | "
            f"{pct(r.answer_s, 0.5) * 1e3:.0f} / {pct(r.answer_s, 0.99) * 1e3:.0f} | "
            f"{len(on_chain):,} | {r.per_s:,.1f} | {pct(on_chain, 0.5):.2f} / {pct(on_chain, 0.99):.2f} | "
            f"{r.cpu_s * 1e3 / n:.1f} / {r.anvil_cpu_s * 1e3 / n:.1f} / {r.client_cpu_s * 1e3 / n:.1f} |"
        )
    for r in runs:
        reads, batches = r.shared
        print(f"\n{r.name}: the admissions' node reads of {reads:,} relays went in {batches:,} batches")
    for r in runs:
        for kind, text in r.errors.items():
            print(f"\n{r.name}: refused ({kind}), first: {text}", file=sys.stderr)
    stages = sorted({k for r in runs for k in r.spans})
    print(
        "\nWhere the time went, ms per relay, wall / CPU of the thread (the gateway's /metrics spans;"
        " admit.node is part of admit.prepare, admit.before is reading and validating, admit.slot"
        " waiting for an admission thread; relay.* are the relayer's rounds):\n"
    )
    print("| stage | " + " | ".join(r.name for r in runs) + " |")
    print("|---|" + "--:|" * len(runs))
    for stage in stages:
        cells = []
        for r in runs:
            _, wall, cpu = r.spans.get(stage, (0.0, 0.0, 0.0))
            n = max(1, len(r.posted))
            cells.append(f"{wall * 1e3 / n:.1f} / {cpu * 1e3 / n:.2f}")
        print(f"| {stage} | " + " | ".join(cells) + " |")
