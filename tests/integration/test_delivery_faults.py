"""Delivery under what real networks do: each fault of issue 8, replayed through the fault proxy and
anvil's own controls, with balances checked on chain — every recipient paid exactly once, nobody
skipped, and the next operation of the same process still works."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from support.faultproxy import FaultProxy

from loyalty_chain.airdrop import AirdropOptions, airdrop_points, plan_airdrop
from loyalty_chain.chain import Chain, connect
from loyalty_chain.cli import main
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.delivery import DeliveryOptions, FeePolicy
from loyalty_chain.errors import (
    BudgetExceededError,
    IdempotencyKeyError,
    LoyaltyChainError,
    NodeMismatchError,
)
from loyalty_chain.program import ProgramOptions, ProgramRecord, deploy_program

GWEI = 10**9
QUICK = DeliveryOptions(stall_timeout_s=60)


def members(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [f"0x{rng.getrandbits(160):040x}" for _ in range(n)]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Deployment records and the operations journal of this test only."""
    monkeypatch.setenv("LOYALTY_CHAIN_DEPLOYMENTS", str(tmp_path / "deployments"))
    monkeypatch.setenv("LOYALTY_CHAIN_HOME", str(tmp_path / "home"))
    return tmp_path


@pytest.fixture
def program(fresh_anvil: Chain, home: Path) -> ProgramRecord:
    return deploy_program(fresh_anvil, ProgramOptions("faulty"), fresh_anvil.dev_account(0))


@pytest.fixture
def brand(proxied_chain: Chain, program: ProgramRecord) -> LoyaltyClient:
    return LoyaltyClient(proxied_chain, program, proxied_chain.dev_account(0), QUICK)


def balances(client: LoyaltyClient, who: list[str]) -> dict[str, int]:
    """Keyed as given (the test's lowercase addresses), read in JSON-RPC batches."""
    found = client.balances(who)
    return {a: found[to_checksum_address(a)] for a in who}


def retry_until_success(action: object, attempts: int = 20) -> int:
    """What a queue worker does: call again after any error. Returns the calls it took."""
    for n in range(1, attempts + 1):
        try:
            action()  # type: ignore[operator]
            return n
        except LoyaltyChainError:
            continue
    raise AssertionError(f"not done after {attempts} attempts")


# -- lost answers, "already known", errors while polling ------------------------------------------


def test_lost_send_answers_never_pay_twice(brand: LoyaltyClient, fault_proxy: FaultProxy) -> None:
    fault_proxy.faults.update(lose_send_answers=0.3, lost_answer_kind="reset")
    people = members(12)
    for i, who in enumerate(people):
        retry_until_success(lambda who=who, i=i: brand.issue(who, 10, "welcome", key=f"welcome-{i}"))
    assert fault_proxy.counters.faults["lose_send_answers"] > 0
    assert balances(brand, people) == dict.fromkeys(people, 10)
    assert brand.issue(people[0], 1).block > 0  # the same process goes on
    assert brand.balance(people[0]) == 11


def test_a_lost_answer_is_not_a_failure_even_without_a_key(
    brand: LoyaltyClient, fault_proxy: FaultProxy
) -> None:
    fault_proxy.faults.update(lose_send_answers=1.0, lost_answer_kind="502")
    who = members(1)[0]
    brand.issue(who, 5)  # the answer is lost every time: the chain decides, and it paid
    assert brand.balance(who) == 5


def test_lost_answers_of_send_batches_are_looked_up_not_sent_again(
    brand: LoyaltyClient, fault_proxy: FaultProxy
) -> None:
    # 5% of sends lose their answer, and a batch loses its whole answer: a batch of 100 loses it
    # 99.4% of the time, so sending it again would only lose it again (bench/delivery.py's hostile run)
    fault_proxy.faults.update(lose_send_answers=0.05)
    people = members(200, seed=11)
    results = brand.issue_each([(a, 4) for a in people], "promo")
    assert fault_proxy.counters.faults["lose_send_answers"] > 0
    assert all(not isinstance(r, Exception) for r in results)
    assert fault_proxy.counters.methods["eth_sendRawTransaction"] <= 1.2 * len(people)
    assert balances(brand, people) == dict.fromkeys(people, 4)


def test_already_known_answers_are_accepted(brand: LoyaltyClient, fault_proxy: FaultProxy) -> None:
    fault_proxy.faults.update(already_known=0.2)
    people = members(200)
    results = brand.issue_each([(a, 3) for a in people], "promo")
    assert fault_proxy.counters.faults["already_known"] > 0
    assert all(not isinstance(r, Exception) for r in results)
    assert balances(brand, people) == dict.fromkeys(people, 3)


