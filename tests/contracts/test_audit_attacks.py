"""Issue 9: each exploit of the outside audit, replayed against the contracts, and shown to fail now.

Every test first sets the scene the audit used, then performs the attack as the attacker would and
checks the outcome the fix promises (the attacker's transaction reverts at its own cost, or the victim's
operation still goes through). Runs on the session anvil (rolled back after each test).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from helpers import (
    ISSUER_ROLE,
    REDEEMER_ROLE,
    REDEMPTION_TYPES,
    ZERO_ADDRESS,
    Harness,
    deploy_raw,
    events,
    fresh_accounts,
    mine,
    new_card,
    new_points,
    now,
    pack_card,
    send,
)
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from loyalty_chain.artifacts import Artifact
from loyalty_chain.campaigns.merkle import StandardMerkleTree
from loyalty_chain.chain import Chain
from loyalty_chain.deploy import deploy_contract

BRONZE, SILVER, GOLD = 0, 1, 2
UNLIMITED = 2**32 - 1
ANY_COST = 2**256 - 1
DAY = 86_400
HOLD = 7 * DAY
CAMPAIGN_MANAGER_ROLE = keccak(text="CAMPAIGN_MANAGER_ROLE")
CARD_LEAF = ["uint256", "address", "uint8"]
POINTS_LEAF = ["uint256", "address", "uint256"]
REASON = b"drop".ljust(32, b"\0")
# An ERC-1271 wallet whose isValidSignature never returns: JUMPDEST PUSH0 JUMP, forever.
GAS_BURNER_INITCODE = "0x60038060095f395ff3" + "5b5f56"


@dataclass(frozen=True)
class Program(Harness):
    chain: Chain
    points: Contract
    card: Contract
    catalog: Contract
    distributor: Contract
    admin: LocalAccount

    @property
    def w3(self) -> Web3:
        return self.chain.w3

    @property
    def abis(self) -> list[dict[str, Any]]:
        return self.catalog.abi + self.points.abi + self.card.abi + self.distributor.abi  # type: ignore[no-any-return]

    def member(self, who: LocalAccount | str, tier: int = BRONZE, points: int = 100_000) -> str:
        address = who if isinstance(who, str) else who.address
        send(self.card.functions.enroll(address, tier, 0), self.admin)
        send(self.points.functions.issue(address, points, REASON), self.admin)
        return address

    def perk(self, price: int = 100, min_tier: int = BRONZE, wallet_limit: int = 0) -> int:
        title = b"perk".ljust(32, b"\0")
        fn = self.catalog.functions.addPerk(title, price, min_tier, UNLIMITED, wallet_limit, 0, 0, True)
        return int(events(self.catalog, send(fn, self.admin), "PerkAdded")[0]["perkId"])

    def sign(
        self,
        signer: LocalAccount,
        member: str,
        perk_id: int,
        *,
        relayer: str,
        max_cost: int,
        quantity: int = 1,
    ) -> tuple[bytes, int]:
        deadline = now(self.w3) + 3_600
        message = {
            "member": member,
            "relayer": relayer,
            "perkId": perk_id,
            "quantity": quantity,
            "maxCost": max_cost,
            "nonce": self.catalog.functions.nonces(member).call(),
            "deadline": deadline,
        }
        domain = {
            "name": "LoyaltyPerkCatalog",
            "version": "1",
            "chainId": self.chain.chain_id,
            "verifyingContract": self.catalog.address,
        }
        typed = {"types": REDEMPTION_TYPES, "primaryType": "Redemption", "domain": domain, "message": message}
        return bytes(signer.sign_message(encode_typed_data(full_message=typed)).signature), deadline


def send_raw_gas(fn: Any, sender: LocalAccount | str, gas: int) -> TxReceipt:
    """Send ``fn`` with a fixed gas limit, whatever its outcome (no estimate: a revert is mined too)."""
    address = sender if isinstance(sender, str) else sender.address
    tx_hash = fn.transact({"from": address, "gas": gas})
    return fn.w3.eth.wait_for_transaction_receipt(tx_hash)  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def _isolated(chain: Chain) -> None:
    """Every test runs inside the ``chain`` snapshot."""


def _wire(
    chain: Chain,
    loyalty_artifacts: dict[str, Artifact],
    points: Contract,
    card: Contract,
    admin: LocalAccount,
) -> Program:
    catalog = deploy_contract(
        chain, loyalty_artifacts["PerkCatalog"], points.address, card.address, admin.address, sender=admin
    )
    distributor = deploy_contract(
        chain,
        loyalty_artifacts["AirdropDistributor"],
        points.address,
        card.address,
        admin.address,
        sender=admin,
    )
    send(points.functions.setRedemptionCatalog(catalog.address), admin)
    send(points.functions.grantRole(ISSUER_ROLE, distributor.address), admin)
    send(card.functions.grantRole(ISSUER_ROLE, distributor.address), admin)
    return Program(chain, points, card, catalog, distributor, admin)


@pytest.fixture(scope="session")
def programs(devnet: Chain, loyalty_artifacts: dict[str, Artifact]) -> dict[bool, Program]:
    """A wired program with a transferable card (``False``) and one with a soulbound card (``True``),
    deployed once per worker like ``pristine``; each test's snapshot puts them back."""
    admin = devnet.dev_accounts[0]
    return {
        soulbound: _wire(
            devnet,
            loyalty_artifacts,
            new_points(devnet, loyalty_artifacts, admin),
            new_card(devnet, loyalty_artifacts, admin, soulbound=soulbound),
            admin,
        )
        for soulbound in (False, True)
    }


