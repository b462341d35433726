"""AirdropDistributor early access (issue 12 item 5): a Merkle campaign opens at ``earlyStart`` for
claims of accounts holding an ERC-721 collection or a minimum tier, checked live at the claim: every
revert, the window boundaries, a holder selling mid-window, the lending rule for loyalty card
collections, everyone from the start."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from helpers import ISSUER_ROLE, ZERO_ADDRESS, events, now, send
from test_airdrop import CAMPAIGN_MANAGER_ROLE, DAY, GOLD, POINTS, POINTS_LEAF, SILVER, Drop, root_of
from web3.contract import Contract

from loyalty_chain.artifacts import Artifact
from loyalty_chain.campaigns.merkle import StandardMerkleTree
from loyalty_chain.chain import Chain
from loyalty_chain.deploy import deploy_contract

NONE, ERC721, LOYALTY_CARD = 0, 1, 2


@pytest.fixture
def drop(chain: Chain, loyalty_artifacts: dict[str, Artifact], points: Contract, card: Contract,
         admin: LocalAccount) -> Drop:  # fmt: skip
    """A distributor wired as the deployer wires it (as in test_airdrop)."""
    args = (points.address, card.address, admin.address)
    distributor = deploy_contract(chain, loyalty_artifacts["AirdropDistributor"], *args, sender=admin)
    send(points.functions.grantRole(ISSUER_ROLE, distributor.address), admin)
    send(card.functions.grantRole(ISSUER_ROLE, distributor.address), admin)
    return Drop(chain=chain, distributor=distributor, points=points, card=card, admin=admin)


@pytest.fixture
def points_tree(alice: LocalAccount, bob: LocalAccount, carol: LocalAccount) -> StandardMerkleTree:
    values = [[0, alice.address, 500], [1, bob.address, 1_250], [2, carol.address, 75], [3, alice.address, 9]]
    return StandardMerkleTree.of(values, POINTS_LEAF)


@pytest.fixture
def collection(deploy_card: Any) -> Contract:
    """Last season's cards (a transferable ERC-721: consent needed, 7-day hold)."""
    return deploy_card()  # type: ignore[no-any-return]


def early(drop: Drop, campaign_id: int, start: int, collection: str = ZERO_ADDRESS, kind: int = NONE,
          by_tier: bool = False, min_tier: int = 0) -> Any:  # fmt: skip
    return drop.distributor.functions.setEarlyAccess(campaign_id, start, collection, kind, by_tier, min_tier)


def _campaign(drop: Drop, tree: StandardMerkleTree) -> tuple[int, int]:
    start = now(drop.w3) + 10 * DAY
    return drop.create(POINTS, root_of(tree), start=start), start


def test_set_early_access_checks_every_value(
    drop: Drop,
    points_tree: StandardMerkleTree,
    collection: Contract,
    admin: LocalAccount,
    alice: LocalAccount,
) -> None:
    cid, start = _campaign(drop, points_tree)
    t = now(drop.w3)
    drop.reverts(early(drop, cid, t, by_tier=True), alice, "AccessControlUnauthorizedAccount", alice.address,
                 CAMPAIGN_MANAGER_ROLE)  # fmt: skip
    drop.reverts(early(drop, 99, t, by_tier=True), admin, "AirdropUnknownCampaign", 99)
    bad = [
        (start, ZERO_ADDRESS, NONE, True, 0),  # not before the start
        (t, ZERO_ADDRESS, NONE, False, 0),  # no route in
        (t, collection.address, NONE, False, 0),  # a collection without its kind
        (t, ZERO_ADDRESS, ERC721, True, 0),  # a kind without a collection
        (t, ZERO_ADDRESS, NONE, True, 3),  # a tier the card does not have
        (0, ZERO_ADDRESS, NONE, True, 0),  # removal with values
    ]
    for early_start, where, kind, by_tier, tier in bad:
        fn = early(drop, cid, early_start, where, kind, by_tier, tier)
        drop.reverts(fn, admin, "AirdropInvalidEarlyAccess", cid, early_start, start)
    receipt = send(early(drop, cid, t, collection.address, LOYALTY_CARD, True, GOLD), admin)
    assert events(drop.distributor, receipt, "EarlyAccessSet") == [
        {
            "campaignId": cid,
            "earlyStart": t,
            "collection": collection.address,
            "kind": LOYALTY_CARD,
            "byTier": True,
            "minTier": GOLD,
        }
    ]
    assert drop.distributor.functions.earlyAccess(cid).call() == [
        t,
        collection.address,
        LOYALTY_CARD,
        True,
        GOLD,
    ]
    send(early(drop, cid, 0), admin)
    assert drop.distributor.functions.earlyAccess(cid).call() == [0, ZERO_ADDRESS, NONE, False, 0]


