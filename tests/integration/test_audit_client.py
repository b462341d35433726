"""Issue 9 through the paths a brand uses: the client, the airdrop and the CLI.

The contract-level replays are in tests/contracts/test_audit_attacks.py; here each medium attack is
performed against a program deployed with ``deploy_program`` and refused, or survived, by the
library and the command line, and the low items that live in Python are replayed too.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from loyalty_chain.airdrop import AirdropOptions, airdrop_cards, airdrop_points
from loyalty_chain.airdrop import run as airdrop_run
from loyalty_chain.airdrop import send as airdrop_send
from loyalty_chain.airdrop.records import STATUS_SENT, STATUS_SKIPPED
from loyalty_chain.chain import Chain
from loyalty_chain.cli import main
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.errors import (
    ContractRevertError,
    DeploymentError,
    InputError,
    RelayRefusedError,
    TransactionError,
)
from loyalty_chain.files import write_atomic
from loyalty_chain.gasless import sign_typed_data
from loyalty_chain.program import ProgramOptions, ProgramRecord, deploy_program, record_path
from loyalty_chain.records import PerkSpec
from loyalty_chain.relay_policy import RelayPolicy

# An ERC-1271 wallet whose isValidSignature never returns: JUMPDEST PUSH0 JUMP, forever.
GAS_BURNER_RUNTIME = "0x5b5f56"


def fresh(i: int, salt: bytes = b"audit") -> str:
    return to_checksum_address(keccak(salt + b"-%d" % i)[-20:])


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "deployments"
    monkeypatch.setenv("LOYALTY_CHAIN_DEPLOYMENTS", str(root))
    monkeypatch.setenv("LOYALTY_CHAIN_KEYSTORE", str(tmp_path / "keystore"))
    return root


@pytest.fixture
def program(chain: Chain, registry: Path, dev_accounts: list[LocalAccount]) -> ProgramRecord:
    return deploy_program(chain, ProgramOptions("audit"), dev_accounts[0])


@pytest.fixture
def brand(chain: Chain, program: ProgramRecord, dev_accounts: list[LocalAccount]) -> LoyaltyClient:
    return LoyaltyClient(chain, program, dev_accounts[0])


def cli_run(chain: Chain, *args: str) -> tuple[int, str]:
    """The CLI's entry point in-process; returns (exit code, stdout + stderr). No traceback may escape."""
    runner = CliRunner()
    outcome = runner.invoke(entry_point, ["--rpc", chain.rpc_url, *args])
    assert outcome.exception is None or isinstance(outcome.exception, SystemExit), outcome.exception
    return outcome.exit_code, outcome.output


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def entry_point(ctx: click.Context) -> None:
    """``loyalty_chain.cli.main`` (which turns our errors into one line) as a click command."""
    raise SystemExit(main(list(ctx.args)))


def nonce(chain: Chain, who: str) -> int:
    return int(chain.w3.eth.get_transaction_count(who))  # type: ignore[arg-type]


# --- 1. a pushed card no longer blocks enrolment -------------------------------------------------------


def test_enroll_many_skips_a_wallet_that_got_a_card_and_says_so(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient, dev_accounts: list[LocalAccount]
) -> None:
    stranger, victim = dev_accounts[4], dev_accounts[5]
    brand.enroll(stranger.address, "Gold")
    stranger_client = LoyaltyClient(chain, program, stranger)
    with pytest.raises(ContractRevertError, match="MembershipTransferNotAccepted"):
        stranger_client.transfer_card(victim.address)
    LoyaltyClient(chain, program, victim).accept_card_transfer()
    stranger_client.transfer_card(victim.address)  # the victim did agree to this one

    members = [(fresh(i), "Silver") for i in range(20)] + [(victim.address, "Bronze")]
    results = brand.enroll_many(members)
    assert brand.skipped_enrolments(results) == [(victim.address, int(stranger.address, 16))]
    assert all(brand.card_of(m) is not None for m, _ in members)