@pytest.fixture
def program(chain: Chain, programs: dict[bool, Program]) -> Program:
    return programs[False]


@pytest.fixture
def soulbound_program(chain: Chain, programs: dict[bool, Program]) -> Program:
    return programs[True]


# --- 1. anyone could push a card to any wallet -------------------------------------------------------


def test_pushing_a_card_to_a_wallet_of_the_next_batch_fails_and_the_batch_still_enrols(
    program: Program, dev_accounts: list[LocalAccount]
) -> None:
    p = program
    attacker, victim = dev_accounts[4], dev_accounts[5]
    p.member(attacker)
    token = int(attacker.address, 16)
    batch = [*fresh_accounts(40, seed=91), victim.address]

    # the audit's attack: a 77k-gas transfer of the attacker's card to a wallet of the brand's next batch
    p.reverts(
        p.card.functions.transferFrom(attacker.address, victim.address, token),
        attacker,
        "MembershipTransferNotAccepted",
        victim.address,
    )
    # even a wallet that does hold a card by then (it agreed to one) no longer reverts the whole batch
    send(p.card.functions.setAcceptsTransfer(True), victim)
    send(p.card.functions.transferFrom(attacker.address, victim.address, token), attacker)
    receipt = send(p.card.functions.enrollBatch([pack_card(m, SILVER) for m in batch]), p.admin)
    assert events(p.card, receipt, "EnrolmentSkipped") == [{"member": victim.address, "tokenId": token}]
    assert len(events(p.card, receipt, "MemberEnrolled")) == len(batch) - 1
    assert all(p.card.functions.activeTierOf(m).call() == [True, SILVER] for m in batch[:-1])
    assert p.card.functions.cardOf(victim.address).call() == token  # the one it agreed to, untouched


