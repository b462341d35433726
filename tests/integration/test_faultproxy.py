"""The fault proxy itself, with raw HTTP: each fault observable, and what reached the node checked on it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account import Account
from support.faultproxy import FaultProxy, Faults, profile
from support.fixtures import AnvilFactory

from loyalty_chain.chain import Chain, dev_keys
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.program import ProgramOptions, deploy_program

GWEI = 10**9


def rpc(url: str, method: str, params: list[Any] | None = None, *, timeout: float = 10) -> Any:
    """One call; the decoded JSON answer (the whole object, error or result)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    response = requests.post(url, json=body, timeout=timeout)
    response.raise_for_status()
    return response.json()


def post(url: str, body: Any) -> requests.Response:
    """A raw POST; the HTTP answer whatever its status."""
    return requests.post(url, json=body, timeout=10)


def batch(url: str, calls: list[tuple[str, list[Any]]]) -> requests.Response:
    body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
    return post(url, body)


def signed_transfer(node: Chain, nonce_offset: int = 0, sender: int = 1) -> tuple[str, str]:
    """(raw hex, hash) of a 1-wei transfer by dev account ``sender`` at its next nonce (+offset)."""
    key = dev_keys()[sender]
    nonce = node.w3.eth.get_transaction_count(key.address, "pending") + nonce_offset
    tx = {
        "type": 2,
        "chainId": node.chain_id,
        "nonce": nonce,
        "to": dev_keys()[9].address,
        "value": 1,
        "gas": 21_000,
        "maxFeePerGas": 10 * GWEI,
        "maxPriorityFeePerGas": GWEI,
    }
    signed = Account.sign_transaction(tx, key.key)
    return "0x" + signed.raw_transaction.hex(), "0x" + signed.hash.hex()


def known_to(node: Chain, tx_hash: str) -> bool:
    """Whether the node has the transaction (mined or pending), asked directly, not via the proxy."""
    return rpc(node.rpc_url, "eth_getTransactionByHash", [tx_hash])["result"] is not None


def wait_mined(node: Chain, tx_hash: str) -> None:
    """Until the node itself has the receipt (anvil mines just after answering the send); bounded."""
    for _ in range(100):
        if rpc(node.rpc_url, "eth_getTransactionReceipt", [tx_hash])["result"] is not None:
            return
        time.sleep(0.05)
    raise AssertionError(f"{tx_hash} was not mined within 5 s")


def test_forwards_single_and_batch_and_counts_calls(fault_proxy: FaultProxy, fresh_anvil: Chain) -> None:
    assert rpc(fault_proxy.url, "eth_chainId")["result"] == hex(31337)
    answer = batch(fault_proxy.url, [("eth_chainId", []), ("eth_blockNumber", []), ("eth_chainId", [])])
    assert answer.status_code == 200
    assert [a["id"] for a in answer.json()] == [0, 1, 2]
    assert answer.json()[0]["result"] == hex(31337)
    counters = fault_proxy.counters
    assert counters.http_requests == 2 and counters.batches == 1
    assert counters.methods == {"eth_chainId": 3, "eth_blockNumber": 1}
    assert counters.forwarded == counters.methods
    assert counters.calls == 4 and not counters.faults
    fault_proxy.reset_counters()
    assert fault_proxy.counters.http_requests == 0


def test_proxied_chain_fixture_goes_through_the_proxy(proxied_chain: Chain, fault_proxy: FaultProxy) -> None:
    assert proxied_chain.chain_id == 31337
    assert proxied_chain.w3.eth.block_number == 0
    assert fault_proxy.counters.methods["eth_blockNumber"] == 1


def test_a_contract_read_is_one_round_trip_and_identity_checks_still_ask(
    proxied_chain: Chain, fault_proxy: FaultProxy, tmp_path: Path
) -> None:
    """web3 asks eth_chainId before every eth_call; the transport answers it from memory after the
    first time, but a batch (the delivery layer's identity check) always reaches the node."""
    record = deploy_program(
        proxied_chain, ProgramOptions("reads"), proxied_chain.dev_account(0), root=tmp_path
    )
    brand = LoyaltyClient(proxied_chain, record, proxied_chain.dev_account(0))
    fault_proxy.reset_counters()
    for i in range(5):
        brand.balance(proxied_chain.dev_account(i).address)
    assert fault_proxy.counters.methods == {"eth_call": 5}
    assert proxied_chain.batch([("eth_chainId", [])])[0]["result"] == hex(31337)
    assert fault_proxy.counters.methods["eth_chainId"] == 1


