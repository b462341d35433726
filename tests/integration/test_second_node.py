"""The library on two independently built nodes: anvil and Hardhat's EDR (``node`` fixture).

The flows that matter (deploy, single and batched issues, a gasless relay, an airdrop and its
rerun) run on both; then the EDR differences written down in ``support.hardhat_node`` are pinned,
so the docstring cannot silently go stale.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from loyalty_chain.airdrop import STATUS_ALREADY_PAID, airdrop_points
from loyalty_chain.chain import TX_GAS_CAP, Chain, dev_keys
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.errors import ContractRevertError
from loyalty_chain.gasless import sign_typed_data
from loyalty_chain.program import ProgramOptions, ProgramRecord, deploy_program
from loyalty_chain.records import PerkSpec


@pytest.fixture
def program(node: Chain, tmp_path: Path) -> ProgramRecord:
    return deploy_program(node, ProgramOptions("second"), node.dev_account(0), root=tmp_path)


@pytest.fixture
def brand(node: Chain, program: ProgramRecord) -> LoyaltyClient:
    return LoyaltyClient(node, program, node.dev_account(0))


def test_deploy_issue_and_issue_many(node: Chain, program: ProgramRecord, brand: LoyaltyClient) -> None:
    assert node.w3.eth.get_code(program.addresses["LoyaltyPoints"]) != b""
    alice, bob = node.dev_account(1), node.dev_account(2)
    result = brand.issue(alice.address, 150, "welcome")
    assert result.event("PointsIssued").args["total"] == 150
    results = brand.issue_many([(alice.address, 10), (bob.address, 25)], "birthday", batch_size=1)
    assert len(results) == 2
    assert (brand.balance(alice.address), brand.balance(bob.address)) == (160, 25)
    with pytest.raises(ContractRevertError, match="AccessControlUnauthorizedAccount"):
        LoyaltyClient(node, program, alice).issue(bob.address, 1)


def test_issue_each_sends_in_batches(node: Chain, brand: LoyaltyClient) -> None:
    members = [(node.dev_account(i).address, i) for i in range(1, 8)]
    outcomes = brand.issue_each(members, "visit")
    assert [type(o).__name__ for o in outcomes] == ["TxResult"] * 7
    assert [brand.balance(address) for address, _ in members] == list(range(1, 8))


def test_gasless_relay(node: Chain, brand: LoyaltyClient) -> None:
    member = node.dev_account(6)
    brand.enroll(member.address, 0)
    brand.issue(member.address, 100)
    perk = brand.add_perk(PerkSpec("Muffin", price=40))
    request = brand.redemption_request(member.address, perk.perk_id, 2)
    before = node.w3.eth.get_transaction_count(member.address)
    redemption = brand.relay(request, sign_typed_data(member, request))
    assert (redemption.member, redemption.points_burned) == (member.address, 80)
    assert brand.balance(member.address) == 20
    assert node.w3.eth.get_transaction_count(member.address) == before  # the member sent nothing


def test_airdrop_and_its_rerun_pay_once(node: Chain, program: ProgramRecord, tmp_path: Path) -> None:
    rows = {to_checksum_address(keccak(b"second-%d" % i)[-20:]): i + 1 for i in range(120)}
    path = tmp_path / "drop.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["address", "amount"])
        writer.writerows(rows.items())
    admin = node.dev_account(0)
    report = airdrop_points(node, program, path, admin)
    assert report.complete
    rerun = airdrop_points(node, program, path, admin)
    assert rerun.complete and rerun.count(STATUS_ALREADY_PAID) == 120
    brand = LoyaltyClient(node, program, admin)
    assert {who: brand.balance(who) for who in rows} == rows
    assert brand.total_supply() == sum(rows.values())


# -- what differs on EDR (support.hardhat_node's docstring) ---------------------------------------


def raw_call(chain: Chain, method: str, params: list[Any]) -> dict[str, Any]:
    answer: dict[str, Any] = chain.w3.provider.make_request(method, params)  # type: ignore[arg-type]
    return answer


def transfer(chain: Chain, *, nonce_offset: int = 0, gas: int = 21_000) -> str:
    key = dev_keys()[3]
    tx = {
        "type": 2,
        "chainId": chain.chain_id,
        "nonce": chain.w3.eth.get_transaction_count(key.address) + nonce_offset,
        "to": dev_keys()[4].address,
        "value": 1,
        "gas": gas,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**9,
    }
    return "0x" + Account.sign_transaction(tx, key.key).raw_transaction.hex()


def test_both_enforce_the_eip7825_cap(node: Chain) -> None:
    over = raw_call(node, "eth_sendRawTransaction", [transfer(node, gas=TX_GAS_CAP + 1)])
    assert "error" in over
    assert "result" in raw_call(node, "eth_sendRawTransaction", [transfer(node, gas=TX_GAS_CAP)])


def test_edr_block_gas_limit_and_controls(hardhat_node: Chain) -> None:
    assert hardhat_node.chain_id == 31337
    assert hardhat_node.w3.eth.get_block("latest")["gasLimit"] == 60_000_000
    assert hardhat_node.w3.eth.get_block("finalized")["number"] >= 0
    assert raw_call(hardhat_node, "anvil_dropTransaction", ["0x" + "00" * 32])["error"]["code"] == -32004
    assert raw_call(hardhat_node, "hardhat_dropTransaction", ["0x" + "00" * 32])["result"] is False


def test_edr_refuses_a_nonce_gap_while_automining(hardhat_automining: Chain) -> None:
    node = hardhat_automining
    gap = raw_call(node, "eth_sendRawTransaction", [transfer(node, nonce_offset=1)])
    assert "Nonce too high" in gap["error"]["message"]
    raw = transfer(node)
    assert "result" in raw_call(node, "eth_sendRawTransaction", [raw])
    again = raw_call(node, "eth_sendRawTransaction", [raw])
    assert "Nonce too low" in again["error"]["message"]


def send_batch(chain: Chain, count: int) -> list[dict[str, Any]]:
    """``count`` consecutive-nonce transfers in ONE JSON-RPC batch; the answers in call order."""
    body = [
        {
            "jsonrpc": "2.0",
            "id": i,
            "method": "eth_sendRawTransaction",
            "params": [transfer(chain, nonce_offset=i)],
        }
        for i in range(count)
    ]
    answers: list[dict[str, Any]] = requests.post(chain.rpc_url, json=body, timeout=60).json()
    return sorted(answers, key=lambda a: int(a["id"]))


def test_edr_answers_a_batch_concurrently_so_automine_refuses_gaps(hardhat_automining: Chain) -> None:
    answers = send_batch(hardhat_automining, 40)
    refused = [a["error"]["message"] for a in answers if "error" in a]
    assert refused, "EDR handled the 40 sends in order: the difference written down is gone"
    assert all("Nonce too high" in message for message in refused)
    assert "result" in answers[0]  # the first nonce is never a gap


def test_anvil_and_interval_mined_edr_take_a_batch_of_sends(node: Chain) -> None:
    assert all("result" in answer for answer in send_batch(node, 40))


def test_issue_each_on_automining_edr(hardhat_automining: Chain, tmp_path: Path) -> None:
    """EDR answers a batch's sends concurrently and, automining, refuses the gaps ("Nonce too
    high"): the delivery layer reads that as backpressure and sends the same bytes again."""
    node = hardhat_automining
    record = deploy_program(node, ProgramOptions("automine"), node.dev_account(0), root=tmp_path)
    brand = LoyaltyClient(node, record, node.dev_account(0))
    members = [(node.dev_account(1 + i % 9).address, 1) for i in range(40)]
    outcomes = brand.issue_each(members, "visit")
    assert [type(o).__name__ for o in outcomes] == ["TxResult"] * 40