def test_a_strangers_claim_for_a_batch_wallet_no_longer_reverts_the_soulbound_batch(
    soulbound_program: Program, dev_accounts: list[LocalAccount]
) -> None:
    p = soulbound_program
    stranger, victim = dev_accounts[4], dev_accounts[5]
    tree = StandardMerkleTree.of([[0, victim.address, GOLD], [1, stranger.address, BRONZE]], CARD_LEAF)
    end = now(p.w3) + 30 * DAY
    send(p.distributor.functions.createCampaign(1, bytes.fromhex(tree.root[2:]), 0, end, REASON, 2), p.admin)
    proof = [bytes.fromhex(n[2:]) for n in tree.get_proof(0)]
    send(
        p.distributor.functions.claimCard(1, 0, victim.address, GOLD, proof), stranger
    )  # front-runs the push

    batch = [*fresh_accounts(30, seed=92), victim.address]
    receipt = send(p.card.functions.enrollBatch([pack_card(m) for m in batch]), p.admin)
    assert events(p.card, receipt, "EnrolmentSkipped") == [
        {"member": victim.address, "tokenId": int(victim.address, 16)}
    ]
    assert len(events(p.card, receipt, "Locked")) == len(batch) - 1
    # soulbound cards never take consent
    p.reverts(p.card.functions.setAcceptsTransfer(True), victim, "MembershipSoulbound", 0)


def test_consent_is_used_up_and_can_be_withdrawn(program: Program, dev_accounts: list[LocalAccount]) -> None:
    p = program
    a, b, c = dev_accounts[4:7]
    p.member(a)
    p.member(c)
    f = p.card.functions
    receipt = send(f.setAcceptsTransfer(True), b)
    assert events(p.card, receipt, "TransferAcceptanceSet") == [{"account": b.address, "accepts": True}]
    send(f.setAcceptsTransfer(False), b)
    p.reverts(
        f.transferFrom(a.address, b.address, int(a.address, 16)),
        a,
        "MembershipTransferNotAccepted",
        b.address,
    )
    send(f.setAcceptsTransfer(True), b)
    send(f.transferFrom(a.address, b.address, int(a.address, 16)), a)
    assert not f.acceptsTransfer(b.address).call()
    send(f.cancel(), b)  # b gives the card up: it agreed to one card, not to every later one
    p.reverts(
        f.transferFrom(c.address, b.address, int(c.address, 16)),
        c,
        "MembershipTransferNotAccepted",
        b.address,
    )
    # the consent of a wallet whose own id is held elsewhere survives the card stored at that id
    send(f.setAcceptsTransfer(True), a)
    assert f.acceptsTransfer(a.address).call()
    send(f.transferFrom(c.address, a.address, int(c.address, 16)), c)
    assert f.cardOf(a.address).call() == int(c.address, 16)


# --- 2. lending a card defeated tier gates and per-wallet limits ----------------------------------------


def test_a_gold_card_lent_through_five_wallets_redeems_one_unit(
    program: Program, dev_accounts: list[LocalAccount]
) -> None:
    p = program
    wallets = dev_accounts[4:9]
    holder = p.member(wallets[0], GOLD)
    for w in wallets[1:]:
        send(p.points.functions.issue(w.address, 1_000, REASON), p.admin)  # never enrolled
    gold_only = p.perk(price=100, min_tier=GOLD, wallet_limit=1)
    token = int(holder, 16)
    send(p.catalog.functions.redeem(gold_only, 1, 100), wallets[0])

    redeemed = 1
    for prev, nxt in itertools.pairwise(wallets):
        send(p.card.functions.setAcceptsTransfer(True), nxt)
        receipt = send(p.card.functions.transferFrom(prev.address, nxt.address, token), prev)
        (on_hold,) = events(p.card, receipt, "CardOnHold")
        fn = p.catalog.functions.redeem(gold_only, 1, 100)
        # at once: the card is on hold, so the borrower gets neither the tier nor a fresh limit
        p.reverts(fn, nxt, "CatalogCardOnHold", nxt.address, token, on_hold["holdUntil"])
        mine(p.w3, on_hold["holdUntil"] + 1)
        # after the hold: the card's count travelled with it
        p.reverts(fn, nxt, "CatalogWalletLimitExceeded", gold_only, nxt.address, 1, 1, 1)
    assert p.catalog.functions.redeemedByCard(gold_only, token).call() == redeemed
    sold = p.catalog.functions.perk(gold_only).call()[8]
    assert sold == 1


