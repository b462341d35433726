"""The event runs of bench/gateway.py: ``--concurrency`` clients posting ``purchase`` events (one per
fresh member) to the naive handler or the gateway, one per request or in batches; and the naive
handler itself (a FastAPI endpoint calling ``issue(...).transact()`` per event, run as a process
of its own by ``bench/gateway.py --naive-server PORT RPC TOKEN``)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
from gateway_load import Observer, cpu_seconds, end_to_end_per_s, fill, to_chain_s
from pydantic import BaseModel

POINTS_PER_EUR = 10


@dataclass
class Run:
    """One load run against one HTTP endpoint."""

    name: str
    seconds: float = 0.0
    posted: dict[str, float] = field(default_factory=dict)
    """member (lowercase) → when its event was posted (perf_counter)."""
    answer_s: list[float] = field(default_factory=list)
    refused: int = 0
    first_post: float = 0.0
    seen: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    """A refusal or transport error of each kind, as first met."""
    cpu_s: float = 0.0
    """CPU seconds the server's processes spent while the events were posted and issued."""
    fill: tuple[float, float] = (float("nan"), float("nan"))
    """How full the blocks were (gas used / gas limit) while posting, and after until the last mint."""

    @property
    def issued(self) -> list[float]:
        return to_chain_s(self.posted, self.seen)

    @property
    def end_to_end(self) -> float:
        return end_to_end_per_s(self.posted, self.seen, self.first_post)


async def post_events(url: str, headers: dict[str, str], members: list[str], run: Run, args: Any) -> None:
    """``args.concurrency`` clients posting one event per member until time or members run out;
    a run named ``…batch`` posts ``args.batch_events`` events per ``POST /v1/events/batch``."""
    if run.name.endswith("batch"):
        await post_batches(url, headers, members, run, args)
        return
    queue = iter(enumerate(members))
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as client:
        deadline = time.perf_counter() + run.seconds
        run.first_post = time.perf_counter()

        async def one_client() -> None:
            for i, member in queue:
                if time.perf_counter() >= deadline:
                    return
                body = {
                    "id": f"{run.name}-{i}",
                    "type": "purchase",
                    "member": member,
                    "value": "1",
                    "currency": "EUR",
                }
                started = time.perf_counter()
                try:
                    answer = await client.post("/v1/events", json=body)
                except httpx.TransportError as exc:  # counted, and shown once
                    run.refused += 1
                    run.errors.setdefault(type(exc).__name__, str(exc))
                    continue
                run.answer_s.append(time.perf_counter() - started)
                if answer.status_code == 202:
                    run.posted[member.lower()] = started
                else:
                    run.refused += 1
                    run.errors.setdefault(str(answer.status_code), answer.text[:200])

        await asyncio.gather(*(one_client() for _ in range(args.concurrency)))
        run.seconds = time.perf_counter() - run.first_post


def event_body(run: Run, i: int, member: str) -> dict[str, str]:
    event_id = f"{run.name.replace(' ', '-')}-{i}"
    return {"id": event_id, "type": "purchase", "member": member, "value": "1", "currency": "EUR"}


async def post_batches(url: str, headers: dict[str, str], members: list[str], run: Run, args: Any) -> None:
    size = args.batch_events
    chunks = iter([members[i : i + size] for i in range(0, len(members), size)])
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=120) as client:
        deadline = time.perf_counter() + run.seconds
        run.first_post = time.perf_counter()
        counter = iter(range(10**9))

        async def one_client() -> None:
            for chunk in chunks:
                if time.perf_counter() >= deadline:
                    return
                n = next(counter) * size
                events = [event_body(run, n + k, m) for k, m in enumerate(chunk)]
                started = time.perf_counter()
                try:
                    answer = await client.post("/v1/events/batch", json={"events": events})
                except httpx.TransportError as exc:
                    run.refused += len(chunk)
                    run.errors.setdefault(type(exc).__name__, str(exc))
                    continue
                run.answer_s.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    run.refused += len(chunk)
                    run.errors.setdefault(str(answer.status_code), answer.text[:200])
                    continue
                for member, result in zip(chunk, answer.json()["results"], strict=True):
                    if result["status"] == 202:
                        run.posted[member.lower()] = started
                    else:
                        run.refused += 1
                        run.errors.setdefault(str(result["status"]), str(result["body"])[:200])

        await asyncio.gather(*(one_client() for _ in range(args.concurrency)))
        run.seconds = time.perf_counter() - run.first_post


def wait_seen(observer: Observer, run: Run, settle_s: float) -> None:
    deadline = time.monotonic() + settle_s
    while time.monotonic() < deadline and any(m not in observer.seen for m in run.posted):
        time.sleep(0.2)
    run.seen = {m: observer.seen[m] for m in run.posted if m in observer.seen}
    if run.seen:  # the blocks from the first post to the last mint: while posting, then after
        posting_end, last = run.first_post + run.seconds, max(run.seen.values())
        run.fill = (
            fill(observer.blocks, run.first_post, posting_end),
            fill(observer.blocks, posting_end, last),
        )


def load(
    url: str, pid: int, headers: dict[str, str], run: Run, members: list[str], observer: Observer, args: Any
) -> None:
    before = cpu_seconds(pid)
    asyncio.run(post_events(url, headers, members, run, args))
    wait_seen(observer, run, args.settle)
    run.cpu_s = cpu_seconds(pid) - before


# -- the naive handler (run as its own process: bench/gateway.py --naive-server PORT RPC TOKEN) --


class NaiveEvent(BaseModel):
    id: str
    type: str
    member: str
    value: str
    currency: str


def naive_server(port: int, rpc: str, token: str) -> None:
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse
    from web3 import Web3

    from loyalty_chain.artifacts import load_artifact
    from loyalty_chain.values import reason_code

    w3 = Web3(Web3.HTTPProvider(rpc))
    points = w3.eth.contract(address=Web3.to_checksum_address(token), abi=load_artifact("LoyaltyPoints").abi)
    sender, reason = w3.eth.accounts[0], reason_code("purchase")
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/events", status_code=202)
    def post_event(event: NaiveEvent) -> JSONResponse:
        amount = int(float(event.value) * POINTS_PER_EUR)
        try:
            tx = points.functions.issue(event.member, amount, reason).transact({"from": sender})
        except Exception as exc:  # shown in the bench's table: why the naive handler lost an event
            return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=500)
        return JSONResponse({"id": event.id, "tx_hash": tx.hex()}, status_code=202)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
