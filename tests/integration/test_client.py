"""The client library against the managed devnet: every call, and each failure it must name."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from loyalty_chain.analytics import summarize
from loyalty_chain.chain import Chain, connect, free_port
from loyalty_chain.client import MAX_BATCH, LoyaltyClient
from loyalty_chain.errors import (
    ChainError,
    ContractRevertError,
    DeploymentError,
    InputError,
    RpcUnavailableError,
    UnknownProgramError,
    WrongChainError,
)
from loyalty_chain.program import ProgramOptions, ProgramRecord, deploy_program, load_program
from loyalty_chain.records import PerkSpec
from loyalty_chain.values import reason_code


@pytest.fixture
def program(chain: Chain, tmp_path: Path) -> ProgramRecord:
    return deploy_program(chain, ProgramOptions("cafe"), chain.dev_account(0), root=tmp_path)


@pytest.fixture
def brand(chain: Chain, program: ProgramRecord) -> LoyaltyClient:
    return LoyaltyClient(chain, program, chain.dev_account(0))


def as_member(chain: Chain, program: ProgramRecord, account: LocalAccount) -> LoyaltyClient:
    return LoyaltyClient(chain, program, account)


def nonce(chain: Chain, account: LocalAccount) -> int:
    return int(chain.w3.eth.get_transaction_count(account.address))


def test_registry_records_and_loads_the_program(chain: Chain, program: ProgramRecord, tmp_path: Path) -> None:
    loaded = load_program(chain, "cafe", tmp_path)
    assert loaded == program
    assert set(loaded.addresses) == {"LoyaltyPoints", "MembershipCard", "PerkCatalog", "AirdropDistributor"}
    assert all(len(h) == 66 for h in loaded.tx_hashes.values())
    assert loaded.compiler.startswith("0.8.28")
    assert (tmp_path / "31337" / "cafe.json").is_file()
    with pytest.raises(DeploymentError, match="already exists"):
        deploy_program(chain, ProgramOptions("cafe"), chain.dev_account(0), root=tmp_path)


def test_unknown_program_is_named(chain: Chain, tmp_path: Path) -> None:
    with pytest.raises(UnknownProgramError, match="'nope'"):
        LoyaltyClient.load(chain, "nope", chain.dev_account(0), root=tmp_path)


def test_wrong_chain_is_refused(chain: Chain, program: ProgramRecord) -> None:
    other = ProgramRecord(**{**program.to_json(), "chain_id": 1})
    with pytest.raises(WrongChainError, match="chain id 1 is expected"):
        LoyaltyClient(chain, other, chain.dev_account(0))


def test_rpc_down_is_its_own_error() -> None:
    with pytest.raises(RpcUnavailableError):
        connect(f"http://127.0.0.1:{free_port()}")


def test_issue_transfer_burn_balance(chain: Chain, program: ProgramRecord, brand: LoyaltyClient) -> None:
    alice, bob = chain.dev_account(1), chain.dev_account(2)
    result = brand.issue(alice.address, 100, "purchase")
    assert result.gas_used > 0 and result.block > 0
    issued = result.event("PointsIssued")
    assert issued.args["reason"] == "0x" + reason_code("purchase").hex()
    member = as_member(chain, program, alice)
    member.transfer(bob.address, 30)
    member.burn(20)
    assert brand.balance(alice.address) == 50
    assert brand.balance(bob.address) == 30
    assert brand.total_supply() == 80


def test_balances_of_many_holders_at_one_block(chain: Chain, brand: LoyaltyClient) -> None:
    alice, bob, carol = (chain.dev_account(i).address for i in (1, 2, 3))
    first = brand.issue(alice, 7, "purchase")
    brand.issue(bob, 11, "purchase")
    assert brand.balances([alice.lower(), bob, carol, alice]) == {alice: 7, bob: 11, carol: 0}
    assert brand.balances([alice, bob], block=first.block) == {alice: 7, bob: 0}
    assert brand.balances([]) == {}
    with pytest.raises(InputError, match=r"holders\[1\]"):
        brand.balances([alice, "0xnot-an-address"])
    with pytest.raises(ChainError, match="balanceOf"):
        brand.balances([alice], block=first.block + 10_000)


def test_issue_many_batches_and_tags_reason(chain: Chain, brand: LoyaltyClient) -> None:
    recipients = [(chain.dev_account(i).address, i * 10) for i in range(1, 6)]
    results = brand.issue_many(recipients, "birthday", batch_size=2)
    assert len(results) == 3
    for address, amount in recipients:
        assert brand.balance(address) == amount
    summary = summarize(brand.events(), brand.tiers(), brand.points.address)
    assert summary.issued_per_reason == {"birthday": 150}


def test_revert_is_decoded_with_values_and_nothing_is_sent(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient
) -> None:
    alice, bob = chain.dev_account(1), chain.dev_account(2)
    brand.issue(alice.address, 10)
    member = as_member(chain, program, alice)
    before = nonce(chain, alice)
    with pytest.raises(ContractRevertError) as info:
        member.transfer(bob.address, 100)
    err = info.value
    assert err.error_name == "ERC20InsufficientBalance"
    assert err.error_args["balance"] == 10 and err.error_args["needed"] == 100
    assert err.contract == "LoyaltyPoints"
    assert nonce(chain, alice) == before


def test_role_missing_is_decoded(chain: Chain, program: ProgramRecord) -> None:
    stranger = as_member(chain, program, chain.dev_account(3))
    with pytest.raises(ContractRevertError, match="AccessControlUnauthorizedAccount"):
        stranger.issue(chain.dev_account(4).address, 5)


@pytest.mark.parametrize(
    ("to", "amount", "message"),
    [
        ("0x70997970c51812dc3a010c7d01b50e0d17dc79C8", 1, "bad checksum"),
        ("0x1234", 1, "has 4 hex digits, not 40"),
        ("0x0000000000000000000000000000000000000000", 1, "is the zero address"),
        ("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", -5, "must not be negative"),
        ("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", 0, "must be positive"),
        ("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", 1.5, "whole number"),
    ],
)
def test_bad_arguments_are_refused_before_sending(
    chain: Chain, brand: LoyaltyClient, to: str, amount: int, message: str
) -> None:
    before = nonce(chain, chain.dev_account(0))
    with pytest.raises(InputError, match=message):
        brand.issue(to, amount)
    assert nonce(chain, chain.dev_account(0)) == before


def test_reason_longer_than_32_bytes_is_refused(brand: LoyaltyClient, chain: Chain) -> None:
    with pytest.raises(InputError, match="longer than 32 bytes"):
        brand.issue(chain.dev_account(1).address, 1, "x" * 33)


def test_membership_lifecycle(chain: Chain, brand: LoyaltyClient) -> None:
    alice = chain.dev_account(1).address
    enrolment = brand.enroll(alice, "Silver")
    card = brand.card_of(alice)
    assert card is not None
    assert (card.token_id, card.tier, card.tier_name, card.active) == (enrolment.token_id, 1, "Silver", True)
    brand.set_tier(alice, "gold")
    far = chain.w3.eth.get_block("latest")["timestamp"] + 86_400
    brand.renew(alice, far)
    card = brand.card_of(alice)
    assert card is not None and card.tier_name == "Gold" and card.valid_until == far
    with pytest.raises(ContractRevertError, match="MembershipAlreadyMember"):
        brand.enroll(alice, 0)
    brand.revoke(alice)
    assert brand.card_of(alice) is None
    with pytest.raises(InputError, match="unknown tier 'Platinum'"):
        brand.enroll(alice, "Platinum")


def test_enroll_many(chain: Chain, brand: LoyaltyClient) -> None:
    members = [(chain.dev_account(i).address, ["Bronze", "Silver", "Gold"][i % 3]) for i in range(1, 8)]
    results = brand.enroll_many(members, batch_size=3)
    assert len(results) == 3
    for address, tier in members:
        card = brand.card_of(address)
        assert card is not None and card.tier_name == tier
    summary = summarize(brand.events(), brand.tiers(), brand.points.address)
    assert summary.members_per_tier == {"Bronze": 2, "Silver": 3, "Gold": 2}
    assert MAX_BATCH * 30_000 < 16_777_216


def test_perks_add_edit_list_and_redeem(chain: Chain, program: ProgramRecord, brand: LoyaltyClient) -> None:
    alice = chain.dev_account(1)
    perk = brand.add_perk(PerkSpec("Free coffee", price=25, per_wallet=3))
    brand.edit_perk(perk.perk_id, PerkSpec("Free flat white", price=30, per_wallet=3))
    listed = brand.perks()
    assert [(p.perk_id, p.spec.title, p.spec.price) for p in listed] == [(1, "Free flat white", 30)]

    brand.enroll(alice.address, 0)
    brand.issue(alice.address, 100)
    member = as_member(chain, program, alice)
    first = member.redeem(perk.perk_id, 2)
    assert (first.redemption_id, first.points_burned, first.quantity) == (1, 60, 2)
    with pytest.raises(ContractRevertError, match="CatalogWalletLimitExceeded"):
        member.redeem(perk.perk_id, 2)
    assert brand.balance(alice.address) == 40
    assert brand.perk(perk.perk_id).sold == 2


def test_redeem_without_card_names_the_problem(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient
) -> None:
    perk = brand.add_perk(PerkSpec("Cookie", price=5))
    brand.issue(chain.dev_account(5).address, 50)
    with pytest.raises(ContractRevertError, match="CatalogNoActiveCard"):
        as_member(chain, program, chain.dev_account(5)).redeem(perk.perk_id)


def test_gasless_redemption_signed_by_member_relayed_by_brand(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient
) -> None:
    from loyalty_chain.gasless import sign_typed_data

    member = chain.dev_account(6)
    brand.enroll(member.address, 0)
    brand.issue(member.address, 100)
    perk = brand.add_perk(PerkSpec("Muffin", price=40))
    request = brand.redemption_request(member.address, perk.perk_id, 2)
    signature = sign_typed_data(member, request)
    before = nonce(chain, member)
    redemption = brand.relay(request, signature)
    assert (redemption.member, redemption.points_burned) == (member.address, 80)
    assert nonce(chain, member) == before  # the member sent nothing
    with pytest.raises(InputError, match=r"nonce 0 but .* next nonce is 1"):
        brand.relay(request, signature)  # a replay is refused before any gas is spent
    forged = sign_typed_data(chain.dev_account(7), brand.redemption_request(member.address, perk.perk_id, 1))
    with pytest.raises(InputError, match="not the member"):
        brand.relay(brand.redemption_request(member.address, perk.perk_id, 1), forged)


def test_policy_allowlist_pause_and_batch_tiers(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient
) -> None:
    alice, bob, partner = chain.dev_account(1), chain.dev_account(2), chain.dev_account(3)
    brand.issue(alice.address, 30)
    member = as_member(chain, program, alice)
    brand.set_transfer_policy("locked")
    assert brand.transfer_policy().name == "LOCKED"
    with pytest.raises(ContractRevertError, match="PointsTransfersLocked"):
        member.transfer(bob.address, 1)
    brand.set_transfer_policy("allowlist")
    brand.allow_recipient(partner.address)
    member.transfer(partner.address, 10)
    with pytest.raises(ContractRevertError, match="PointsRecipientNotAllowed"):
        member.transfer(bob.address, 1)
    brand.pause()
    assert brand.paused()
    with pytest.raises(ContractRevertError, match="EnforcedPause"):
        brand.issue(bob.address, 1)
    brand.unpause()

    brand.enroll_many([(alice.address, 0), (bob.address, 0)])
    brand.set_tier_many([(alice.address, "Gold"), (bob.address, "Silver")])
    assert [brand.card_of(a.address).tier_name for a in (alice, bob)] == ["Gold", "Silver"]  # type: ignore[union-attr]
    as_member(chain, program, bob).cancel()
    assert brand.card_of(bob.address) is None


def test_clients_of_one_connection_share_their_contract_objects(chain: Chain, tmp_path: Path) -> None:
    """web3 builds every function of an ABI each time a contract is made (~9 ms of CPU, four per
    client): made once per connection and address, and never shared across connections."""
    from loyalty_chain.artifacts import contract_at

    record = deploy_program(chain, ProgramOptions("shared"), chain.dev_account(0), root=tmp_path)
    first = LoyaltyClient(chain, record, chain.dev_account(0))
    second = LoyaltyClient(chain, record, chain.dev_account(1))
    assert first.points is second.points and first.catalog is second.catalog
    other = connect(chain.rpc_url)
    elsewhere = contract_at(other.w3, "LoyaltyPoints", record.addresses["LoyaltyPoints"])
    assert elsewhere is not first.points and elsewhere.w3 is other.w3
    first.issue(chain.dev_account(2).address, 7)  # each client still sends as its own account
    assert second.balance(chain.dev_account(2).address) == 7
    with pytest.raises(ContractRevertError, match="AccessControlUnauthorizedAccount"):
        second.issue(chain.dev_account(2).address, 7)


def test_deploys_of_one_artifact_build_its_deployer_once(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each deploy made web3's contract class twice (the deployer, then the deployed contract)."""
    from loyalty_chain.artifacts import load_artifact
    from loyalty_chain.deploy import deploy

    made: list[str | None] = []
    contract = chain.w3.eth.contract
    monkeypatch.setattr(
        chain.w3.eth, "contract", lambda **kw: made.append(kw.get("address")) or contract(**kw)
    )
    admin = chain.dev_account(0)
    first, second = (deploy(chain, load_artifact("LoyaltyPoints"), "Beans", "BEAN", 0, 0, 0, admin.address,
                            sender=admin) for _ in range(2))  # fmt: skip
    assert first.contract.address != second.contract.address
    assert made.count(None) <= 1  # the deployer: at most once per connection (once per run)
    # each deployed contract at most once (an earlier test rolled back may have left one at its address)
    assert made.count(first.contract.address) <= 1 and made.count(second.contract.address) <= 1
    assert first.contract.functions.name().call() == "Beans"


