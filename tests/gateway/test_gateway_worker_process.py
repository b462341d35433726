"""The issuing worker in a process of its own (``serve``'s default): ``kill -9`` of the worker alone
while it issues (the gateway starts another; every accepted event issued once), and no process left
behind when the gateway stops."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support.gateway_process import (
    descendants,
    http,
    one_second_blocks,
    program_balance,
    program_with_key,
    start,
    wait_gone,
    wait_up,
    worker_of,
)
from test_gateway_crash import batch_states

from loyalty_chain.chain import Chain, free_port

EVENTS = 40
MEMBERS = 4
SETTLE_S = 90.0


def metric(url: str, name: str) -> int:
    for line in http().get(f"{url}/metrics").text.splitlines():
        if line.startswith(f"loyalty_gateway_{name} "):
            return int(line.split()[1])
    return 0


@pytest.mark.slow
def test_kill_9_of_the_worker_alone_then_every_event_issued_once(
    anvil_factory: Callable[..., Chain], rules_file: Path, tmp_path: Path
) -> None:
    chain = anvil_factory()
    program, db, log, headers = program_with_key(chain, tmp_path)
    members = [chain.dev_account(i).address for i in range(6, 6 + MEMBERS)]
    before = [program_balance(chain, program, m) for m in members]
    one_second_blocks(chain)  # each batch waits for its block: the kill lands mid-way
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(program, chain, f"sqlite:///{db}", rules_file, port, log)
    try:
        wait_up(url, process, log)
        first = worker_of(process)

        def post(i: int) -> None:
            member = members[i % MEMBERS]
            body = {"id": f"o-{i}", "type": "purchase", "member": member, "value": "1", "currency": "EUR"}
            assert http().post(f"{url}/v1/events", json=body, headers=headers).status_code == 202

        for i in range(EVENTS // 2):
            post(i)
        deadline = time.monotonic() + SETTLE_S
        while not batch_states(db).get("issued") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert batch_states(db).get("issued"), log.read_text()
        os.kill(first, signal.SIGKILL)  # the worker alone: the HTTP process keeps accepting
        for i in range(EVENTS // 2, EVENTS):
            post(i)  # accepted while no worker runs
        deadline = time.monotonic() + SETTLE_S
        while metric(url, "events_issued") < EVENTS and time.monotonic() < deadline:
            time.sleep(0.2)
        assert metric(url, "events_issued") == EVENTS, log.read_text()
        assert metric(url, "grants_issued") == EVENTS
        assert metric(url, "worker_restarts") == 1
        second = worker_of(process)
        assert second != first
        assert process.poll() is None
        everything = [process.pid, *descendants(process.pid)]
        process.send_signal(signal.SIGTERM)  # stopping the gateway stops its worker: no orphan
        process.wait(60)
        assert wait_gone(everything) == [], log.read_text()
    finally:
        process.kill()
        process.wait(10)
    after = [program_balance(chain, program, m) for m in members]
    assert [a - b for a, b in zip(after, before, strict=True)] == [EVENTS // MEMBERS * 10] * MEMBERS
