"""AirdropDistributor: campaigns, roots, Merkle claims of points and cards, the claimed bitmap.

Trees come from ``loyalty_chain.campaigns.merkle.StandardMerkleTree`` (a port of
``@openzeppelin/merkle-tree``), so every accepted claim also shows that the contract builds leaves
exactly as that package does.
Runs on the session anvil (``chain``: evm_snapshot before, evm_revert after each test) with the
``points`` and ``card`` fixtures; dev account 0 is the admin of everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from helpers import (
    DEFAULT_ADMIN_ROLE,
    ISSUER_ROLE,
    Harness,
    events,
    fresh_accounts,
    mine,
    new_card,
    new_points,
    now,
    send,
)
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from loyalty_chain.artifacts import Artifact
from loyalty_chain.campaigns.merkle import StandardMerkleTree
from loyalty_chain.chain import Chain
from loyalty_chain.deploy import deploy_contract

CAMPAIGN_MANAGER_ROLE = keccak(text="CAMPAIGN_MANAGER_ROLE")
POINTS, CARDS = 0, 1
BRONZE, SILVER, GOLD = 0, 1, 2
POINTS_LEAF = ["uint256", "address", "uint256"]
CARD_LEAF = ["uint256", "address", "uint8"]
REASON = b"summer-bonus".ljust(32, b"\x00")
AIRDROP = b"airdrop".ljust(32, b"\x00")
NO_ROOT = b"\x00" * 32
DAY = 86_400
FAR_FUTURE = 2**40 - 1
BUDGET = 10**24
"""The mint budget of the campaigns tests create (admin campaigns draw no allowance)."""


def root_of(tree: StandardMerkleTree) -> bytes:
    return bytes.fromhex(tree.root[2:])


@dataclass(frozen=True)
class Drop(Harness):
    """One test's distributor, points and card, and the actions tests repeat."""

    chain: Chain
    distributor: Contract
    points: Contract
    card: Contract
    admin: LocalAccount

    @property
    def w3(self) -> Web3:
        return self.chain.w3

    @property
    def abis(self) -> list[dict[str, Any]]:
        """Every ABI an error of this harness can bubble up from."""
        return self.distributor.abi + self.points.abi + self.card.abi  # type: ignore[no-any-return]

    def create(
        self, kind: int, root: bytes = NO_ROOT, start: int | None = None, end: int | None = None
    ) -> int:
        """Create a campaign (default window: from now for 30 days); returns its id."""
        start = now(self.w3) if start is None else start
        end = start + 30 * DAY if end is None else end
        receipt = send(
            self.distributor.functions.createCampaign(kind, root, start, end, REASON, BUDGET), self.admin
        )
        (event,) = events(self.distributor, receipt, "CampaignCreated")
        return int(event["campaignId"])

    def claim_points(self, campaign_id: int, tree: StandardMerkleTree, position: int) -> Any:
        """The claimPoints call for the leaf given at ``position`` of ``tree``."""
        index, account, amount = tree.at(position)
        proof = [bytes.fromhex(node[2:]) for node in tree.get_proof(position)]
        return self.distributor.functions.claimPoints(
            campaign_id, int(str(index)), account, int(str(amount)), proof
        )

    def claim_card(self, campaign_id: int, tree: StandardMerkleTree, position: int) -> Any:
        """The claimCard call for the leaf given at ``position`` of ``tree``."""
        index, account, tier = tree.at(position)
        proof = [bytes.fromhex(node[2:]) for node in tree.get_proof(position)]
        return self.distributor.functions.claimCard(
            campaign_id, int(str(index)), account, int(str(tier)), proof
        )

    def claimed(self, campaign_id: int, index: int) -> bool:
        return bool(self.distributor.functions.isClaimed(campaign_id, index).call())

    def balance(self, account: LocalAccount | str) -> int:
        address = account if isinstance(account, str) else account.address
        return int(self.points.functions.balanceOf(address).call())

    def send_at(self, fn: Any, sender: LocalAccount, timestamp: int) -> TxReceipt:
        """Send ``fn`` in a block stamped exactly ``timestamp`` (fixed gas: an estimate would run earlier)."""
        self.w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])  # type: ignore[arg-type]
        receipt = send(fn, sender, gas=500_000)
        assert self.w3.eth.get_block(receipt["blockNumber"])["timestamp"] == timestamp
        return receipt


