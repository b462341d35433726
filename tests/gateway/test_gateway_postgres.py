"""PostgreSQL storage for real: a server from Debian's packages, two gateway processes on it, every
event posted to both at the same moment; each is stored once and issued once on chain."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from support.gateway_process import http, one_second_blocks, start, wait_up
from support.postgres import bin_dir, postgres_server

from loyalty_chain.chain import Chain, free_port
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.delivery.sender import GAS_MARGIN
from loyalty_chain.errors import InputError
from loyalty_chain.gasless import sign_typed_data
from loyalty_chain.gateway import Store, create_key, open_store
from loyalty_chain.program import ProgramOptions, deploy_program
from loyalty_chain.records import PerkSpec
from loyalty_chain.relay_policy import relay_call

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
        return http().post(f"{url}/v1/events", json=body, headers=headers, timeout=30)

    return list(pool.map(post, urls))


@pytest.mark.slow
def test_two_gateways_on_one_postgres_issue_each_event_once(
    anvil_factory: Callable[..., Chain], rules_file: Path, tmp_path: Path, postgres_url: str, store: Store
) -> None:
    chain = anvil_factory()
    program = deploy_program(
        chain, ProgramOptions("cafe"), chain.dev_account(0), root=tmp_path / "deployments"
    )
    headers = {"Authorization": f"Bearer {create_key(store, 'shop')}"}
    member = chain.dev_account(7).address
    client = LoyaltyClient(chain, program, chain.dev_account(0))
    before = client.balance(member)
    one_second_blocks(chain)
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
                http().get(f"{urls[i % 2]}/v1/events/order-{i}", headers=headers).json()["status"]
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


BURST = 8


@pytest.mark.slow
def test_two_gateways_on_one_postgres_share_the_relay_limits(
    anvil_factory: Callable[..., Chain], rules_file: Path, tmp_path: Path, postgres_url: str, store: Store
) -> None:
    """The per-member hourly limit and the daily gas budget hold for both processes together: a
    member served by one is refused by the other, and a burst of relays posted to both at the same
    moment never admits more gas than the budget."""
    chain = anvil_factory()
    program = deploy_program(
        chain, ProgramOptions("cafe"), chain.dev_account(0), root=tmp_path / "deployments"
    )
    brand = LoyaltyClient(chain, program, chain.dev_account(0))
    members = [Account.from_key((5000 + i).to_bytes(32, "big")) for i in range(BURST + 1)]
    brand.enroll_many([(m.address, 0) for m in members])
    brand.issue_many([(m.address, 100) for m in members], "welcome")
    brand.add_perk(PerkSpec("Free latte", price=10))
    one_second_blocks(chain)

    def signed(member: LocalAccount) -> dict[str, Any]:
        typed = brand.redemption_request(member.address, 1)
        return {"typed_data": typed, "signature": sign_typed_data(member, typed)}

    first = signed(members[0])
    call = relay_call(brand.catalog, first["typed_data"], first["signature"], relayer=brand.sender.address)
    one = int(brand.sender.simulate(call) * GAS_MARGIN)  # the first is the dearest (the perk's first sale)
    budget = 4 * one
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    logs = [tmp_path / "gateway-a.log", tmp_path / "gateway-b.log"]
    limits = ("--relays-per-member-hour", "1", "--relay-gas-per-day", str(budget))
    processes = [
        start(program, chain, postgres_url, rules_file, port, log, home=tmp_path / "home", extra=limits)
        for port, log in zip(ports, logs, strict=True)
    ]
    try:
        for url, process, log in zip(urls, processes, logs, strict=True):
            wait_up(url, process, log)
        done = http().post(f"{urls[0]}/v1/redemptions", json=first, timeout=60)
        assert done.status_code == 201, done.text
        again = http().post(f"{urls[1]}/v1/redemptions", json=signed(members[0]), timeout=60)
        assert again.status_code == 429 and again.json()["error"]["field"] == "member", again.text

        together = threading.Barrier(BURST, timeout=30)

        def post(n: int) -> httpx.Response:
            body = signed(members[1 + n])
            together.wait()
            return http().post(f"{urls[n % 2]}/v1/redemptions", json=body, timeout=90)

        with ThreadPoolExecutor(BURST) as pool:
            answers = list(pool.map(post, range(BURST)))
        codes = sorted(a.status_code for a in answers)
        assert set(codes) <= {201, 202, 429} and 429 in codes, [a.text for a in answers]
        assert all("budget" in a.json()["error"]["message"] for a in answers if a.status_code == 429)
        deadline = time.monotonic() + SETTLE_S
        relaying = "SELECT 1 FROM redemptions WHERE status = 'relaying'"
        while store.query(relaying) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        for process in processes:
            process.kill()
            process.wait(10)
    rows = store.query("SELECT member, status, gas FROM redemptions")
    assert {status for _, status, _ in rows} == {"relayed"}, rows
    (counted,) = store.query_one("SELECT SUM(gas) FROM relay_gas")
    admitted = store.query_one("SELECT SUM(gas) FROM relays")[0]
    assert int(counted) == int(admitted) <= budget
    relayed = {member for member, _, _ in rows}
    for member in members:
        nonce = int(brand.catalog.functions.nonces(member.address).call())
        assert nonce == (1 if member.address in relayed else 0)