def test_the_hold_period_is_the_admins_and_a_member_without_transfers_never_waits(
    program: Program, dev_accounts: list[LocalAccount]
) -> None:
    p = program
    a, b = dev_accounts[4:6]
    p.member(a)
    f = p.card.functions
    assert f.holdPeriod().call() == HOLD == f.DEFAULT_HOLD_PERIOD().call()
    assert f.memberCard(a.address).call() == [int(a.address, 16), BRONZE, True, 0]
    p.reverts(f.setHoldPeriod(0), a, "AccessControlUnauthorizedAccount", a.address, b"\0" * 32)
    receipt = send(f.setHoldPeriod(3_600), p.admin)
    assert events(p.card, receipt, "HoldPeriodUpdated") == [{"previousPeriod": HOLD, "newPeriod": 3_600}]
    send(f.setAcceptsTransfer(True), b)
    receipt = send(f.transferFrom(a.address, b.address, int(a.address, 16)), a)
    block_time = p.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    hold_until = -(-(block_time + 3_600) // 3_600) * 3_600  # kept in whole hours, rounded up
    assert f.memberCard(b.address).call() == [int(a.address, 16), BRONZE, True, hold_until]
    assert events(p.card, receipt, "CardOnHold") == [
        {"tokenId": int(a.address, 16), "holder": b.address, "holdUntil": hold_until}
    ]
    # no hold period: a card moved now is usable at once
    send(f.setHoldPeriod(0), p.admin)
    send(f.setAcceptsTransfer(True), a)
    send(f.transferFrom(b.address, a.address, int(a.address, 16)), b)
    assert f.memberCard(a.address).call() == [int(a.address, 16), BRONZE, True, 0]


# --- 3. a contract-wallet member made the relayer burn unbounded gas ------------------------------------


def test_a_gas_burning_erc1271_member_costs_the_relayer_a_bounded_amount(
    program: Program, dev_accounts: list[LocalAccount]
) -> None:
    p = program
    relayer, accomplice = dev_accounts[4], dev_accounts[5]
    wallet = deploy_raw(p.w3, GAS_BURNER_INITCODE, accomplice)
    p.member(wallet)
    perk_id = p.perk(price=1)
    signature, deadline = p.sign(accomplice, wallet, perk_id, relayer=relayer.address, max_cost=1)
    fn = p.catalog.functions.redeemWithSignature(wallet, relayer.address, perk_id, 1, 1, deadline, signature)
    p.reverts(fn, relayer, "CatalogInvalidSignature", wallet, 0)
    receipt = send_raw_gas(fn, relayer, 10_000_000)  # a relayer that gives it plenty (the audit: 9.7M burned)
    assert receipt["status"] == 0
    erc1271_gas = p.catalog.functions.ERC1271_GAS().call()
    assert erc1271_gas == 100_000
    assert receipt["gasUsed"] < erc1271_gas + 60_000  # the stipend plus the rest of the call


# --- 4. a copy of a pending relayed request cost the relayer its gas ------------------------------------


def test_a_mempool_copy_of_a_relayed_request_reverts_for_the_copier_only(
    program: Program, dev_accounts: list[LocalAccount]
) -> None:
    p = program
    member, relayer, copier = dev_accounts[4:7]
    p.member(member)
    perk_id = p.perk(price=100)
    signature, deadline = p.sign(member, member.address, perk_id, relayer=relayer.address, max_cost=100)
    call = p.catalog.functions.redeemWithSignature(
        member.address, relayer.address, perk_id, 1, 100, deadline, signature
    )
    p.reverts(call, copier, "CatalogWrongRelayer", relayer.address, copier.address)  # the copy, sent first
    stolen = send_raw_gas(call, copier, 200_000)
    assert stolen["status"] == 0
    assert send(call, relayer)["status"] == 1  # the relayer's own transaction still goes through
    assert p.points.functions.balanceOf(member.address).call() == 100_000 - 100


# --- 5. the member signed no price -----------------------------------------------------------------------


def test_a_price_edit_cannot_burn_more_than_the_member_agreed_to(
    program: Program, dev_accounts: list[LocalAccount]
) -> None:
    p = program
    member, relayer = dev_accounts[4:6]
    p.member(member)
    latte = p.perk(price=100)
    signature, deadline = p.sign(member, member.address, latte, relayer=relayer.address, max_cost=100)
    title = b"perk".ljust(32, b"\0")
    send(p.catalog.functions.updatePerk(latte, title, 10_000, BRONZE, UNLIMITED, 0, 0, 0, True), p.admin)
    relayed = p.catalog.functions.redeemWithSignature(
        member.address, relayer.address, latte, 1, 100, deadline, signature
    )
    p.reverts(relayed, relayer, "CatalogCostAboveMax", latte, 10_000, 100)
    send(p.catalog.functions.updatePerk(latte, title, 5_000, BRONZE, UNLIMITED, 0, 0, 0, True), p.admin)
    p.reverts(p.catalog.functions.redeem(latte, 1, 100), member, "CatalogCostAboveMax", latte, 5_000, 100)
    assert p.points.functions.balanceOf(member.address).call() == 100_000


def test_a_member_cancels_a_signed_request_by_invalidating_its_nonce(
    program: Program, dev_accounts: list[LocalAccount]
) -> None:
    p = program
    member, relayer = dev_accounts[4:6]
    p.member(member)
    perk_id = p.perk()
    signature, deadline = p.sign(member, member.address, perk_id, relayer=ZERO_ADDRESS, max_cost=100)
    receipt = send(p.catalog.functions.invalidateNonce(), member)
    assert events(p.catalog, receipt, "NonceInvalidated") == [{"member": member.address, "nonce": 0}]
    fn = p.catalog.functions.redeemWithSignature(
        member.address, ZERO_ADDRESS, perk_id, 1, 100, deadline, signature
    )
    p.reverts(fn, relayer, "CatalogInvalidSignature", member.address, 1)


# --- 6. CAMPAIGN_MANAGER_ROLE alone could mint anything to itself ----------------------------------------


def test_a_campaign_manager_cannot_mint_beyond_the_admins_allowance(
    program: Program, dev_accounts: list[LocalAccount]
) -> None:
    p = program
    manager = dev_accounts[6]
    d = p.distributor.functions
    send(d.grantRole(CAMPAIGN_MANAGER_ROLE, manager.address), p.admin)
    greedy = StandardMerkleTree.of([[0, manager.address, 10**30]], POINTS_LEAF)
    root = bytes.fromhex(greedy.root[2:])
    end = now(p.w3) + DAY
    p.reverts(
        d.createCampaign(0, root, 0, end, REASON, 10**30), manager, "AirdropAllowanceExceeded", 0, 10**30, 0
    )
    gold = StandardMerkleTree.of([[0, manager.address, GOLD]], CARD_LEAF)
    p.reverts(
        d.createCampaign(1, bytes.fromhex(gold.root[2:]), 0, end, REASON, 1),
        manager,
        "AirdropAllowanceExceeded",
        1,
        1,
        0,
    )
    # with an allowance of 1,000 points it may budget 1,000, and the 1e30 leaf still cannot be claimed
    receipt = send(d.setCampaignAllowance(0, 1_000), p.admin)
    assert events(p.distributor, receipt, "CampaignAllowanceSet") == [{"kind": 0, "allowance": 1_000}]
    send(d.createCampaign(0, root, 0, end, REASON, 1_000), manager)
    assert d.campaignAllowance(0).call() == 0
    p.reverts(
        d.claimPoints(1, 0, manager.address, 10**30, []), manager, "AirdropBudgetExceeded", 1, 10**30, 1_000
    )
    assert p.points.functions.balanceOf(manager.address).call() == 0
    # only the admin sets allowances
    p.reverts(
        d.setCampaignAllowance(0, 10**30),
        manager,
        "AccessControlUnauthorizedAccount",
        manager.address,
        b"\0" * 32,
    )


def test_claims_stop_at_the_budget(program: Program, dev_accounts: list[LocalAccount]) -> None:
    p = program
    alice, bob = dev_accounts[4:6]
    tree = StandardMerkleTree.of([[0, alice.address, 60], [1, bob.address, 50]], POINTS_LEAF)
    end = now(p.w3) + DAY
    send(
        p.distributor.functions.createCampaign(0, bytes.fromhex(tree.root[2:]), 0, end, REASON, 100), p.admin
    )

    def claim(i: int) -> Any:
        index, account, amount = tree.at(i)
        proof = [bytes.fromhex(n[2:]) for n in tree.get_proof(i)]
        return p.distributor.functions.claimPoints(1, int(str(index)), account, int(str(amount)), proof)

    send(claim(0), alice)
    assert p.distributor.functions.campaign(1).call()[7] == 40
    p.reverts(claim(1), bob, "AirdropBudgetExceeded", 1, 50, 40)
    p.reverts(
        p.distributor.functions.createCampaign(0, b"\0" * 32, 0, end, REASON, 0),
        p.admin,
        "AirdropInvalidBudget",
        0,
    )


# --- 7. a card campaign whose expiry fell inside its claim window locked out late claimers ----------------


def test_a_card_expiry_inside_the_claim_window_is_refused(program: Program) -> None:
    p = program
    start = now(p.w3)
    end = start + 30 * DAY
    send(p.distributor.functions.createCampaign(1, b"\1" * 32, start, end, REASON, 10), p.admin)
    for inside in (start + DAY, end):
        p.reverts(
            p.distributor.functions.setCardValidUntil(1, inside),
            p.admin,
            "AirdropCardExpiryInWindow",
            1,
            inside,
            end,
        )
    send(p.distributor.functions.setCardValidUntil(1, end + 1), p.admin)
    send(p.distributor.functions.setCardValidUntil(1, 0), p.admin)


# --- 8. EIP-7702 delegated members could not redeem gaslessly -------------------------------------------


def test_an_eip7702_delegated_member_redeems_with_its_own_signature(
    program: Program, dev_accounts: list[LocalAccount]
) -> None:
    p = program
    member, relayer = dev_accounts[4:6]
    p.member(member)
    perk_id = p.perk(price=10)
    delegate = deploy_raw(p.w3, GAS_BURNER_INITCODE, relayer)  # whatever it delegates to, even a bad wallet
    designator = "0xef0100" + delegate[2:].lower()
    p.w3.provider.make_request("anvil_setCode", [member.address, designator])  # type: ignore[arg-type]
    assert len(p.w3.eth.get_code(member.address)) == 23
    signature, deadline = p.sign(member, member.address, perk_id, relayer=relayer.address, max_cost=10)
    fn = p.catalog.functions.redeemWithSignature(
        member.address, relayer.address, perk_id, 1, 10, deadline, signature
    )
    send(fn, relayer)
    assert p.points.functions.balanceOf(member.address).call() == 100_000 - 10


# --- informational: a replaced redemption catalog kept burning points -----------------------------------


def test_replacing_the_redemption_catalog_retires_the_old_ones_role(
    program: Program, loyalty_artifacts: dict[str, Artifact]
) -> None:
    p = program
    newer = deploy_contract(
        p.chain,
        loyalty_artifacts["PerkCatalog"],
        p.points.address,
        p.card.address,
        p.admin.address,
        sender=p.admin,
    )
    receipt = send(p.points.functions.setRedemptionCatalog(newer.address), p.admin)
    revoked = events(p.points, receipt, "RoleRevoked")
    assert revoked == [{"role": REDEEMER_ROLE, "account": p.catalog.address, "sender": p.admin.address}]
    assert not p.points.functions.hasRole(REDEEMER_ROLE, p.catalog.address).call()
    assert p.points.functions.hasRole(REDEEMER_ROLE, newer.address).call()
    assert p.points.functions.redemptionCatalog().call() == newer.address