@pytest.fixture(autouse=True)
def _isolated(chain: Chain) -> None:
    """Every test runs inside the ``chain`` snapshot, taken before any contract is deployed."""


@pytest.fixture(scope="session")
def drop_contracts(
    devnet: Chain, loyalty_artifacts: dict[str, Artifact]
) -> tuple[Contract, Contract, Contract]:
    """A points token, a card and a distributor wired as the deployer wires them (ISSUER_ROLE on the
    points and on the card), deployed once per worker like ``pristine``; each test's snapshot puts
    them back."""
    admin = devnet.dev_accounts[0]
    points = new_points(devnet, loyalty_artifacts, admin)
    card = new_card(devnet, loyalty_artifacts, admin)
    wiring = (points.address, card.address, admin.address)
    distributor = deploy_contract(devnet, loyalty_artifacts["AirdropDistributor"], *wiring, sender=admin)
    send(points.functions.grantRole(ISSUER_ROLE, distributor.address), admin)
    send(card.functions.grantRole(ISSUER_ROLE, distributor.address), admin)
    return points, card, distributor


@pytest.fixture
def drop(chain: Chain, drop_contracts: tuple[Contract, Contract, Contract], admin: LocalAccount) -> Drop:
    points, card, distributor = drop_contracts
    return Drop(chain=chain, distributor=distributor, points=points, card=card, admin=admin)


@pytest.fixture
def relayer(dev_accounts: list[LocalAccount]) -> LocalAccount:
    return dev_accounts[5]


@pytest.fixture
def outsider(dev_accounts: list[LocalAccount]) -> LocalAccount:
    return dev_accounts[9]


@pytest.fixture
def points_tree(alice: LocalAccount, bob: LocalAccount, carol: LocalAccount) -> StandardMerkleTree:
    """Leaves (index, account, amount); leaf index i is value i, as an airdrop CSV numbers its rows."""
    values = [[0, alice.address, 500], [1, bob.address, 1_250], [2, carol.address, 75], [3, alice.address, 9]]
    return StandardMerkleTree.of(values, POINTS_LEAF)


@pytest.fixture
def card_tree(alice: LocalAccount, bob: LocalAccount, carol: LocalAccount) -> StandardMerkleTree:
    values = [[0, alice.address, GOLD], [1, bob.address, BRONZE], [2, carol.address, SILVER]]
    return StandardMerkleTree.of(values, CARD_LEAF)


# --- deployment ------------------------------------------------------------------------------------


def test_constructor_grants_admin_roles_and_wires_contracts(drop: Drop, admin: LocalAccount) -> None:
    d = drop.distributor.functions
    assert d.hasRole(DEFAULT_ADMIN_ROLE, admin.address).call()
    assert d.hasRole(CAMPAIGN_MANAGER_ROLE, admin.address).call()
    assert d.CAMPAIGN_MANAGER_ROLE().call() == CAMPAIGN_MANAGER_ROLE
    assert (d.points().call(), d.card().call()) == (drop.points.address, drop.card.address)
    assert d.campaignCount().call() == 0
    assert (d.KIND_POINTS().call(), d.KIND_CARDS().call()) == (POINTS, CARDS)
    assert d.AIRDROP_REASON().call() == AIRDROP


# --- campaigns -------------------------------------------------------------------------------------


def test_create_campaign_with_a_root(
    drop: Drop, admin: LocalAccount, points_tree: StandardMerkleTree
) -> None:
    start = now(drop.w3) + 100
    end = start + DAY
    fn = drop.distributor.functions.createCampaign(POINTS, root_of(points_tree), start, end, REASON, BUDGET)
    assert fn.call({"from": admin.address}) == 1
    receipt = send(fn, admin)
    created = {
        "campaignId": 1,
        "kind": POINTS,
        "start": start,
        "end": end,
        "reason": REASON,
        "budget": BUDGET,
    }
    assert events(drop.distributor, receipt, "CampaignCreated") == [created]
    assert events(drop.distributor, receipt, "RootSet") == [{"campaignId": 1, "root": root_of(points_tree)}]
    expected = [POINTS, root_of(points_tree), start, end, REASON, 0, False, BUDGET]
    assert drop.distributor.functions.campaign(1).call() == expected
    assert drop.distributor.functions.campaignCount().call() == 1