def test_the_airdrop_report_lists_members_a_mined_batch_skipped(
    chain: Chain,
    program: ProgramRecord,
    brand: LoyaltyClient,
    dev_accounts: list[LocalAccount],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    victim = dev_accounts[5]
    members = [fresh(i, b"drop") for i in range(30)] + [victim.address]
    (tmp_path / "cards.csv").write_text("address,tier\n" + "".join(f"{m},Silver\n" for m in members))
    # the victim gets its card between the brand's planning (which found no card) and the batch
    real = airdrop_run.existing_members

    def planned_then_front_run(target: Any, addresses: Any) -> set[str]:
        found = real(target, addresses)
        brand.enroll(victim.address, "Gold")
        return found

    monkeypatch.setattr(airdrop_run, "existing_members", planned_then_front_run)
    report = airdrop_cards(chain, program, tmp_path / "cards.csv", dev_accounts[0], AirdropOptions())
    assert report.complete
    assert report.count(STATUS_SENT) == 30
    (skipped,) = [r for r in report.recipients if r.status == STATUS_SKIPPED]
    assert (skipped.address, skipped.detail) == (
        victim.address,
        f"already held card {int(victim.address, 16)} when its batch was mined",
    )
    assert skipped.tx_hash  # the batch that left it out
    with (tmp_path / "cards.results.csv").open() as results:
        rows = {row["address"]: row for row in csv.DictReader(results)}
    assert rows[victim.address]["status"] == STATUS_SKIPPED


def test_the_cli_card_airdrop_reports_a_member_its_batch_skipped(
    chain: Chain,
    program: ProgramRecord,
    brand: LoyaltyClient,
    dev_accounts: list[LocalAccount],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    victim = dev_accounts[6]
    members = [fresh(i, b"cli-drop") for i in range(10)] + [victim.address]
    (tmp_path / "cards.csv").write_text("address,tier\n" + "".join(f"{m},Gold\n" for m in members))
    real = airdrop_run.existing_members

    def planned_then_front_run(target: Any, addresses: Any) -> set[str]:
        found = real(target, addresses)
        brand.enroll(victim.address, "Bronze")  # e.g. a stranger's Merkle claim for it, just before
        return found

    monkeypatch.setattr(airdrop_run, "existing_members", planned_then_front_run)
    code, output = cli_run(chain, "airdrop", "cards", "audit", str(tmp_path / "cards.csv"))
    assert code == 0, output
    with (tmp_path / "cards.results.csv").open() as results:
        statuses = {row["address"]: (row["status"], row["detail"]) for row in csv.DictReader(results)}
    assert statuses[victim.address] == (
        STATUS_SKIPPED,
        f"already held card {int(victim.address, 16)} when its batch was mined",
    )
    assert {s for a, (s, _) in statuses.items() if a != victim.address} == {STATUS_SENT}


# --- 2. a lent card carries neither its tier nor fresh limits ------------------------------------------


def test_a_borrowed_card_is_refused_through_the_client_and_the_cli(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient, dev_accounts: list[LocalAccount]
) -> None:
    owner, borrower = dev_accounts[4], dev_accounts[5]
    brand.enroll(owner.address, "Gold")
    for who in (owner, borrower):
        brand.issue(who.address, 1_000, "welcome")
    perk = brand.add_perk(PerkSpec("Gold lounge", price=100, min_tier=2, per_wallet=1))
    LoyaltyClient(chain, program, owner).redeem(perk.perk_id)
    LoyaltyClient(chain, program, borrower).accept_card_transfer()
    LoyaltyClient(chain, program, owner).transfer_card(borrower.address)

    with pytest.raises(ContractRevertError, match="CatalogCardOnHold"):
        LoyaltyClient(chain, program, borrower).redeem(perk.perk_id)
    code, output = cli_run(chain, "perk", "redeem", "audit", str(perk.perk_id), "--account", "dev:5")
    assert code == 1 and "CatalogCardOnHold" in output and "Traceback" not in output
    chain.w3.provider.make_request("evm_increaseTime", [8 * 86_400])  # type: ignore[arg-type]
    chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    code, output = cli_run(chain, "perk", "redeem", "audit", str(perk.perk_id), "--account", "dev:5")
    assert code == 1 and "CatalogWalletLimitExceeded" in output  # the card's count came along


# --- 3. a contract-wallet member cannot make the relayer burn gas --------------------------------------


def test_the_relay_policy_refuses_a_gas_burning_contract_member(
    chain: Chain,
    program: ProgramRecord,
    brand: LoyaltyClient,
    dev_accounts: list[LocalAccount],
    tmp_path: Path,
) -> None:
    wallet = fresh(1, b"wallet")
    chain.w3.provider.make_request("anvil_setCode", [wallet, GAS_BURNER_RUNTIME])  # type: ignore[arg-type]
    brand.enroll(wallet, "Bronze")
    brand.issue(wallet, 100, "welcome")
    perk = brand.add_perk(PerkSpec("Mint", price=1))
    request = brand.redemption_request(wallet, perk.perk_id)
    signature = sign_typed_data(dev_accounts[6], request)  # "the wallet's owner"
    before = nonce(chain, brand.address)

    with pytest.raises(RelayRefusedError, match="whose signature only its own code can check"):
        brand.relay(request, signature)
    # even when contract members are allowed, the catalog's bounded check fails in the simulation
    with pytest.raises(ContractRevertError, match="CatalogInvalidSignature"):
        brand.relay(request, signature, policy=RelayPolicy(allow_contract_members=True))
    assert nonce(chain, brand.address) == before  # nothing was sent

    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps(request))
    code, output = cli_run(chain, "perk", "relay", "audit", str(request_file), signature)
    assert code == 1 and f"not relaying for {wallet}" in output
    assert nonce(chain, brand.address) == before


def test_the_relay_ceiling_refuses_an_expensive_relay(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient, dev_accounts: list[LocalAccount]
) -> None:
    member = dev_accounts[4]
    brand.enroll(member.address)
    brand.issue(member.address, 100, "welcome")
    perk = brand.add_perk(PerkSpec("Mint", price=1))
    request = brand.redemption_request(member.address, perk.perk_id)
    signature = sign_typed_data(member, request)
    with pytest.raises(RelayRefusedError, match="above the relay ceiling of 50,000"):
        brand.relay(request, signature, policy=RelayPolicy(max_gas=50_000))
    redemption = brand.relay(request, signature)
    assert redemption.points_burned == 1
    assert redemption.tx.gas_used < RelayPolicy().max_gas


def test_an_eip7702_delegated_member_is_relayed_like_the_eoa_it_is(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient, dev_accounts: list[LocalAccount]
) -> None:
    member = dev_accounts[7]
    brand.enroll(member.address)
    brand.issue(member.address, 100, "welcome")
    perk = brand.add_perk(PerkSpec("Mint", price=3))
    delegate = fresh(2, b"delegate")
    chain.w3.provider.make_request("anvil_setCode", [delegate, GAS_BURNER_RUNTIME])  # type: ignore[arg-type]
    designator = "0xef0100" + delegate[2:].lower()
    chain.w3.provider.make_request("anvil_setCode", [member.address, designator])  # type: ignore[arg-type]
    request = brand.redemption_request(member.address, perk.perk_id)
    assert brand.relay(request, sign_typed_data(member, request)).points_burned == 3
    # signed by another key, the same account is a contract member to the policy
    other = brand.redemption_request(member.address, perk.perk_id)
    with pytest.raises(RelayRefusedError, match="an EIP-7702 delegated account"):
        brand.relay(other, sign_typed_data(dev_accounts[8], other))


# --- 4, 5. the relayer is bound, the price is capped, a request can be cancelled ------------------------


def test_max_cost_and_cancelled_requests_through_the_client(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient, dev_accounts: list[LocalAccount]
) -> None:
    member = dev_accounts[4]
    brand.enroll(member.address)
    brand.issue(member.address, 20_000, "welcome")
    latte = brand.add_perk(PerkSpec("Latte", price=100))
    request = brand.redemption_request(member.address, latte.perk_id)
    assert request["message"]["maxCost"] == "100" and request["message"]["relayer"] == brand.address
    signature = sign_typed_data(member, request)
    brand.edit_perk(latte.perk_id, PerkSpec("Latte", price=10_000))
    with pytest.raises(ContractRevertError, match="CatalogCostAboveMax"):
        brand.relay(request, signature)
    member_client = LoyaltyClient(chain, program, member)
    with pytest.raises(ContractRevertError, match=r"CatalogCostAboveMax\(.*cost=10000, maxCost=100"):
        member_client.redeem(latte.perk_id, max_cost=100)
    assert member_client.balance(member.address) == 20_000

    result = member_client.cancel_requests()
    assert result.event("NonceInvalidated").args["nonce"] == 0
    fresh_request = brand.redemption_request(member.address, latte.perk_id)
    stale = {**fresh_request, "message": {**fresh_request["message"], "nonce": "0"}}
    with pytest.raises(InputError, match="already used or cancelled"):
        brand.relay(stale, sign_typed_data(member, stale))
    code, output = cli_run(chain, "--json", "perk", "cancel-requests", "audit", "--account", "dev:4")
    assert code == 0 and json.loads(output)["nonce"] == 1


# --- 10. formula injection in the results CSV ---------------------------------------------------------


def test_a_formula_reason_is_escaped_in_the_results_csv(
    chain: Chain, program: ProgramRecord, dev_accounts: list[LocalAccount], tmp_path: Path
) -> None:
    formula = '=HYPERLINK("http://x.io","a")'
    with (tmp_path / "drop.csv").open("w", newline="") as out:
        csv.writer(out).writerows([["address", "amount", "reason"], [fresh(1), 5, formula]])
    report = airdrop_points(chain, program, tmp_path / "drop.csv", dev_accounts[0])
    assert report.complete
    with (tmp_path / "drop.results.csv").open() as results:
        (row,) = list(csv.DictReader(results))
    assert row["reason"] == "'" + formula


# --- 11. a record is a file: its name and its contracts are checked -----------------------------------


@pytest.mark.parametrize("name", ["../../x", "cafe\n", "a/b", "", ".hidden"])
def test_program_names_are_matched_in_full(
    chain: Chain, program: ProgramRecord, dev_accounts: list[LocalAccount], name: str
) -> None:
    with pytest.raises(InputError, match="program name"):
        LoyaltyClient.load(chain, name, dev_accounts[0])


def test_an_edited_record_pointing_at_another_catalog_is_refused(
    chain: Chain, program: ProgramRecord, registry: Path, dev_accounts: list[LocalAccount]
) -> None:
    attacker = deploy_program(chain, ProgramOptions("attacker"), dev_accounts[7])
    data = json.loads(program.path.read_text())
    data["addresses"]["PerkCatalog"] = attacker.addresses["PerkCatalog"]
    data["tx_hashes"]["PerkCatalog"] = attacker.tx_hashes["PerkCatalog"]
    program.path.write_text(json.dumps(data))
    with pytest.raises(DeploymentError, match="does not use the recorded LoyaltyPoints"):
        LoyaltyClient.load(chain, "audit", dev_accounts[0])
    # another contract entirely at the recorded address
    data["addresses"]["PerkCatalog"] = program.addresses["LoyaltyPoints"]
    program.path.write_text(json.dumps(data))
    with pytest.raises(DeploymentError, match="is not a PerkCatalog deployed by its recorded transaction"):
        LoyaltyClient.load(chain, "audit", dev_accounts[0])
    data["artifact_hashes"]["PerkCatalog"] = "00" * 32
    program.path.write_text(json.dumps(data))
    with pytest.raises(DeploymentError, match="another build of the contracts"):
        LoyaltyClient.load(chain, "audit", dev_accounts[0])
    code, output = cli_run(chain, "perk", "list", "audit")
    assert code == 1 and "another build" in output


# --- 12. temporary files never follow a planted symlink -------------------------------------------------


def test_writes_never_follow_a_planted_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "out.csv"
    for planted in (target.with_name("out.csv.tmp"), target.with_suffix(".tmp")):
        planted.symlink_to(victim)
    write_atomic(target, "new")
    assert target.read_text() == "new" and victim.read_text() == "precious"
    target.unlink()
    target.symlink_to(victim)  # a symlink at the target itself is replaced, not written through
    write_atomic(target, "again")
    assert not target.is_symlink() and target.read_text() == "again" and victim.read_text() == "precious"
    assert record_path(31337, "cafe", tmp_path).name == "cafe.json"


# --- informational: resume trusts no journal entry it cannot check ---------------------------------------


class Interrupted(Exception):
    """Stands for a crash between signing a batch and broadcasting it (not ours, so it propagates)."""


def signed_but_never_sent(
    chain: Chain, program: ProgramRecord, admin: LocalAccount, path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Run an airdrop of ``path`` that stops after signing its one batch, before the broadcast."""
    with path.open("w", newline="") as out:
        csv.writer(out).writerows([["address", "amount"], *([fresh(i, b"journal"), 5] for i in range(3))])

    def crash(*args: Any) -> Any:
        raise Interrupted("killed after signing")

    with monkeypatch.context() as patch:
        patch.setattr(airdrop_send, "broadcast", crash)
        with pytest.raises(Interrupted):
            airdrop_points(chain, program, path, admin)
    return path.with_name(path.stem + ".journal.sqlite")


def rewrite_versions(journal: Path, tx_hash: str, raw: bytes) -> None:
    with sqlite3.connect(journal) as conn:
        conn.execute("UPDATE batches SET tx_hash = ?, raw_tx = ?", (tx_hash, raw))
        conn.execute("UPDATE batch_versions SET tx_hash = ?, raw_tx = ?", (tx_hash, raw))
    conn.close()


@pytest.mark.parametrize("tamper", ["hash of other bytes", "bytes paying someone else"])
def test_resume_refuses_a_journal_whose_transaction_is_not_the_batch(
    chain: Chain,
    program: ProgramRecord,
    dev_accounts: list[LocalAccount],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tamper: str,
) -> None:
    admin = dev_accounts[0]
    journal = signed_but_never_sent(chain, program, admin, tmp_path / "drop.csv", monkeypatch)
    before = nonce(chain, admin.address)
    with sqlite3.connect(journal) as conn:
        ((tx_hash, stored_nonce),) = conn.execute("SELECT tx_hash, nonce FROM batches").fetchall()
    conn.close()
    if tamper == "hash of other bytes":
        # another transaction's hash beside the batch's own stored bytes
        with sqlite3.connect(journal) as conn:
            ((raw,),) = conn.execute("SELECT raw_tx FROM batches").fetchall()
        conn.close()
        rewrite_versions(journal, "0x" + "ab" * 32, bytes(raw))
    else:
        # a valid transaction of the same signer and nonce, consistent hash, that pays a stranger
        fees = chain.w3.eth.get_block("latest")["baseFeePerGas"]
        theft: dict[str, Any] = {
            "type": 2, "chainId": chain.chain_id, "nonce": stored_nonce, "to": fresh(99, b"thief"),
            "value": 1, "gas": 21_000, "maxFeePerGas": 4 * fees + 10**9, "maxPriorityFeePerGas": 10**9,
        }  # fmt: skip
        signed = admin.sign_transaction(theft)
        assert signed.hash.to_0x_hex() != tx_hash
        rewrite_versions(journal, signed.hash.to_0x_hex(), bytes(signed.raw_transaction))
    with pytest.raises(TransactionError, match="the journal was altered; nothing was sent"):
        airdrop_points(chain, program, tmp_path / "drop.csv", admin)
    assert nonce(chain, admin.address) == before  # nothing was broadcast
    assert chain.w3.eth.get_balance(fresh(99, b"thief")) == 0  # type: ignore[arg-type]
    code, output = cli_run(
        chain, "airdrop", "points", "audit", str(tmp_path / "drop.csv"), "--account", "dev:0"
    )
    assert code == 1 and "the journal was altered" in output and "Traceback" not in output
    assert nonce(chain, admin.address) == before


# --- informational: a bad transfer policy is refused before anything is sent ---------------------------


def test_program_options_refuse_a_bad_policy_before_sending(
    chain: Chain, registry: Path, dev_accounts: list[LocalAccount]
) -> None:
    assert ProgramOptions("p1", transfer_policy=1).transfer_policy.name == "LOCKED"  # type: ignore[arg-type]
    before = nonce(chain, dev_accounts[0].address)
    with pytest.raises(InputError, match="unknown transfer policy 7"):
        deploy_program(chain, ProgramOptions("p2", transfer_policy=7), dev_accounts[0])  # type: ignore[arg-type]
    assert nonce(chain, dev_accounts[0].address) == before
    record = deploy_program(chain, ProgramOptions("p3", transfer_policy=1), dev_accounts[0])  # type: ignore[arg-type]
    assert record.options["transfer_policy"] == "locked"
