"""PerkCatalog early access (issue 12): a perk opens at ``earlyStart`` for holders of a collection or members
of a tier, checked live at redemption: every revert, the boundaries, a holder selling the item mid-window,
and the lending rule (a loyalty card on hold after a transfer does not open the window)."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from helpers import REDEEMER_ROLE, ZERO_ADDRESS, events, mine, now, send
from test_catalog import ANY_COST, BRONZE, GOLD, PERK_MANAGER_ROLE, SILVER, Shop
from web3.contract import Contract

from loyalty_chain.artifacts import Artifact
from loyalty_chain.chain import Chain
from loyalty_chain.deploy import deploy_contract

NONE, ERC721, LOYALTY_CARD = 0, 1, 2
DAY = 86_400


@pytest.fixture
def shop(
    chain: Chain,
    loyalty_artifacts: dict[str, Artifact],
    points: Contract,
    card: Contract,
    admin: LocalAccount,
) -> Shop:
    """A catalog wired as ``deploy_program`` wires it (as in test_catalog)."""
    catalog = deploy_contract(
        chain, loyalty_artifacts["PerkCatalog"], points.address, card.address, admin.address, sender=admin
    )
    send(points.functions.grantRole(REDEEMER_ROLE, catalog.address), admin)
    send(points.functions.setRedemptionCatalog(catalog.address), admin)
    return Shop(chain=chain, catalog=catalog, points=points, card=card, admin=admin)


@pytest.fixture
def last_season(deploy_card: Any) -> Contract:
    """Last season's membership cards: a transferable collection (consent needed, 7-day hold)."""
    return deploy_card()  # type: ignore[no-any-return]


@pytest.fixture
def members(shop: Shop, alice: LocalAccount, bob: LocalAccount, carol: LocalAccount) -> list[LocalAccount]:
    """alice Gold, bob Silver, carol Bronze: each holding this season's card and 10,000 points."""
    for who, tier in ((alice, GOLD), (bob, SILVER), (carol, BRONZE)):
        shop.enroll(who, tier)
        shop.fund(who, 10_000)
    return [alice, bob, carol]


def early(shop: Shop, perk_id: int, start: int, collection: str = ZERO_ADDRESS, kind: int = NONE,
          by_tier: bool = False, min_tier: int = 0) -> Any:  # fmt: skip
    return shop.catalog.functions.setEarlyAccess(perk_id, start, collection, kind, by_tier, min_tier)


def test_set_early_access_checks_every_value(
    shop: Shop, members: list[LocalAccount], last_season: Contract
) -> None:
    alice = members[0]
    start = now(shop.w3) + 10 * DAY
    perk_id = shop.add_perk(start=start)
    always_open = shop.add_perk()
    invalid = "CatalogInvalidEarlyAccess"
    shop.reverts(early(shop, perk_id, start - 1, by_tier=True), alice,
                 "AccessControlUnauthorizedAccount", alice.address, PERK_MANAGER_ROLE)  # fmt: skip
    shop.reverts(early(shop, 99, start - 1, by_tier=True), shop.admin, "CatalogUnknownPerk", 99)
    shop.reverts(early(shop, perk_id, start, by_tier=True), shop.admin, invalid, perk_id, start, start)
    shop.reverts(early(shop, always_open, 1, by_tier=True), shop.admin, invalid, always_open, 1, 0)
    shop.reverts(early(shop, perk_id, start - 1), shop.admin, invalid, perk_id, start - 1, start)  # no route
    shop.reverts(
        early(shop, perk_id, start - 1, last_season.address, NONE),
        shop.admin,
        invalid,
        perk_id,
        start - 1,
        start,
    )
    shop.reverts(
        early(shop, perk_id, start - 1, ZERO_ADDRESS, ERC721, True),
        shop.admin,
        invalid,
        perk_id,
        start - 1,
        start,
    )
    shop.reverts(
        early(shop, perk_id, 0, by_tier=True), shop.admin, invalid, perk_id, 0, start
    )  # removal with values
    shop.reverts(
        early(shop, perk_id, start - 1, by_tier=True, min_tier=3), shop.admin, "CatalogInvalidTier", 3, 3
    )

    receipt = send(
        early(shop, perk_id, start - DAY, last_season.address, LOYALTY_CARD, True, GOLD), shop.admin
    )
    (event,) = events(shop.catalog, receipt, "EarlyAccessSet")
    assert event == {"perkId": perk_id, "earlyStart": start - DAY, "collection": last_season.address,
                     "kind": LOYALTY_CARD, "byTier": True, "minTier": GOLD}  # fmt: skip
    assert shop.catalog.functions.earlyAccess(perk_id).call() == [
        start - DAY,
        last_season.address,
        2,
        True,
        GOLD,
    ]
    send(early(shop, perk_id, 0), shop.admin)
    assert shop.catalog.functions.earlyAccess(perk_id).call() == [0, ZERO_ADDRESS, 0, False, 0]