def test_create_campaign_without_a_root_then_set_it(
    drop: Drop, admin: LocalAccount, points_tree: StandardMerkleTree
) -> None:
    first = drop.create(POINTS)
    receipt = send(
        drop.distributor.functions.createCampaign(CARDS, NO_ROOT, 0, FAR_FUTURE, REASON, BUDGET), admin
    )
    assert events(drop.distributor, receipt, "RootSet") == []
    assert (first, drop.distributor.functions.campaignCount().call()) == (1, 2)
    assert drop.distributor.functions.campaign(first).call()[1] == NO_ROOT

    receipt = send(drop.distributor.functions.setRoot(first, root_of(points_tree)), admin)
    assert events(drop.distributor, receipt, "RootSet") == [
        {"campaignId": first, "root": root_of(points_tree)}
    ]
    assert drop.distributor.functions.campaign(first).call()[1] == root_of(points_tree)


def test_campaign_management_requires_the_manager_role(
    drop: Drop, admin: LocalAccount, outsider: LocalAccount
) -> None:
    campaign_id = drop.create(CARDS)
    d = drop.distributor.functions
    denied = ("AccessControlUnauthorizedAccount", outsider.address, CAMPAIGN_MANAGER_ROLE)
    drop.reverts(d.createCampaign(POINTS, NO_ROOT, 0, FAR_FUTURE, REASON, BUDGET), outsider, *denied)
    drop.reverts(d.setRoot(campaign_id, b"\x01" * 32), outsider, *denied)
    drop.reverts(d.setCardValidUntil(campaign_id, FAR_FUTURE), outsider, *denied)
    # a granted manager may, within the allowance the admin gives
    send(d.grantRole(CAMPAIGN_MANAGER_ROLE, outsider.address), admin)
    send(d.setCampaignAllowance(POINTS, 1_000), admin)
    send(d.createCampaign(POINTS, NO_ROOT, 0, FAR_FUTURE, REASON, 1_000), outsider)
    send(d.setRoot(campaign_id, b"\x01" * 32), outsider)


@pytest.mark.parametrize("kind", [2, 255])
def test_create_campaign_rejects_an_unknown_kind(drop: Drop, admin: LocalAccount, kind: int) -> None:
    fn = drop.distributor.functions.createCampaign(kind, NO_ROOT, 0, FAR_FUTURE, REASON, BUDGET)
    drop.reverts(fn, admin, "AirdropInvalidKind", kind)


def test_create_campaign_rejects_bad_windows(drop: Drop, admin: LocalAccount) -> None:
    t = now(drop.w3) + 1_000
    past = now(drop.w3) - 10
    for start, end in [(t, t), (t, t - 1), (0, 0), (0, past)]:  # empty, reversed, zero, already over
        fn = drop.distributor.functions.createCampaign(POINTS, NO_ROOT, start, end, REASON, BUDGET)
        name, (got_start, got_end, block_time) = drop.error_of(fn, admin)
        assert (name, got_start, got_end) == ("AirdropInvalidWindow", start, end)
        assert block_time >= now(drop.w3)


@pytest.mark.parametrize("campaign_id", [0, 2, 2**256 - 1])
def test_unknown_campaigns_are_refused(
    drop: Drop, admin: LocalAccount, alice: LocalAccount, campaign_id: int
) -> None:
    drop.create(CARDS, root=b"\x01" * 32)
    d = drop.distributor.functions
    unknown = ("AirdropUnknownCampaign", campaign_id)
    drop.reverts(d.setRoot(campaign_id, b"\x01" * 32), admin, *unknown)
    drop.reverts(d.setCardValidUntil(campaign_id, 0), admin, *unknown)
    drop.reverts(d.claimPoints(campaign_id, 0, alice.address, 1, []), alice, *unknown)
    drop.reverts(d.claimCard(campaign_id, 0, alice.address, 0, []), alice, *unknown)
    drop.reverts(d.campaign(campaign_id), alice, *unknown)
    assert not drop.claimed(campaign_id, 0)


