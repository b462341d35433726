"""``kill -9`` of a gateway process while it issues, then a restart: every accepted event issued once."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support.gateway_process import (
    http,
    one_second_blocks,
    program_balance,
    program_with_key,
    start,
    wait_gone,
    wait_up,
    worker_of,
)

from loyalty_chain.chain import Chain, free_port
from loyalty_chain.gateway import SqliteStore

EVENTS = 60
MEMBERS = 3
SETTLE_S = 90.0


def statuses_in(db: Path) -> list[str]:
    store = SqliteStore(db)
    try:
        return [str(s) for (s,) in store.query("SELECT status FROM events")]
    finally:
        store.close()


def statuses(url: str, headers: dict[str, str]) -> list[str]:
    return [http().get(f"{url}/v1/events/order-{i}", headers=headers).json()["status"] for i in range(EVENTS)]


def batch_states(db: Path) -> dict[str, int]:
    store = SqliteStore(db)
    try:
        return {str(k): int(v) for k, v in store.query("SELECT state, COUNT(*) FROM batches GROUP BY state")}
    finally:
        store.close()


@pytest.mark.slow
def test_kill_9_then_restart_issues_every_event_once(
    anvil_factory: Callable[..., Chain], rules_file: Path, tmp_path: Path
) -> None:
    # a chain of its own with 1-second blocks once set up: each batch waits for its block, so the
    # kill lands while batches are still pending or in flight
    chain = anvil_factory()
    program, db, log, headers = program_with_key(chain, tmp_path)
    members = [chain.dev_account(i).address for i in range(7, 7 + MEMBERS)]
    before = [int(program_balance(chain, program, m)) for m in members]
    one_second_blocks(chain)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(program, chain, f"sqlite:///{db}", rules_file, port, log)
    try:
        wait_up(url, process, log)
        for i in range(EVENTS):
            body = {
                "id": f"order-{i}",
                "type": "purchase",
                "member": members[i % MEMBERS],
                "value": "1",
                "currency": "EUR",
            }
            assert http().post(f"{url}/v1/events", json=body, headers=headers).status_code == 202
        deadline = time.monotonic() + SETTLE_S
        while not batch_states(db).get("issued") and time.monotonic() < deadline:
            time.sleep(0.05)
        worker = worker_of(process)
        process.send_signal(signal.SIGKILL)  # mid-way: some batches issued, others not yet
        process.wait(10)
        assert wait_gone([worker]) == []  # the issuing worker's process goes with it: no orphan
        at_kill = batch_states(db)
        issued_at_kill = statuses_in(db).count("issued")
        assert 0 < issued_at_kill < EVENTS, at_kill

        process = start(program, chain, f"sqlite:///{db}", rules_file, port, log)
        wait_up(url, process, log)
        deadline = time.monotonic() + SETTLE_S
        while set(statuses(url, headers)) != {"issued"} and time.monotonic() < deadline:
            time.sleep(0.2)
        assert set(statuses(url, headers)) == {"issued"}, log.read_text()
    finally:
        process.kill()
        process.wait(10)
    after = [int(program_balance(chain, program, m)) for m in members]
    assert [a - b for a, b in zip(after, before, strict=True)] == [EVENTS // MEMBERS * 10] * MEMBERS