def test_holders_claim_early_others_wait_and_a_sale_moves_the_right(
    drop: Drop,
    points_tree: StandardMerkleTree,
    collection: Contract,
    admin: LocalAccount,
    alice: LocalAccount,
    bob: LocalAccount,
    carol: LocalAccount,
) -> None:
    cid, start = _campaign(drop, points_tree)
    early_start = now(drop.w3) + DAY
    send(early(drop, cid, early_start, collection.address, ERC721), admin)
    send(collection.functions.enroll(alice.address, 0, 0), admin)  # alice holds last season's card
    send(collection.functions.enroll(carol.address, 0, 0), admin)
    name, (got_id, got_start, _) = drop.error_of(drop.claim_points(cid, points_tree, 0), alice)
    assert (name, got_id, got_start) == ("AirdropNotStarted", cid, start)  # before the early window
    drop.send_at(drop.claim_points(cid, points_tree, 0), bob, early_start)  # anyone submits; alice holds
    assert drop.balance(alice) == 500
    drop.reverts(
        drop.claim_points(cid, points_tree, 1), bob, "AirdropNotEarlyEligible", cid, bob.address, start
    )
    # carol sells her card to bob mid-window: bob may claim early now, carol no longer
    send(collection.functions.setAcceptsTransfer(True), bob)
    token = collection.functions.cardOf(carol.address).call()
    send(collection.functions.transferFrom(carol.address, bob.address, token), carol)
    drop.reverts(
        drop.claim_points(cid, points_tree, 2), carol, "AirdropNotEarlyEligible", cid, carol.address, start
    )
    send(drop.claim_points(cid, points_tree, 1), bob)
    assert drop.balance(bob) == 1_250
    drop.send_at(drop.claim_points(cid, points_tree, 2), carol, start)  # everyone from the start
    assert drop.balance(carol) == 75


def test_a_loyalty_card_on_hold_does_not_open_the_window(
    drop: Drop, points_tree: StandardMerkleTree, collection: Contract, admin: LocalAccount,
    alice: LocalAccount, bob: LocalAccount,
) -> None:  # fmt: skip
    cid, start = _campaign(drop, points_tree)
    send(early(drop, cid, now(drop.w3), collection.address, LOYALTY_CARD), admin)
    send(collection.functions.enroll(alice.address, 0, 0), admin)
    send(collection.functions.setAcceptsTransfer(True), bob)
    token = collection.functions.cardOf(alice.address).call()
    send(collection.functions.transferFrom(alice.address, bob.address, token), alice)
    drop.reverts(
        drop.claim_points(cid, points_tree, 1), bob, "AirdropNotEarlyEligible", cid, bob.address, start
    )
    drop.send_at(drop.claim_points(cid, points_tree, 1), bob, now(drop.w3) + 7 * DAY + 3_600)  # hold over
    assert drop.balance(bob) == 1_250


def test_members_of_a_minimum_tier_claim_early(
    drop: Drop, points_tree: StandardMerkleTree, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount,
    carol: LocalAccount,
) -> None:  # fmt: skip
    cid, start = _campaign(drop, points_tree)
    send(early(drop, cid, now(drop.w3), by_tier=True, min_tier=GOLD), admin)
    send(drop.card.functions.enroll(alice.address, GOLD, 0), admin)
    send(drop.card.functions.enroll(bob.address, SILVER, 0), admin)
    send(drop.claim_points(cid, points_tree, 0), carol)  # alice is Gold
    drop.reverts(
        drop.claim_points(cid, points_tree, 1), bob, "AirdropNotEarlyEligible", cid, bob.address, start
    )
    drop.reverts(
        drop.claim_points(cid, points_tree, 2), carol, "AirdropNotEarlyEligible", cid, carol.address, start
    )
    send(drop.card.functions.setTier(bob.address, GOLD), admin)  # checked live: bob is Gold now
    send(drop.claim_points(cid, points_tree, 1), bob)
    send(early(drop, cid, 0), admin)  # removed: everyone waits for the start again
    assert drop.error_of(drop.claim_points(cid, points_tree, 3), alice)[0] == "AirdropNotStarted"