def test_errors_while_polling_receipts(brand: LoyaltyClient, fault_proxy: FaultProxy) -> None:
    fault_proxy.faults.update(http_502=0.2, reset=0.1, batch_element_errors=0.2)
    people = members(20)
    results = brand.issue_each([(a, 2) for a in people], "promo")
    assert all(not isinstance(r, Exception) for r in results)
    fault_proxy.faults.update(http_502=0.0, reset=0.0, batch_element_errors=0.0)
    assert balances(brand, people) == dict.fromkeys(people, 2)


# -- provider limits and pool pressure --------------------------------------------------------------


def test_batch_limits_and_429s(brand: LoyaltyClient, fault_proxy: FaultProxy) -> None:
    fault_proxy.faults.update(max_batch=10, rate_limit_rps=200.0)
    people = members(60)
    results = brand.issue_each([(a, 1) for a in people], "promo")
    assert all(not isinstance(r, Exception) for r in results)
    fault_proxy.faults.update(max_batch=None, rate_limit_rps=None)
    assert balances(brand, people) == dict.fromkeys(people, 1)


def test_full_pool_is_backpressure(brand: LoyaltyClient, fault_proxy: FaultProxy) -> None:
    fault_proxy.faults.update(txpool_full=0.4)
    people = members(40)
    results = brand.issue_each([(a, 4) for a in people], "promo")
    assert fault_proxy.counters.faults["txpool_full"] > 0
    assert all(not isinstance(r, Exception) for r in results)
    assert balances(brand, people) == dict.fromkeys(people, 4)


def test_an_idempotency_key_names_one_operation(brand: LoyaltyClient) -> None:
    who = members(1)[0]
    first = brand.issue(who, 7, key="order-1")
    again = brand.issue(who, 7, key="order-1")
    assert again.tx_hash == first.tx_hash and brand.balance(who) == 7
    with pytest.raises(IdempotencyKeyError, match="order-1"):
        brand.issue(who, 8, key="order-1")


# -- airdrops: reorgs, drops, fees, budgets, the node's identity ----------------------------------


def write_csv(path: Path, people: list[str], amount: int = 5) -> Path:
    path.write_text("address,amount\n" + "".join(f"{a},{amount}\n" for a in people))
    return path


def test_a_reorg_after_an_airdrop_is_found_by_the_rerun(
    fresh_anvil: Chain, program: ProgramRecord, home: Path
) -> None:
    admin = fresh_anvil.dev_account(0)
    people = members(900)
    csv = write_csv(home / "drop.csv", people)
    before = fresh_anvil.w3.eth.block_number
    first = airdrop_points(fresh_anvil, program, csv, admin, AirdropOptions(delivery=QUICK))
    assert first.complete
    client = LoyaltyClient(fresh_anvil, program, admin)
    # the airdrop's blocks replaced by empty ones: its batches are gone from the chain
    depth = fresh_anvil.w3.eth.block_number - before
    fresh_anvil.w3.provider.make_request("anvil_reorg", [depth, []])  # type: ignore[arg-type]
    fresh_anvil.w3.provider.make_request("anvil_dropAllTransactions", [])  # type: ignore[arg-type]
    assert sum(balances(client, people).values()) < 900 * 5
    second = airdrop_points(fresh_anvil, program, csv, admin, AirdropOptions(delivery=QUICK))
    assert second.complete, second.stopped
    assert balances(client, people) == dict.fromkeys(people, 5)


def test_dropped_transactions_are_sent_again_in_one_run(
    fresh_anvil: Chain, fault_proxy: FaultProxy, proxied_chain: Chain, program: ProgramRecord, home: Path
) -> None:
    fresh_anvil.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    fresh_anvil.w3.provider.make_request("evm_setIntervalMining", [1])  # type: ignore[arg-type]
    fault_proxy.faults.update(drop_after_send=0.5)
    people = members(1500)
    csv = write_csv(home / "drop.csv", people)
    report = airdrop_points(
        proxied_chain,
        program,
        csv,
        proxied_chain.dev_account(0),
        AirdropOptions(batch_size=300, delivery=QUICK),
    )
    assert report.complete, report.stopped
    assert fault_proxy.counters.faults["drop_after_send"] > 0
    client = LoyaltyClient(fresh_anvil, program, fresh_anvil.dev_account(0))
    assert balances(client, people) == dict.fromkeys(people, 5)