def test_root_can_change_until_the_first_claim(
    drop: Drop, admin: LocalAccount, points_tree: StandardMerkleTree
) -> None:
    old_tree = StandardMerkleTree.of([[0, admin.address, 1_000_000], [1, admin.address, 1]], POINTS_LEAF)
    campaign_id = drop.create(POINTS, root=root_of(old_tree))  # a wrong tree...
    send(drop.distributor.functions.setRoot(campaign_id, NO_ROOT), admin)  # ...withdrawn...
    drop.reverts(drop.claim_points(campaign_id, old_tree, 0), admin, "AirdropRootNotSet", campaign_id)
    send(drop.distributor.functions.setRoot(campaign_id, root_of(points_tree)), admin)  # ...and replaced
    # a proof under the replaced root no longer proves anything
    drop.reverts(
        drop.claim_points(campaign_id, old_tree, 0),
        admin,
        "AirdropInvalidProof",
        campaign_id,
        0,
        admin.address,
    )
    assert drop.distributor.functions.campaign(campaign_id).call()[6] is False
    send(drop.claim_points(campaign_id, points_tree, 0), admin)
    assert drop.distributor.functions.campaign(campaign_id).call()[6] is True
    fn = drop.distributor.functions.setRoot(campaign_id, b"\x42" * 32)
    drop.reverts(fn, admin, "AirdropClaimsStarted", campaign_id)
    assert drop.distributor.functions.campaign(campaign_id).call()[1] == root_of(points_tree)


def test_a_root_is_published_once_across_campaigns(
    drop: Drop, admin: LocalAccount, points_tree: StandardMerkleTree
) -> None:
    first = drop.create(POINTS, root=root_of(points_tree))
    d = drop.distributor.functions
    again = ("AirdropRootAlreadyPublished", root_of(points_tree), first)
    drop.reverts(d.createCampaign(POINTS, root_of(points_tree), 0, FAR_FUTURE, REASON, BUDGET), admin, *again)
    second = drop.create(POINTS)
    drop.reverts(d.setRoot(second, root_of(points_tree)), admin, *again)
    drop.reverts(d.setRoot(first, root_of(points_tree)), admin, *again)  # not even onto itself
    # a withdrawn root stays spent: its proofs were out in the world
    send(d.setRoot(first, NO_ROOT), admin)
    drop.reverts(d.setRoot(second, root_of(points_tree)), admin, *again)
    # the zero root ("none yet") is not a published root
    drop.create(POINTS)
    assert d.campaignCount().call() == 3


def test_close_campaign_ends_claims_now(
    drop: Drop,
    admin: LocalAccount,
    bob: LocalAccount,
    outsider: LocalAccount,
    points_tree: StandardMerkleTree,
) -> None:
    campaign_id = drop.create(POINTS, root=root_of(points_tree))
    send(drop.claim_points(campaign_id, points_tree, 0), bob)
    d = drop.distributor.functions
    denied = ("AccessControlUnauthorizedAccount", outsider.address, CAMPAIGN_MANAGER_ROLE)
    drop.reverts(d.closeCampaign(campaign_id), outsider, *denied)
    drop.reverts(d.closeCampaign(campaign_id + 1), admin, "AirdropUnknownCampaign", campaign_id + 1)
    receipt = send(d.closeCampaign(campaign_id), admin)
    closed_at = drop.w3.eth.get_block(receipt["blockNumber"])["timestamp"] - 1
    assert events(drop.distributor, receipt, "CampaignClosed") == [
        {"campaignId": campaign_id, "end": closed_at}
    ]
    assert d.campaign(campaign_id).call()[3] == closed_at
    name, (got_id, end, _) = drop.error_of(drop.claim_points(campaign_id, points_tree, 1), bob)
    assert (name, got_id, end) == ("AirdropEnded", campaign_id, closed_at)
    name, values = drop.error_of(d.closeCampaign(campaign_id), admin)
    assert (name, values[:2]) == ("AirdropAlreadyClosed", (campaign_id, closed_at))


