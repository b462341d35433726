"""PostgreSQL storage for real: a server from Debian's packages, two gateway processes on it, every
event posted to both at the same moment; each is stored once and issued once on chain."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest
from support.gateway_process import start, wait_up
from support.postgres import bin_dir, postgres_server

from loyalty_chain.chain import Chain, free_port
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.errors import InputError
from loyalty_chain.gateway import Store, create_key, open_store
from loyalty_chain.program import ProgramOptions, deploy_program

EVENTS = 12
SETTLE_S = 120.0


@pytest.fixture
def postgres_url() -> Iterator[str]:
    bins = bin_dir()
    if bins is None:
        message = "PostgreSQL is not installed (toolchain/setup.sh installs it: apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with postgres_server(bins) as url:
        yield url


@pytest.fixture
def store(postgres_url: str) -> Iterator[Store]:
    opened = open_store(postgres_url)
    yield opened
    opened.close()


def test_a_bad_postgres_url_is_refused_with_the_fix() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(InputError, match=r"cannot connect to PostgreSQL .*postgresql://user:password@"):
        open_store(f"postgresql://gw:secret@127.0.0.1:{port}/nothing")
    with pytest.raises(InputError) as caught:
        open_store(f"postgresql://gw:secret@127.0.0.1:{port}/nothing")
    assert "secret" not in str(caught.value)


def post_together(
    pool: ThreadPoolExecutor, urls: list[str], body: dict[str, str], headers: dict[str, str]
) -> list[httpx.Response]:
    """The same event posted to every gateway, the requests released at the same moment."""
    together = threading.Barrier(len(urls), timeout=30)

    def post(url: str) -> httpx.Response:
        together.wait()
        return httpx.post(f"{url}/v1/events", json=body, headers=headers, timeout=30)

    return list(pool.map(post, urls))


@pytest.mark.slow
def test_two_gateways_on_one_postgres_issue_each_event_once(
    anvil_factory: Callable[..., Chain], rules_file: Path, tmp_path: Path, postgres_url: str, store: Store
) -> None:
    chain = anvil_factory(block_time=1.0)
    program = deploy_program(
        chain, ProgramOptions("cafe"), chain.dev_account(0), root=tmp_path / "deployments"
    )
    headers = {"Authorization": f"Bearer {create_key(store, 'shop')}"}
    member = chain.dev_account(7).address
    client = LoyaltyClient(chain, program, chain.dev_account(0))
    before = client.balance(member)
    ports = [free_port(), free_port()]
    assert ports[0] != ports[1]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    logs = [tmp_path / "gateway-a.log", tmp_path / "gateway-b.log"]
    processes = [
        # one machine: both see the same operations journal ($LOYALTY_CHAIN_HOME)
        start(program, chain, postgres_url, rules_file, port, log, home=tmp_path / "home")
        for port, log in zip(ports, logs, strict=True)
    ]
    try:
        for url, process, log in zip(urls, processes, logs, strict=True):
            wait_up(url, process, log)
        with ThreadPoolExecutor(2) as pool:
            for i in range(EVENTS):
                body = {"id": f"order-{i}", "type": "purchase", "member": member, "value": "1"}
                answers = post_together(pool, urls, {**body, "currency": "EUR"}, headers)
                assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
                replayed = [a.headers.get("Idempotent-Replayed") == "true" for a in answers]
                assert sorted(replayed) == [False, True]  # stored by one, replayed by the other
        deadline = time.monotonic() + SETTLE_S
        states = [""]
        while time.monotonic() < deadline:
            states = [
                httpx.get(f"{urls[i % 2]}/v1/events/order-{i}", headers=headers).json()["status"]
                for i in range(EVENTS)
            ]
            if set(states) == {"issued"}:
                break
            time.sleep(0.5)
        assert set(states) == {"issued"}, [log.read_text() for log in logs]
    finally:
        for process in processes:
            process.kill()
            process.wait(10)
    assert client.balance(member) - before == EVENTS * 10
    grants = store.query("SELECT event_id, COUNT(*) FROM grants GROUP BY event_id")
    assert len(grants) == EVENTS and {int(n) for _, n in grants} == {1}
    (sent,) = store.query_one("SELECT COUNT(*) FROM batches WHERE state = 'issued'")
    hashes = store.query("SELECT DISTINCT tx_hash FROM batches WHERE state = 'issued'")
    assert len(hashes) == int(sent)  # each batch its own transaction
