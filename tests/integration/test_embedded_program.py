"""A whole program on the embedded chain (eth-tester), which the README sells as the zero-set-up one.

Every part of the client runs here as it does on anvil: deploy, enrol, issue (one, packed, one
transaction each), perks, redeem, a revert decoded, gasless relay, push airdrops of points and
cards, and the report folded from the program's events. One chain and one program per module:
each test uses its own members.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loyalty_chain import (
    AirdropOptions,
    ContractRevertError,
    LoyaltyClient,
    PerkSpec,
    ProgramOptions,
    ProgramRecord,
    airdrop_cards,
    airdrop_points,
    deploy_program,
    embedded_chain,
    load_program,
    summarize,
)
from loyalty_chain.chain import Chain
from loyalty_chain.errors import TransactionError
from loyalty_chain.gasless import sign_typed_data


@pytest.fixture(scope="module")
def embedded() -> Iterator[Chain]:
    chain = embedded_chain(accounts=20)
    yield chain
    chain.close()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embedded-deployments")


@pytest.fixture(scope="module")
def program(embedded: Chain, registry: Path) -> ProgramRecord:
    options = ProgramOptions("bean-there", symbol="BEAN")
    return deploy_program(embedded, options, embedded.dev_account(0), root=registry)


@pytest.fixture
def brand(embedded: Chain, program: ProgramRecord) -> LoyaltyClient:
    return LoyaltyClient(embedded, program, embedded.dev_account(0))


def test_the_embedded_chain_has_the_dev_accounts_asked_for(embedded: Chain) -> None:
    assert embedded.kind == "embedded" and embedded.is_local
    assert len(embedded.dev_accounts) == 20
    assert embedded.w3.eth.get_balance(embedded.dev_account(19).address) > 0


def test_deploy_records_the_program(embedded: Chain, program: ProgramRecord, registry: Path) -> None:
    assert program.chain_id == embedded.chain_id
    assert program.block >= 1
    assert load_program(embedded, "bean-there", registry) == program


def test_enrol_issue_redeem_and_relay(embedded: Chain, program: ProgramRecord, brand: LoyaltyClient) -> None:
    alice, bob = embedded.dev_account(1), embedded.dev_account(2)
    enrolment = brand.enroll(alice.address, "Silver")
    assert enrolment.tier == 1
    card = brand.card_of(alice.address)
    assert card is not None and card.tier_name == "Silver"
    brand.issue(alice.address, 250, "welcome")
    brand.issue_many([(alice.address, 10), (bob.address, 25)], "birthday")
    brand.issue_each([(alice.address, 5), (bob.address, 5)], "survey")
    assert brand.balance(alice.address) == 265 and brand.balance(bob.address) == 30

    perk = brand.add_perk(PerkSpec("Free latte", price=120, per_wallet=2))
    redemption = LoyaltyClient(embedded, program, alice).redeem(perk.perk_id)
    assert redemption.points_burned == 120
    request = brand.redemption_request(alice.address, perk.perk_id)
    relayed = brand.relay(request, sign_typed_data(alice, request))
    assert relayed.redemption_id == redemption.redemption_id + 1
    assert brand.balance(alice.address) == 25
    assert brand.perk(perk.perk_id).sold == 2


def test_a_revert_is_decoded_before_anything_is_sent(embedded: Chain, program: ProgramRecord) -> None:
    carol = embedded.dev_account(3)
    member = LoyaltyClient(embedded, program, carol)
    nonce = embedded.w3.eth.get_transaction_count(carol.address)
    with pytest.raises(ContractRevertError, match=r"ERC20InsufficientBalance\(.*balance=0, needed=5\)"):
        member.transfer(embedded.dev_account(4).address, 5)
    assert embedded.w3.eth.get_transaction_count(carol.address) == nonce


def test_a_mined_revert_is_explained_in_its_place(
    embedded: Chain, program: ProgramRecord, brand: LoyaltyClient
) -> None:
    dave = embedded.dev_account(5)
    ok = brand.points.functions.issue(dave.address, 7, b"\0" * 32)
    bad = LoyaltyClient(embedded, program, dave).points.functions.transfer(
        embedded.dev_account(6).address, 99
    )
    member = LoyaltyClient(embedded, program, dave)
    (first,) = brand.sender.send_many([ok], gas=200_000)
    assert not isinstance(first, Exception)
    (second,) = member.sender.send_many([bad], gas=200_000)  # no simulation: mined, reverted
    assert isinstance(second, TransactionError)
    assert "ERC20InsufficientBalance" in str(second)


def test_push_airdrops_of_points_and_cards(
    embedded: Chain, program: ProgramRecord, registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOYALTY_CHAIN_DEPLOYMENTS", str(registry))
    members = [embedded.dev_account(i).address for i in range(10, 15)]
    points_csv = tmp_path / "drop.csv"
    points_csv.write_text("address,amount\n" + "".join(f"{a},{10 * n}\n" for n, a in enumerate(members, 1)))
    report = airdrop_points(
        embedded, "bean-there", points_csv, embedded.dev_account(0), AirdropOptions(reason="promo")
    )
    assert report.complete, report.stopped
    cards_csv = tmp_path / "cards.csv"
    cards_csv.write_text("address,tier\n" + "".join(f"{a},Gold\n" for a in members))
    report = airdrop_cards(embedded, "bean-there", cards_csv, embedded.dev_account(0))
    assert report.complete, report.stopped
    brand = LoyaltyClient(embedded, program, embedded.dev_account(0))
    assert [brand.balance(a) for a in members] == [10, 20, 30, 40, 50]
    assert all((card := brand.card_of(a)) is not None and card.tier_name == "Gold" for a in members)


def test_the_report_is_folded_from_events(
    embedded: Chain, program: ProgramRecord, brand: LoyaltyClient
) -> None:
    frank = embedded.dev_account(16)
    brand.enroll(frank.address, "Gold")
    before = summarize(brand.events(), brand.tiers(), brand.points.address)
    brand.issue(frank.address, 40, "purchase")
    after = summarize(brand.events(), brand.tiers(), brand.points.address)
    assert after.points_issued == before.points_issued + 40
    assert after.issued_per_reason["purchase"] == before.issued_per_reason.get("purchase", 0) + 40
    assert after.members_per_tier["Gold"] >= 1


def test_the_kpi_report_indexes_the_embedded_chain(embedded: Chain, program: ProgramRecord) -> None:
    from loyalty_chain.reports import program_report

    brand = LoyaltyClient(embedded, program, embedded.dev_account(0))
    grace = embedded.dev_account(17)
    brand.enroll(grace.address, "Silver")
    brand.issue(grace.address, 25, "kpi")
    report = program_report(embedded, program).to_json()
    assert report["issued_by_reason"]["kpi"] == 25
    assert report["members"] >= 1 and report["outstanding"] == report["issued"] - report["redeemed"] - (
        report["burned_other"] + report["expired"]
    )