def test_close_a_campaign_before_it_opens(
    drop: Drop, admin: LocalAccount, points_tree: StandardMerkleTree
) -> None:
    start = now(drop.w3) + DAY
    campaign_id = drop.create(POINTS, root=root_of(points_tree), start=start)
    send(drop.distributor.functions.closeCampaign(campaign_id), admin)
    mine(drop.w3, start + 10)
    name, (got_id, *_rest) = drop.error_of(drop.claim_points(campaign_id, points_tree, 0), admin)
    assert (name, got_id) == ("AirdropEnded", campaign_id)


# --- points claims ---------------------------------------------------------------------------------


def test_claim_points_mints_to_the_leaf_account(
    drop: Drop, alice: LocalAccount, bob: LocalAccount, points_tree: StandardMerkleTree
) -> None:
    campaign_id = drop.create(POINTS, root=root_of(points_tree))
    supply = drop.points.functions.totalSupply().call()
    receipt = send(drop.claim_points(campaign_id, points_tree, 1), bob)
    claimed = {"campaignId": campaign_id, "index": 1, "account": bob.address, "amount": 1_250}
    assert events(drop.distributor, receipt, "Claimed") == [claimed]
    # the token mints as issuer = the distributor, with reason "airdrop" (the campaign is in Claimed)
    issued = {"issuer": drop.distributor.address, "reason": AIRDROP, "recipients": 1, "total": 1_250}
    assert events(drop.points, receipt, "PointsIssued") == [issued]
    assert drop.balance(bob) == 1_250
    assert drop.points.functions.totalSupply().call() == supply + 1_250
    assert (drop.claimed(campaign_id, 1), drop.claimed(campaign_id, 0)) == (True, False)

    # one account may have several leaves (indexes 0 and 3 are both alice's)
    send(drop.claim_points(campaign_id, points_tree, 0), alice)
    send(drop.claim_points(campaign_id, points_tree, 3), alice)
    assert drop.balance(alice) == 509


def test_a_third_party_claim_pays_the_leaf_account(
    drop: Drop, carol: LocalAccount, relayer: LocalAccount, points_tree: StandardMerkleTree
) -> None:
    campaign_id = drop.create(POINTS, root=root_of(points_tree))
    receipt = send(drop.claim_points(campaign_id, points_tree, 2), relayer)
    assert events(drop.distributor, receipt, "Claimed")[0]["account"] == carol.address
    assert (drop.balance(carol), drop.balance(relayer)) == (75, 0)


def test_claim_points_twice_is_refused(
    drop: Drop, alice: LocalAccount, relayer: LocalAccount, points_tree: StandardMerkleTree
) -> None:
    campaign_id = drop.create(POINTS, root=root_of(points_tree))
    fn = drop.claim_points(campaign_id, points_tree, 0)
    send(fn, alice)
    drop.reverts(fn, alice, "AirdropAlreadyClaimed", campaign_id, 0)
    drop.reverts(fn, relayer, "AirdropAlreadyClaimed", campaign_id, 0)  # whoever submits it
    assert drop.balance(alice) == 500


def test_claim_points_rejects_bad_proofs(
    drop: Drop, alice: LocalAccount, bob: LocalAccount, points_tree: StandardMerkleTree
) -> None:
    campaign_id = drop.create(POINTS, root=root_of(points_tree))
    proof = [bytes.fromhex(node[2:]) for node in points_tree.get_proof(0)]
    other_proof = [bytes.fromhex(node[2:]) for node in points_tree.get_proof(1)]
    claim = drop.distributor.functions.claimPoints
    attempts = [
        (0, alice.address, 501, proof),  # another amount
        (0, bob.address, 500, proof),  # another account
        (1, alice.address, 500, proof),  # another index
        (0, alice.address, 500, other_proof),  # another leaf's proof
        (0, alice.address, 500, []),  # no proof
        (0, alice.address, 500, [*proof, b"\x00" * 32]),  # a proof with an extra node
    ]
    for index, account, amount, attempt_proof in attempts:
        fn = claim(campaign_id, index, account, amount, attempt_proof)
        drop.reverts(fn, alice, "AirdropInvalidProof", campaign_id, index, account)
    assert not drop.claimed(campaign_id, 0)
    send(claim(campaign_id, 0, alice.address, 500, proof), alice)  # the genuine leaf still works