@pytest.mark.parametrize("kind", ["reset", "502"])
def test_lost_send_answer_the_node_has_the_transaction(
    fault_proxy: FaultProxy, fresh_anvil: Chain, kind: str
) -> None:
    fault_proxy.faults.update(lose_send_answers=1.0, lost_answer_kind=kind)
    raw, tx_hash = signed_transfer(fresh_anvil)
    with pytest.raises(requests.exceptions.ConnectionError if kind == "reset" else requests.HTTPError):
        rpc(fault_proxy.url, "eth_sendRawTransaction", [raw])
    assert known_to(fresh_anvil, tx_hash)
    assert fault_proxy.accepted_sends == [tx_hash]
    assert fault_proxy.counters.faults == {"lose_send_answers": 1}


def test_lost_send_answer_as_a_read_timeout(fault_proxy: FaultProxy, fresh_anvil: Chain) -> None:
    fault_proxy.faults.update(lose_send_answers=1.0, lost_answer_kind="timeout", lost_answer_hold_s=2.0)
    raw, tx_hash = signed_transfer(fresh_anvil)
    with pytest.raises(requests.exceptions.ReadTimeout):
        rpc(fault_proxy.url, "eth_sendRawTransaction", [raw], timeout=0.5)
    wait_mined(fresh_anvil, tx_hash)  # on a busy machine the forward may land after the timeout


def test_lost_send_answer_in_a_batch_loses_the_whole_answer(
    fault_proxy: FaultProxy, fresh_anvil: Chain
) -> None:
    fault_proxy.faults.update(lose_send_answers=1.0)
    (raw0, hash0), (raw1, hash1) = signed_transfer(fresh_anvil), signed_transfer(fresh_anvil, 1)
    with pytest.raises(requests.exceptions.ConnectionError):
        batch(fault_proxy.url, [("eth_sendRawTransaction", [raw0]), ("eth_sendRawTransaction", [raw1])])
    assert known_to(fresh_anvil, hash0) and known_to(fresh_anvil, hash1)
    assert fault_proxy.counters.faults["lose_send_answers"] == 2


def test_already_known_replaces_the_answer_of_an_accepted_send(
    fault_proxy: FaultProxy, fresh_anvil: Chain
) -> None:
    fault_proxy.faults.update(already_known=1.0)
    raw, tx_hash = signed_transfer(fresh_anvil)
    answer = rpc(fault_proxy.url, "eth_sendRawTransaction", [raw])
    assert answer["error"] == {"code": -32000, "message": "already known"}
    assert known_to(fresh_anvil, tx_hash)
    assert fault_proxy.counters.forwarded["eth_sendRawTransaction"] == 1


def test_already_known_resend_returns_the_nodes_own_duplicate_answer(
    fault_proxy: FaultProxy, fresh_anvil: Chain
) -> None:
    fault_proxy.faults.update(already_known=1.0, already_known_mode="resend")
    raw, tx_hash = signed_transfer(fresh_anvil)
    answer = rpc(fault_proxy.url, "eth_sendRawTransaction", [raw])
    assert "error" in answer  # anvil automines: the duplicate is refused for its nonce
    assert answer["error"]["message"] != "already known"
    assert known_to(fresh_anvil, tx_hash)
    assert fault_proxy.counters.forwarded["eth_sendRawTransaction"] == 2


def test_a_refused_send_keeps_the_nodes_error(fault_proxy: FaultProxy, fresh_anvil: Chain) -> None:
    fault_proxy.faults.update(already_known=1.0)
    raw, _ = signed_transfer(fresh_anvil)
    rpc(fresh_anvil.rpc_url, "eth_sendRawTransaction", [raw])
    answer = rpc(fault_proxy.url, "eth_sendRawTransaction", [raw])
    assert "already known" not in answer["error"]["message"]
    assert not fault_proxy.counters.faults