def test_a_fee_spike_is_repriced_and_the_cap_waits(
    fresh_anvil: Chain, program: ProgramRecord, home: Path
) -> None:
    admin = fresh_anvil.dev_account(0)
    rpc = fresh_anvil.w3.provider
    people = members(1200)
    csv = write_csv(home / "drop.csv", people)
    rpc.make_request("anvil_setNextBlockBaseFeePerGas", [hex(400 * GWEI)])  # type: ignore[arg-type]
    rpc.make_request("evm_mine", [])  # type: ignore[arg-type]
    capped = DeliveryOptions(fees=FeePolicy(max_fee_per_gas=100 * GWEI, wait_for_s=2), stall_timeout_s=60)
    stopped = airdrop_points(
        fresh_anvil, program, csv, admin, AirdropOptions(batch_size=300, delivery=capped)
    )
    assert not stopped.complete and "over the fee cap" in (stopped.stopped or "")
    client = LoyaltyClient(fresh_anvil, program, admin)
    assert sum(balances(client, people).values()) == 0  # nothing was signed over the cap
    generous = DeliveryOptions(fees=FeePolicy(max_fee_per_gas=2_000 * GWEI))
    rerun = airdrop_points(
        fresh_anvil, program, csv, admin, AirdropOptions(batch_size=300, delivery=generous)
    )
    assert rerun.complete, rerun.stopped
    assert balances(client, people) == dict.fromkeys(people, 5)


def test_a_budget_stops_the_run_and_the_rerun_resumes(
    fresh_anvil: Chain, program: ProgramRecord, home: Path
) -> None:
    admin = fresh_anvil.dev_account(0)
    people = members(1200)
    csv = write_csv(home / "drop.csv", people)
    tight = DeliveryOptions(fees=FeePolicy(budget=10**15))  # one batch's worst case is more
    first = airdrop_points(fresh_anvil, program, csv, admin, AirdropOptions(batch_size=300, delivery=tight))
    assert not first.complete and "budget" in (first.stopped or "")
    assert isinstance(BudgetExceededError(1, 1, 1), LoyaltyChainError)
    second = airdrop_points(fresh_anvil, program, csv, admin, AirdropOptions(batch_size=300))
    assert second.complete
    client = LoyaltyClient(fresh_anvil, program, admin)
    assert balances(client, people) == dict.fromkeys(people, 5)


def test_another_node_behind_the_same_url_is_refused(
    fresh_anvil: Chain,
    anvil_factory: object,
    fault_proxy: FaultProxy,
    proxied_chain: Chain,
    program: ProgramRecord,
    home: Path,
) -> None:
    admin = proxied_chain.dev_account(0)
    people = members(50)
    csv = write_csv(home / "drop.csv", people)
    assert airdrop_points(proxied_chain, program, csv, admin).complete
    other = anvil_factory()  # type: ignore[operator]
    fault_proxy.upstream = other.rpc_url  # same chain id, another chain
    again = connect(fault_proxy.url)
    with pytest.raises(NodeMismatchError, match="not the chain this work was done on"):
        airdrop_points(again, program, csv, admin)


def test_a_node_without_our_blocks_is_refused_by_the_dry_run_too(
    fresh_anvil: Chain, program: ProgramRecord, home: Path
) -> None:
    """A node still syncing has the program but not the journal's batches: the dry run must not
    count those recipients as paid (nor may the run go on)."""
    admin = fresh_anvil.dev_account(0)
    csv = write_csv(home / "drop.csv", members(20))
    snapshot = fresh_anvil.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    assert airdrop_points(fresh_anvil, program, csv, admin).complete
    fresh_anvil.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    with pytest.raises(NodeMismatchError, match="behind block"):
        plan_airdrop(fresh_anvil, program, "points", csv, admin)
    with pytest.raises(NodeMismatchError, match="behind block"):
        airdrop_points(fresh_anvil, program, csv, admin)


# -- the command line ---------------------------------------------------------------------------------


def test_cli_transport_errors_are_one_line(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    started = time.monotonic()
    code = main(["--rpc", "http://127.0.0.1:9", "points", "balance", "faulty", "0x" + "11" * 20])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: ") and "Traceback" not in err
    assert time.monotonic() - started < 30


def test_cli_idempotency_key(
    fault_proxy: FaultProxy, proxied_chain: Chain, program: ProgramRecord, capsys: pytest.CaptureFixture[str]
) -> None:
    who = members(1)[0]
    fault_proxy.faults.update(lose_send_answers=0.5)
    args = ["--rpc", fault_proxy.url, "points", "issue", "faulty", who, "5", "--idempotency-key", "crm-42"]
    for _ in range(3):
        main(args)
    fault_proxy.faults.update(lose_send_answers=0.0)
    assert main(args) == 0
    client = LoyaltyClient(proxied_chain, program, proxied_chain.dev_account(0))
    assert client.balance(who) == 5 * 10 ** client.decimals()
    capsys.readouterr()


def test_cli_dry_run_prices_at_the_signed_max_fee(
    fresh_anvil: Chain, program: ProgramRecord, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write_csv(home / "drop.csv", members(10))
    args = [
        "--rpc",
        fresh_anvil.rpc_url,
        "airdrop",
        "points",
        "faulty",
        str(csv),
        "--dry-run",
        "--max-fee",
        "3gwei",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "worst case" in out and "fee cap 3.0000 gwei" in out


def signer(chain: Chain) -> LocalAccount:
    return chain.dev_account(0)