def test_claim_before_the_root_is_published(
    drop: Drop, admin: LocalAccount, alice: LocalAccount, points_tree: StandardMerkleTree
) -> None:
    campaign_id = drop.create(POINTS)
    fn = drop.claim_points(campaign_id, points_tree, 0)
    drop.reverts(fn, alice, "AirdropRootNotSet", campaign_id)
    send(drop.distributor.functions.setRoot(campaign_id, root_of(points_tree)), admin)
    send(fn, alice)


def test_claim_window_is_inclusive_at_both_ends(
    drop: Drop, alice: LocalAccount, bob: LocalAccount, carol: LocalAccount, points_tree: StandardMerkleTree
) -> None:
    start = now(drop.w3) + 1_000
    end = start + 1_000
    campaign_id = drop.create(POINTS, root=root_of(points_tree), start=start, end=end)
    name, (got_id, got_start, block_time) = drop.error_of(
        drop.claim_points(campaign_id, points_tree, 0), alice
    )
    assert (name, got_id, got_start) == ("AirdropNotStarted", campaign_id, start)
    assert block_time < start

    drop.send_at(drop.claim_points(campaign_id, points_tree, 0), alice, start)  # the first second
    drop.send_at(drop.claim_points(campaign_id, points_tree, 1), bob, end)  # the last second
    mine(drop.w3, end + 1)
    name, (got_id, got_end, block_time) = drop.error_of(drop.claim_points(campaign_id, points_tree, 2), carol)
    assert (name, got_id, got_end) == ("AirdropEnded", campaign_id, end)
    assert block_time > end
    assert not drop.claimed(campaign_id, 2)  # and carol's points are never minted


def test_claims_must_match_the_campaign_kind(
    drop: Drop, alice: LocalAccount, points_tree: StandardMerkleTree, card_tree: StandardMerkleTree
) -> None:
    card_campaign = drop.create(CARDS, root=root_of(points_tree))
    fn = drop.claim_points(card_campaign, points_tree, 0)
    drop.reverts(fn, alice, "AirdropWrongKind", card_campaign, CARDS, POINTS)
    points_campaign = drop.create(POINTS, root=root_of(card_tree))
    fn = drop.claim_card(points_campaign, card_tree, 0)
    drop.reverts(fn, alice, "AirdropWrongKind", points_campaign, POINTS, CARDS)


def test_claim_points_surfaces_the_token_errors(
    drop: Drop, admin: LocalAccount, alice: LocalAccount, points_tree: StandardMerkleTree
) -> None:
    campaign_id = drop.create(POINTS, root=root_of(points_tree))
    fn = drop.claim_points(campaign_id, points_tree, 0)
    send(drop.points.functions.pause(), admin)
    drop.reverts(fn, alice, "EnforcedPause")
    send(drop.points.functions.unpause(), admin)
    zero_tree = StandardMerkleTree.of([[0, alice.address, 0], [1, alice.address, 1]], POINTS_LEAF)
    zero_campaign = drop.create(POINTS, root=root_of(zero_tree))
    drop.reverts(drop.claim_points(zero_campaign, zero_tree, 0), alice, "PointsZeroAmount", alice.address)
    send(drop.points.functions.revokeRole(ISSUER_ROLE, drop.distributor.address), admin)
    drop.reverts(fn, alice, "AccessControlUnauthorizedAccount", drop.distributor.address, ISSUER_ROLE)
    assert not drop.claimed(campaign_id, 0)  # failed claims leave no mark


def test_single_leaf_tree_claims_with_an_empty_proof(drop: Drop, alice: LocalAccount) -> None:
    tree = StandardMerkleTree.of([[7, alice.address, 42]], POINTS_LEAF)
    assert tree.get_proof(0) == []
    campaign_id = drop.create(POINTS, root=root_of(tree))
    send(drop.distributor.functions.claimPoints(campaign_id, 7, alice.address, 42, []), alice)
    assert drop.balance(alice) == 42