def test_events_decode_as_web3_decodes_them(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient
) -> None:
    """decode_logs reads logs with eth_abi at a tenth of web3's CPU: the same names and values, in
    the same order, over events with indexed addresses and numbers, arrays, strings and bytes."""
    from web3._utils.events import get_event_data

    from loyalty_chain import sign_typed_data
    from loyalty_chain.decoding import _plain

    alice, bob = chain.dev_account(1), chain.dev_account(2)
    brand.enroll_many([(alice.address, 0), (bob.address, 0)])
    brand.issue_many([(alice.address, 300), (bob.address, 40)], "welcome")
    brand.set_tier_many([(alice.address, "Gold")])
    perk = brand.add_perk(PerkSpec("Espresso", price=100))
    as_member(chain, program, alice).redeem(perk.perk_id)
    request = brand.redemption_request(alice.address, perk.perk_id)
    brand.relay(request, sign_typed_data(alice, request))
    contracts = {c.address: c for c in (brand.points, brand.card, brand.catalog, brand.airdrop)}
    query = {"address": list(contracts), "fromBlock": hex(program.block)}
    raw = chain.batch([("eth_getLogs", [query])])[0]["result"]  # JSON as the node sends it
    formatted = chain.w3.eth.get_logs(query)  # type: ignore[arg-type]  # the same, as web3 gives them
    ours = brand.decoder.decode_logs(raw)
    assert len(ours) == len(raw) == len(formatted) > 10
    assert len({event.name for event in ours}) >= 8
    for log, event in zip(formatted, ours, strict=True):
        entry = next(
            e for e in contracts[event.address].abi if e["type"] == "event" and e["name"] == event.name
        )
        theirs = get_event_data(chain.w3.codec, entry, log)
        assert event.args == {k: _plain(v) for k, v in theirs["args"].items()}, event.name
        assert list(event.args) == list(theirs["args"]), event.name  # indexed first, as web3 orders them


def test_events_a_node_refuses_to_read_say_which_blocks(
    chain: Chain, brand: LoyaltyClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    refusal = {"error": {"code": -32005, "message": "query returned more than 10000 results"}}
    monkeypatch.setattr(chain, "batch", lambda calls, **kw: [refusal for _ in calls])
    with pytest.raises(ChainError, match=r"events in blocks \d+-\d+ failed: .*more than 10000.*smaller page"):
        brand.events()