def test_a_minimum_tier_gets_in_early_from_the_first_second(shop: Shop, members: list[LocalAccount]) -> None:
    alice, bob, _carol = members
    start = now(shop.w3) + 10 * DAY
    early_start = start - 2 * DAY
    perk_id = shop.add_perk(start=start, min_tier=SILVER)
    send(early(shop, perk_id, early_start, by_tier=True, min_tier=GOLD), shop.admin)
    fn = shop.catalog.functions.redeem(perk_id, 1, ANY_COST)
    name, (got_perk, got_start, _t) = shop.error_of(fn, alice)  # before the early window: nobody
    assert (name, got_perk, got_start) == ("CatalogPerkNotStarted", perk_id, start)

    shop.send_at(fn, alice, early_start)  # Gold, at the early window's first second
    mine(shop.w3, early_start + 10)
    shop.reverts(fn, bob, "CatalogNotEarlyEligible", perk_id, bob.address, start)  # Silver waits
    shop.send_at(fn, bob, start)  # everyone (of the perk's minimum tier) from the start
    assert shop.sold(perk_id) == 2


def test_a_holder_who_sells_the_item_mid_window_loses_early_access_and_the_buyer_gains_it(
    shop: Shop, members: list[LocalAccount], last_season: Contract
) -> None:
    alice, bob, carol = members
    send(last_season.functions.enroll(alice.address, 0, 0), shop.admin)
    start = now(shop.w3) + 10 * DAY
    perk_id = shop.add_perk(start=start)
    send(early(shop, perk_id, start - 5 * DAY, last_season.address, ERC721), shop.admin)
    mine(shop.w3, start - 5 * DAY)
    fn = shop.catalog.functions.redeem(perk_id, 1, ANY_COST)
    send(fn, alice)
    shop.reverts(fn, bob, "CatalogNotEarlyEligible", perk_id, bob.address, start)

    send(last_season.functions.setAcceptsTransfer(True), bob)
    token_id = int(alice.address, 16)
    send(last_season.functions.transferFrom(alice.address, bob.address, token_id), alice)  # sold to bob
    shop.reverts(fn, alice, "CatalogNotEarlyEligible", perk_id, alice.address, start)
    send(fn, bob)  # live check: a plain ERC-721 holder is in at once
    shop.reverts(fn, carol, "CatalogNotEarlyEligible", perk_id, carol.address, start)
    assert shop.sold(perk_id) == 2


def test_a_loyalty_card_key_on_hold_does_not_open_the_window(
    shop: Shop, members: list[LocalAccount], last_season: Contract
) -> None:
    """The lending rule: a card passed on is on hold (7 days), as a key to early access too."""
    alice, bob, _carol = members
    send(
        last_season.functions.enroll(alice.address, 0, now(shop.w3) + DAY), shop.admin
    )  # expires before the window: still a key
    start = now(shop.w3) + 20 * DAY
    perk_id = shop.add_perk(start=start)
    send(early(shop, perk_id, start - 15 * DAY, last_season.address, LOYALTY_CARD), shop.admin)
    mine(shop.w3, start - 15 * DAY)
    fn = shop.catalog.functions.redeem(perk_id, 1, ANY_COST)
    send(fn, alice)
    send(last_season.functions.setAcceptsTransfer(True), bob)
    send(last_season.functions.transferFrom(alice.address, bob.address, int(alice.address, 16)), alice)
    shop.reverts(fn, bob, "CatalogNotEarlyEligible", perk_id, bob.address, start)  # the key is on hold
    mine(shop.w3, now(shop.w3) + 7 * DAY + 3_600)
    send(fn, bob)
    shop.reverts(fn, alice, "CatalogNotEarlyEligible", perk_id, alice.address, start)


def test_early_access_keeps_the_members_own_checks_and_can_be_removed(
    shop: Shop, members: list[LocalAccount], dev_accounts: list[LocalAccount]
) -> None:
    alice, _bob, _carol = members
    outsider = dev_accounts[9]
    start = now(shop.w3) + 10 * DAY
    perk_id = shop.add_perk(start=start, min_tier=GOLD, wallet_limit=1)
    send(early(shop, perk_id, start - DAY, by_tier=True, min_tier=BRONZE), shop.admin)
    mine(shop.w3, start - DAY)
    fn = shop.catalog.functions.redeem(perk_id, 1, ANY_COST)
    shop.reverts(fn, outsider, "CatalogNoActiveCard", outsider.address)
    send(fn, alice)
    shop.reverts(fn, alice, "CatalogWalletLimitExceeded", perk_id, alice.address, 1, 1, 1)
    send(early(shop, perk_id, 0), shop.admin)
    name, (got_perk, got_start, _t) = shop.error_of(
        shop.catalog.functions.redeem(perk_id, 1, ANY_COST), members[1]
    )
    assert (name, got_perk, got_start) == ("CatalogPerkNotStarted", perk_id, start)