def test_claimed_bitmap_keeps_indexes_and_campaigns_apart(drop: Drop, relayer: LocalAccount) -> None:
    indexes = [0, 1, 254, 255, 256, 257, 511, 512, 1_000, 2**200]
    accounts = fresh_accounts(len(indexes), seed=1)
    pairs = list(enumerate(zip(indexes, accounts, strict=True)))
    tree = StandardMerkleTree.of([[index, account, 10 + i] for i, (index, account) in pairs], POINTS_LEAF)
    # the same indexes and accounts in another campaign (a root is published once: other amounts)
    other = StandardMerkleTree.of([[index, account, 100 + i] for i, (index, account) in pairs], POINTS_LEAF)
    first = drop.create(POINTS, root=root_of(tree))
    second = drop.create(POINTS, root=root_of(other))
    claimed: set[int] = set()
    for position in [3, 4, 0, 8, 9, 6]:
        send(drop.claim_points(first, tree, position), relayer)
        claimed.add(indexes[position])
        assert [drop.claimed(first, index) for index in indexes] == [index in claimed for index in indexes]
        assert not any(drop.claimed(second, index) for index in indexes)
    # the same index is still claimable in the other campaign
    send(drop.claim_points(second, other, 3), relayer)
    assert drop.balance(accounts[3]) == 13 + 103


def test_a_larger_tree_pays_everyone_exactly_once(drop: Drop, relayer: LocalAccount) -> None:
    accounts = fresh_accounts(37, seed=2)
    tree = StandardMerkleTree.of([[i, a, 1_000 + i] for i, a in enumerate(accounts)], POINTS_LEAF)
    campaign_id = drop.create(POINTS, root=root_of(tree))
    supply = drop.points.functions.totalSupply().call()
    for position in reversed(range(len(accounts))):
        send(drop.claim_points(campaign_id, tree, position), relayer)
    assert [drop.balance(a) for a in accounts] == [1_000 + i for i in range(len(accounts))]
    assert drop.points.functions.totalSupply().call() - supply == sum(1_000 + i for i in range(len(accounts)))
    for position in range(len(accounts)):
        drop.reverts(
            drop.claim_points(campaign_id, tree, position),
            relayer,
            "AirdropAlreadyClaimed",
            campaign_id,
            position,
        )


# --- card claims -----------------------------------------------------------------------------------


def test_claim_card_enrolls_the_leaf_account(
    drop: Drop, alice: LocalAccount, carol: LocalAccount, relayer: LocalAccount, card_tree: StandardMerkleTree
) -> None:
    campaign_id = drop.create(CARDS, root=root_of(card_tree))
    fn = drop.claim_card(campaign_id, card_tree, 0)
    token_id = fn.call({"from": relayer.address})
    receipt = send(fn, relayer)
    claimed = {"campaignId": campaign_id, "index": 0, "account": alice.address, "amount": GOLD}
    assert events(drop.distributor, receipt, "Claimed") == [claimed]
    enrolled = {"tokenId": token_id, "member": alice.address, "tier": GOLD, "validUntil": 0}
    assert events(drop.card, receipt, "MemberEnrolled") == [enrolled]
    assert drop.card.functions.ownerOf(token_id).call() == alice.address
    assert drop.card.functions.activeTierOf(alice.address).call() == [True, GOLD]
    assert drop.card.functions.activeTierOf(relayer.address).call() == [False, 0]
    assert drop.claimed(campaign_id, 0)

    send(drop.claim_card(campaign_id, card_tree, 2), carol)
    assert drop.card.functions.activeTierOf(carol.address).call() == [True, SILVER]


def test_claim_card_twice_is_refused(drop: Drop, alice: LocalAccount, card_tree: StandardMerkleTree) -> None:
    campaign_id = drop.create(CARDS, root=root_of(card_tree))
    fn = drop.claim_card(campaign_id, card_tree, 0)
    send(fn, alice)
    drop.reverts(fn, alice, "AirdropAlreadyClaimed", campaign_id, 0)