@pytest.mark.parametrize(
    ("fault", "error", "reached"),
    [
        ("http_502", requests.HTTPError, False),
        ("reset", requests.exceptions.ConnectionError, False),
        ("http_502_after_forward", requests.HTTPError, True),
        ("reset_after_forward", requests.exceptions.ConnectionError, True),
    ],
)
def test_transport_faults_before_and_after_forwarding(
    fault_proxy: FaultProxy, fresh_anvil: Chain, fault: str, error: type[Exception], reached: bool
) -> None:
    fault_proxy.faults.update(**{fault: 1.0})
    raw, tx_hash = signed_transfer(fresh_anvil)
    with pytest.raises(error):
        rpc(fault_proxy.url, "eth_sendRawTransaction", [raw])
    assert known_to(fresh_anvil, tx_hash) is reached
    assert fault_proxy.counters.faults == {fault: 1}
    assert fault_proxy.counters.forwarded["eth_sendRawTransaction"] == int(reached)


def test_a_502_has_an_html_body_like_a_load_balancer(fault_proxy: FaultProxy) -> None:
    fault_proxy.faults.update(http_502=1.0)
    answer = post(fault_proxy.url, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
    assert answer.status_code == 502
    assert answer.headers["Content-Type"] == "text/html"


class FakeClock:
    """A clock the test moves by hand, so rate limits and receipt lag do not depend on load."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clocked_proxy(fresh_anvil: Chain) -> Iterator[tuple[FaultProxy, FakeClock]]:
    clock = FakeClock()
    with FaultProxy(fresh_anvil.rpc_url, clock=clock) as proxy:
        yield proxy, clock


def test_rate_limit_answers_429_with_retry_after_and_counts_batch_calls(
    clocked_proxy: tuple[FaultProxy, FakeClock],
) -> None:
    proxy, clock = clocked_proxy
    proxy.faults.update(rate_limit_rps=0.5, rate_limit_burst=3)
    assert batch(proxy.url, [("eth_chainId", [])] * 3).status_code == 200  # 3 of 3 tokens
    refused = batch(proxy.url, [("eth_chainId", [])])
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "2"  # 1 token at 0.5/s
    assert refused.json() == {"jsonrpc": "2.0", "error": {"code": 429, "message": "Too Many Requests"}}
    assert proxy.counters.faults == {"rate_limit_rps": 1}
    assert proxy.counters.forwarded["eth_chainId"] == 3
    clock.now += 2.0
    assert rpc(proxy.url, "eth_chainId")["result"] == hex(31337)
    assert batch(proxy.url, [("eth_chainId", [])]).status_code == 429
    proxy.faults.update(rate_limit_rps=None)
    assert rpc(proxy.url, "eth_chainId")["result"] == hex(31337)


def test_a_batch_bigger_than_the_bucket_is_slowed_not_refused_forever(
    clocked_proxy: tuple[FaultProxy, FakeClock],
) -> None:
    proxy, clock = clocked_proxy
    proxy.faults.update(rate_limit_rps=2.0)  # bucket of 2
    assert batch(proxy.url, [("eth_chainId", [])] * 6).status_code == 200  # a full bucket lets it in
    refused = batch(proxy.url, [("eth_chainId", [])])
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "3")  # 4 in debt + 1, at 2/s
    clock.now += 2.5
    assert rpc(proxy.url, "eth_chainId")["result"] == hex(31337)


def test_per_method_rate_limit_spares_other_methods(
    clocked_proxy: tuple[FaultProxy, FakeClock], fresh_anvil: Chain
) -> None:
    proxy, _ = clocked_proxy
    proxy.faults.update(method_rate_limits={"eth_estimateGas": 0.2})
    call = {"from": dev_keys()[1].address, "to": dev_keys()[2].address, "value": "0x1"}
    assert rpc(proxy.url, "eth_estimateGas", [call])["result"] == hex(21_000)
    estimate = {"jsonrpc": "2.0", "id": 1, "method": "eth_estimateGas", "params": [call]}
    refused = post(proxy.url, estimate)
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "5")
    assert rpc(proxy.url, "eth_chainId")["result"] == hex(31337)
    assert proxy.counters.faults == {"rate_limit_rps": 1}


@pytest.mark.parametrize(("shape", "status"), [("error_object", 200), ("413", 413)])
def test_oversize_batch_is_refused_whole(fault_proxy: FaultProxy, shape: str, status: int) -> None:
    fault_proxy.faults.update(max_batch=2, batch_refusal=shape)
    assert batch(fault_proxy.url, [("eth_chainId", [])] * 2).status_code == 200
    refused = batch(fault_proxy.url, [("eth_chainId", [])] * 3)
    assert refused.status_code == status
    assert refused.json() == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32005, "message": "batch size too large"},
    }
    assert fault_proxy.counters.forwarded["eth_chainId"] == 2
    assert fault_proxy.counters.faults == {"max_batch": 1}


def test_batch_element_errors_are_not_forwarded(fault_proxy: FaultProxy, fresh_anvil: Chain) -> None:
    fault_proxy.faults.update(batch_element_errors=1.0)
    raw, tx_hash = signed_transfer(fresh_anvil)
    answer = batch(fault_proxy.url, [("eth_chainId", []), ("eth_sendRawTransaction", [raw])])
    assert answer.status_code == 200
    assert [a["error"] for a in answer.json()] == [{"code": -32005, "message": "limit exceeded"}] * 2
    assert [a["id"] for a in answer.json()] == [0, 1]
    assert not fault_proxy.counters.forwarded
    assert not known_to(fresh_anvil, tx_hash)
    # single (non-batch) requests are not affected
    assert rpc(fault_proxy.url, "eth_chainId")["result"] == hex(31337)


def test_batch_send_errors_after_forwarding(fault_proxy: FaultProxy, fresh_anvil: Chain) -> None:
    fault_proxy.faults.update(batch_send_errors_forwarded=1.0)
    raw, tx_hash = signed_transfer(fresh_anvil)
    answer = batch(fault_proxy.url, [("eth_sendRawTransaction", [raw]), ("eth_chainId", [])]).json()
    assert answer[0]["error"] == {"code": -32005, "message": "limit exceeded"}
    assert answer[1]["result"] == hex(31337)
    assert known_to(fresh_anvil, tx_hash)


def test_latency_delays_each_request(fault_proxy: FaultProxy) -> None:
    fault_proxy.faults.update(latency=(0.3, 0.3))
    started = time.monotonic()
    rpc(fault_proxy.url, "eth_chainId")
    assert time.monotonic() - started >= 0.3


def test_receipts_lag_behind_mining(clocked_proxy: tuple[FaultProxy, FakeClock], fresh_anvil: Chain) -> None:
    proxy, clock = clocked_proxy
    proxy.faults.update(receipt_lag_s=3.0)
    raw, tx_hash = signed_transfer(fresh_anvil)
    assert rpc(proxy.url, "eth_sendRawTransaction", [raw])["result"] == tx_hash
    wait_mined(fresh_anvil, tx_hash)
    assert rpc(proxy.url, "eth_getTransactionReceipt", [tx_hash])["result"] is None
    pending = rpc(proxy.url, "eth_getTransactionByHash", [tx_hash])["result"]
    assert pending["hash"] == tx_hash and pending["blockNumber"] is None
    clock.now += 2.9
    assert rpc(proxy.url, "eth_getTransactionReceipt", [tx_hash])["result"] is None
    clock.now += 0.1
    assert rpc(proxy.url, "eth_getTransactionReceipt", [tx_hash])["result"]["status"] == "0x1"
    assert rpc(proxy.url, "eth_getTransactionByHash", [tx_hash])["result"]["blockNumber"] == "0x1"
    assert proxy.counters.faults == {"receipt_lag_s": 3}


def test_txpool_full_is_not_forwarded(fault_proxy: FaultProxy, fresh_anvil: Chain) -> None:
    fault_proxy.faults.update(txpool_full=1.0)
    raw, tx_hash = signed_transfer(fresh_anvil)
    assert rpc(fault_proxy.url, "eth_sendRawTransaction", [raw])["error"] == {
        "code": -32000,
        "message": "txpool is full",
    }
    assert not known_to(fresh_anvil, tx_hash)
    assert fault_proxy.counters.faults == {"txpool_full": 1}


def test_drop_after_send_evicts_the_pending_transaction(fault_proxy: FaultProxy, fresh_anvil: Chain) -> None:
    rpc(fresh_anvil.rpc_url, "evm_setAutomine", [False])
    fault_proxy.faults.update(drop_after_send=1.0)
    raw, tx_hash = signed_transfer(fresh_anvil)
    assert rpc(fault_proxy.url, "eth_sendRawTransaction", [raw])["result"] == tx_hash
    assert not known_to(fresh_anvil, tx_hash)
    assert fault_proxy.counters.forwarded["anvil_dropTransaction"] == 1
    assert fault_proxy.counters.faults == {"drop_after_send": 1}


def test_upstream_switches_at_runtime(
    fault_proxy: FaultProxy, fresh_anvil: Chain, anvil_factory: AnvilFactory
) -> None:
    other = anvil_factory()
    rpc(fresh_anvil.rpc_url, "evm_mine")
    assert rpc(fault_proxy.url, "eth_blockNumber")["result"] == "0x1"
    fault_proxy.upstream = other.rpc_url
    assert rpc(fault_proxy.url, "eth_blockNumber")["result"] == "0x0"
    with pytest.raises(ValueError, match="loopback"):
        fault_proxy.upstream = "http://192.0.2.1:8545"


def test_an_unreachable_upstream_is_a_502(fault_proxy: FaultProxy, anvil_factory: AnvilFactory) -> None:
    gone = anvil_factory()
    gone.close()
    fault_proxy.upstream = gone.rpc_url
    answer = post(fault_proxy.url, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
    assert answer.status_code == 502
    assert fault_proxy.counters.faults == {"upstream": 1}


def test_same_seed_same_faults(fresh_anvil: Chain) -> None:
    def pattern(seed: int) -> list[int]:
        with FaultProxy(fresh_anvil.rpc_url, Faults(http_502=0.5), seed=seed) as proxy:
            session = requests.Session()
            body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}
            codes = [session.post(proxy.url, json=body, timeout=5).status_code for _ in range(20)]
            session.close()
            return codes

    first = pattern(3)
    assert first == pattern(3)
    assert {200, 502} == set(first)


def test_closed_proxy_refuses_connections(fresh_anvil: Chain) -> None:
    proxy = FaultProxy(fresh_anvil.rpc_url)
    url = proxy.url
    assert url.startswith("http://127.0.0.1:")
    proxy.close()
    with pytest.raises(requests.exceptions.ConnectionError):
        rpc(url, "eth_chainId", timeout=2)


def test_faults_are_checked_and_profiles_named() -> None:
    with pytest.raises(TypeError, match="unknown fault field"):
        Faults().update(http_503=0.1)
    with pytest.raises(ValueError, match="not a probability"):
        Faults(reset=1.5)
    with pytest.raises(ValueError, match="lost_answer_kind"):
        Faults().update(lost_answer_kind="explode")
    with pytest.raises(ValueError, match="unknown fault profile"):
        profile("nasty")
    hostile = profile("hostile")
    assert (hostile.rate_limit_rps, hostile.max_batch, hostile.latency) == (50.0, 100, (0.1, 0.5))
    assert (hostile.http_502, hostile.reset, hostile.receipt_lag_s, hostile.lose_send_answers) == (
        0.01,
        0.01,
        3.0,
        0.05,
    )
    assert profile("clean") == Faults()
    assert profile("hostile", max_batch=50).max_batch == 50


def test_a_clean_proxy_is_transparent_to_the_client(
    proxied_chain: Chain, fault_proxy: FaultProxy, tmp_path: Path
) -> None:
    brand_key = proxied_chain.dev_account(0)
    record = deploy_program(proxied_chain, ProgramOptions("proxied"), brand_key, root=tmp_path)
    brand = LoyaltyClient(proxied_chain, record, brand_key)
    members = [(proxied_chain.dev_account(i).address, 10 * i) for i in (1, 2, 3)]
    outcomes = brand.issue_each(members, "welcome")
    assert all(not isinstance(outcome, Exception) for outcome in outcomes)
    assert [brand.balance(address) for address, _ in members] == [10, 20, 30]
    counters = fault_proxy.counters
    assert counters.batches >= 1 and counters.forwarded == counters.methods
    assert counters.methods["eth_sendRawTransaction"] >= 7  # 4 deployments, roles, 3 issues