def test_claim_card_rejects_bad_proofs(
    drop: Drop, alice: LocalAccount, card_tree: StandardMerkleTree
) -> None:
    campaign_id = drop.create(CARDS, root=root_of(card_tree))
    proof = [bytes.fromhex(node[2:]) for node in card_tree.get_proof(1)]
    bob_address = str(card_tree.at(1)[1])
    claim = drop.distributor.functions.claimCard
    # bob's leaf is Bronze: it proves neither Gold for bob nor Bronze for alice
    drop.reverts(
        claim(campaign_id, 1, bob_address, GOLD, proof),
        alice,
        "AirdropInvalidProof",
        campaign_id,
        1,
        bob_address,
    )
    fn = claim(campaign_id, 1, alice.address, BRONZE, proof)
    drop.reverts(fn, alice, "AirdropInvalidProof", campaign_id, 1, alice.address)


def test_claim_card_before_the_root_before_start_and_after_end(
    drop: Drop, admin: LocalAccount, alice: LocalAccount, card_tree: StandardMerkleTree
) -> None:
    start = now(drop.w3) + 500
    campaign_id = drop.create(CARDS, start=start, end=start + 500)
    fn = drop.claim_card(campaign_id, card_tree, 0)
    drop.reverts(fn, alice, "AirdropRootNotSet", campaign_id)
    send(drop.distributor.functions.setRoot(campaign_id, root_of(card_tree)), admin)
    assert drop.error_of(fn, alice)[0] == "AirdropNotStarted"
    mine(drop.w3, start + 501)
    assert drop.error_of(fn, alice)[0] == "AirdropEnded"


def test_claim_card_for_a_member_who_already_holds_one(
    drop: Drop, admin: LocalAccount, alice: LocalAccount, card_tree: StandardMerkleTree
) -> None:
    send(drop.card.functions.enroll(alice.address, BRONZE, 0), admin)
    campaign_id = drop.create(CARDS, root=root_of(card_tree))
    name, _ = drop.error_of(drop.claim_card(campaign_id, card_tree, 0), alice)
    assert name == "MembershipAlreadyMember"
    assert not drop.claimed(campaign_id, 0)


def test_claim_card_with_a_tier_the_card_lacks_is_refused_by_the_card(
    drop: Drop, alice: LocalAccount
) -> None:
    tree = StandardMerkleTree.of([[0, alice.address, 3], [1, alice.address, 1]], CARD_LEAF)
    campaign_id = drop.create(CARDS, root=root_of(tree))
    drop.reverts(drop.claim_card(campaign_id, tree, 0), alice, "MembershipInvalidTier", 3, 3)


def test_card_expiry_is_set_per_campaign_until_the_first_claim(
    drop: Drop,
    admin: LocalAccount,
    alice: LocalAccount,
    card_tree: StandardMerkleTree,
    points_tree: StandardMerkleTree,
) -> None:
    campaign_id = drop.create(CARDS, root=root_of(card_tree))
    valid_until = now(drop.w3) + 365 * DAY
    receipt = send(drop.distributor.functions.setCardValidUntil(campaign_id, valid_until), admin)
    assert events(drop.distributor, receipt, "CardValidUntilSet") == [
        {"campaignId": campaign_id, "validUntil": valid_until}
    ]
    assert drop.distributor.functions.campaign(campaign_id).call()[5] == valid_until

    fn = drop.claim_card(campaign_id, card_tree, 0)
    token_id = fn.call({"from": alice.address})
    send(fn, alice)
    assert drop.card.functions.cardInfo(token_id).call() == [alice.address, GOLD, valid_until]

    fn = drop.distributor.functions.setCardValidUntil(campaign_id, 0)
    drop.reverts(fn, admin, "AirdropClaimsStarted", campaign_id)
    points_campaign = drop.create(POINTS, root=root_of(points_tree))
    fn = drop.distributor.functions.setCardValidUntil(points_campaign, 0)
    drop.reverts(fn, admin, "AirdropWrongKind", points_campaign, POINTS, CARDS)
