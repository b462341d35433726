"""MembershipCard: every external function's happy path and reverts, and the one-card-per-wallet invariant."""

from __future__ import annotations

import random
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from helpers import (
    BASE_URI,
    DEFAULT_ADMIN_ROLE,
    ISSUER_ROLE,
    TIERS,
    WRONG_MAGIC_RUNTIME,
    ZERO_ADDRESS,
    consenting_receiver_initcode,
    deploy_raw,
    deploy_revert_of,
    events,
    expect_revert,
    fresh_accounts,
    mine,
    now,
    pack_card,
    revert_of,
    send,
)
from web3.contract import Contract

from loyalty_chain.artifacts import Artifact
from loyalty_chain.chain import Chain

BRONZE, SILVER, GOLD = 0, 1, 2
MAX_UINT = 2**256 - 1


def card_id(who: LocalAccount | str) -> int:
    """The id a wallet's first card gets: its address as a number."""
    return int(who if isinstance(who, str) else who.address, 16)


def serial_id(serial: int, who: LocalAccount | str) -> int:
    """The id of a card enrolled while the wallet's own id is held by another wallet."""
    return (serial << 160) | card_id(who)


def enroll(card: Contract, issuer: LocalAccount, member: str, tier: int = 0, valid_until: int = 0) -> Any:
    return send(card.functions.enroll(member, tier, valid_until), issuer)


def accept(card: Contract, who: LocalAccount) -> Any:
    """``who`` agrees to receive its next card by transfer."""
    return send(card.functions.setAcceptsTransfer(True), who)


# ------------------------------------------------------------------ deployment


def test_deploy_sets_metadata_tiers_and_roles(
    card: Contract, soulbound_card: Contract, admin: LocalAccount
) -> None:
    f = card.functions
    assert (f.name().call(), f.symbol().call(), f.baseURI().call()) == ("Loyalty Card", "LC", BASE_URI)
    assert f.tierCount().call() == 3
    assert [f.tierName(i).call() for i in range(3)] == TIERS
    expect_revert(f.tierName(3), admin, "MembershipInvalidTier", 3, 3)
    assert f.ISSUER_ROLE().call() == ISSUER_ROLE
    assert f.hasRole(DEFAULT_ADMIN_ROLE, admin.address).call()
    assert f.hasRole(ISSUER_ROLE, admin.address).call()
    assert (f.soulbound().call(), soulbound_card.functions.soulbound().call()) == (False, True)


def test_deploy_with_255_tiers(deploy_card: Any) -> None:
    names = [f"T{i}" for i in range(255)]
    token = deploy_card(tiers=names)
    assert token.functions.tierCount().call() == 255
    assert token.functions.tierName(254).call() == "T254"


def test_deploy_rejects_bad_tier_counts_and_zero_admin(
    chain: Chain, loyalty_artifacts: dict[str, Artifact], admin: LocalAccount
) -> None:
    art = loyalty_artifacts["MembershipCard"]

    def attempt(tiers: list[str], owner: str) -> tuple[str, tuple[Any, ...]]:
        return deploy_revert_of(chain.w3, art.abi, art.bytecode, "C", "C", tiers, False, "", owner)

    assert attempt([], admin.address) == ("MembershipInvalidTierCount", (0,))
    assert attempt(["x"] * 256, admin.address) == ("MembershipInvalidTierCount", (256,))
    assert attempt(["x"], ZERO_ADDRESS) == ("MembershipInvalidAdmin", (ZERO_ADDRESS,))


def test_supports_interfaces(card: Contract, soulbound_card: Contract) -> None:
    for token in (card, soulbound_card):
        for interface_id in ("80ac58cd", "5b5e139f", "49064906", "01ffc9a7", "7965db0b"):
            assert token.functions.supportsInterface(bytes.fromhex(interface_id)).call(), interface_id
        assert not token.functions.supportsInterface(bytes.fromhex("ffffffff")).call()
        assert not token.functions.supportsInterface(bytes.fromhex("780e9d63")).call()  # not Enumerable
    # ERC-5192 only where cards are soulbound: marketplaces read it as "a soulbound collection"
    erc5192 = bytes.fromhex("b45a3c0e")
    assert soulbound_card.functions.supportsInterface(erc5192).call()
    assert not card.functions.supportsInterface(erc5192).call()


# ------------------------------------------------------------------ enroll


def test_enroll_mints_card_at_tier(
    chain: Chain, card: Contract, admin: LocalAccount, alice: LocalAccount
) -> None:
    f = card.functions
    valid_until = now(chain.w3) + 86_400
    assert f.enroll(alice.address, SILVER, valid_until).call({"from": admin.address}) == card_id(alice)
    receipt = enroll(card, admin, alice.address, SILVER, valid_until)
    token = card_id(alice)
    assert events(card, receipt, "Transfer") == [
        {"from": ZERO_ADDRESS, "to": alice.address, "tokenId": token}
    ]
    assert events(card, receipt, "MemberEnrolled") == [
        {"tokenId": token, "member": alice.address, "tier": SILVER, "validUntil": valid_until}
    ]
    assert events(card, receipt, "Locked") == []
    assert f.ownerOf(token).call() == alice.address
    assert f.balanceOf(alice.address).call() == 1
    assert f.cardOf(alice.address).call() == token
    assert f.cardInfo(token).call() == [alice.address, SILVER, valid_until]
    assert f.activeTierOf(alice.address).call() == [True, SILVER]
    assert f.isActiveMember(alice.address).call()
    assert f.tokenURI(token).call() == BASE_URI + "1"
    assert not f.locked(token).call()


def test_non_member_views(card: Contract, bob: LocalAccount) -> None:
    f = card.functions
    assert f.balanceOf(bob.address).call() == 0
    assert f.cardOf(bob.address).call() == 0
    assert f.activeTierOf(bob.address).call() == [False, 0]
    assert not f.isActiveMember(bob.address).call()
    assert f.activeTierOf(ZERO_ADDRESS).call() == [False, 0]


def test_enroll_in_soulbound_mode_emits_locked(
    soulbound_card: Contract, admin: LocalAccount, alice: LocalAccount
) -> None:
    receipt = enroll(soulbound_card, admin, alice.address, GOLD)
    assert events(soulbound_card, receipt, "Locked") == [{"tokenId": card_id(alice)}]
    assert soulbound_card.functions.locked(card_id(alice)).call()


def test_enroll_reverts(chain: Chain, card: Contract, admin: LocalAccount, alice: LocalAccount) -> None:
    f = card.functions
    expect_revert(
        f.enroll(alice.address, 0, 0), alice, "AccessControlUnauthorizedAccount", alice.address, ISSUER_ROLE
    )
    expect_revert(f.enroll(ZERO_ADDRESS, 0, 0), admin, "ERC721InvalidReceiver", ZERO_ADDRESS)
    expect_revert(f.enroll(alice.address, 3, 0), admin, "MembershipInvalidTier", 3, 3)
    past = now(chain.w3) - 1
    name, values = revert_of(f.enroll(alice.address, 0, past), admin)
    assert name == "MembershipExpiryInPast" and values[0] == past and values[1] > past
    enroll(card, admin, alice.address)
    expect_revert(
        f.enroll(alice.address, 1, 0), admin, "MembershipAlreadyMember", alice.address, card_id(alice)
    )


def test_expired_card_is_inactive_until_renewed(
    chain: Chain, card: Contract, admin: LocalAccount, alice: LocalAccount
) -> None:
    f = card.functions
    valid_until = now(chain.w3) + 100
    enroll(card, admin, alice.address, GOLD, valid_until)
    mine(chain.w3, valid_until)
    assert f.activeTierOf(alice.address).call() == [True, GOLD]  # valid through validUntil itself
    mine(chain.w3, valid_until + 1)
    assert f.activeTierOf(alice.address).call() == [False, GOLD]
    assert not f.isActiveMember(alice.address).call()
    # an expired card is still the wallet's one card
    assert f.balanceOf(alice.address).call() == 1
    expect_revert(
        f.enroll(alice.address, 0, 0), admin, "MembershipAlreadyMember", alice.address, card_id(alice)
    )
    send(f.setValidUntil(alice.address, valid_until + 1_000), admin)
    assert f.isActiveMember(alice.address).call()


def test_card_without_expiry_never_expires(
    chain: Chain, card: Contract, admin: LocalAccount, alice: LocalAccount
) -> None:
    enroll(card, admin, alice.address, BRONZE, 0)
    mine(chain.w3, now(chain.w3) + 100 * 365 * 86_400)
    assert card.functions.activeTierOf(alice.address).call() == [True, BRONZE]


# ------------------------------------------------------------------ enrollBatch


def test_enroll_batch(chain: Chain, card: Contract, admin: LocalAccount) -> None:
    f = card.functions
    members = fresh_accounts(3)
    later = now(chain.w3) + 1_000
    words = [pack_card(members[0], GOLD, later), pack_card(members[1]), pack_card(members[2], SILVER)]
    receipt = send(f.enrollBatch(words), admin)
    assert [e["tokenId"] for e in events(card, receipt, "Transfer")] == [card_id(m) for m in members]
    assert events(card, receipt, "MemberEnrolled") == [
        {"tokenId": card_id(members[0]), "member": members[0], "tier": GOLD, "validUntil": later},
        {"tokenId": card_id(members[1]), "member": members[1], "tier": BRONZE, "validUntil": 0},
        {"tokenId": card_id(members[2]), "member": members[2], "tier": SILVER, "validUntil": 0},
    ]
    assert [f.activeTierOf(m).call() for m in members] == [[True, GOLD], [True, BRONZE], [True, SILVER]]


def test_enroll_batch_in_soulbound_mode_locks_each(soulbound_card: Contract, admin: LocalAccount) -> None:
    members = fresh_accounts(2)
    receipt = send(soulbound_card.functions.enrollBatch([pack_card(m) for m in members]), admin)
    assert events(soulbound_card, receipt, "Locked") == [{"tokenId": card_id(m)} for m in members]


def test_enroll_batch_reverts(card: Contract, admin: LocalAccount, alice: LocalAccount) -> None:
    f = card.functions
    a, b = fresh_accounts(2)
    expect_revert(
        f.enrollBatch([pack_card(a)]), alice, "AccessControlUnauthorizedAccount", alice.address, ISSUER_ROLE
    )
    expect_revert(f.enrollBatch([]), admin, "MembershipEmptyBatch")
    stray = pack_card(b) | (1 << 232)
    expect_revert(f.enrollBatch([pack_card(a), stray]), admin, "MembershipInvalidBatchEntry", 1, stray)
    expect_revert(f.enrollBatch([pack_card(a, 3)]), admin, "MembershipInvalidTier", 3, 3)
    expect_revert(f.enrollBatch([pack_card(ZERO_ADDRESS)]), admin, "ERC721InvalidReceiver", ZERO_ADDRESS)


# ------------------------------------------------------------------ tiers


def test_set_tier_emits_tier_changed_and_metadata_update(
    card: Contract, admin: LocalAccount, alice: LocalAccount
) -> None:
    f = card.functions
    enroll(card, admin, alice.address, BRONZE)
    token = card_id(alice)
    receipt = send(f.setTier(alice.address, GOLD), admin)
    assert events(card, receipt, "TierChanged") == [
        {"tokenId": token, "member": alice.address, "previousTier": BRONZE, "newTier": GOLD}
    ]
    assert events(card, receipt, "MetadataUpdate") == [{"_tokenId": token}]
    assert f.activeTierOf(alice.address).call() == [True, GOLD]
    assert f.tokenURI(token).call() == BASE_URI + "2"


def test_set_tier_reverts(
    card: Contract, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount
) -> None:
    f = card.functions
    enroll(card, admin, alice.address)
    expect_revert(
        f.setTier(alice.address, 1), alice, "AccessControlUnauthorizedAccount", alice.address, ISSUER_ROLE
    )
    expect_revert(f.setTier(bob.address, 1), admin, "MembershipNotMember", bob.address)
    expect_revert(f.setTier(alice.address, 3), admin, "MembershipInvalidTier", 3, 3)


def test_set_tier_batch(card: Contract, admin: LocalAccount) -> None:
    f = card.functions
    members = fresh_accounts(3, seed=1)
    send(f.enrollBatch([pack_card(m) for m in members]), admin)
    receipt = send(f.setTierBatch([pack_card(members[0], GOLD), pack_card(members[2], SILVER)]), admin)
    assert [e["newTier"] for e in events(card, receipt, "TierChanged")] == [GOLD, SILVER]
    assert [e["_tokenId"] for e in events(card, receipt, "MetadataUpdate")] == [
        card_id(members[0]),
        card_id(members[2]),
    ]
    assert [f.activeTierOf(m).call()[1] for m in members] == [GOLD, BRONZE, SILVER]


def test_set_tier_batch_reverts(
    card: Contract, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount
) -> None:
    f = card.functions
    enroll(card, admin, alice.address)
    expect_revert(
        f.setTierBatch([pack_card(alice.address, 1)]),
        alice,
        "AccessControlUnauthorizedAccount",
        alice.address,
        ISSUER_ROLE,
    )
    expect_revert(f.setTierBatch([]), admin, "MembershipEmptyBatch")
    stray = pack_card(alice.address, 1, 5)  # validUntil bits are not part of a tier word
    expect_revert(f.setTierBatch([stray]), admin, "MembershipInvalidBatchEntry", 0, stray)
    expect_revert(
        f.setTierBatch([pack_card(alice.address, 1), pack_card(bob.address, 1)]),
        admin,
        "MembershipNotMember",
        bob.address,
    )
    expect_revert(f.setTierBatch([pack_card(alice.address, 3)]), admin, "MembershipInvalidTier", 3, 3)


# ------------------------------------------------------------------ expiry


def test_set_valid_until(chain: Chain, card: Contract, admin: LocalAccount, alice: LocalAccount) -> None:
    f = card.functions
    enroll(card, admin, alice.address, SILVER)
    token = card_id(alice)
    when = now(chain.w3) + 500
    receipt = send(f.setValidUntil(alice.address, when), admin)
    assert events(card, receipt, "ValidUntilChanged") == [
        {"tokenId": token, "member": alice.address, "previousValidUntil": 0, "newValidUntil": when}
    ]
    assert f.cardInfo(token).call() == [alice.address, SILVER, when]
    send(f.setValidUntil(alice.address, 1), admin)  # a past expiry suspends the card
    assert f.activeTierOf(alice.address).call() == [False, SILVER]
    send(f.setValidUntil(alice.address, 0), admin)
    assert f.activeTierOf(alice.address).call() == [True, SILVER]


def test_set_valid_until_reverts(
    card: Contract, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount
) -> None:
    f = card.functions
    enroll(card, admin, alice.address)
    expect_revert(
        f.setValidUntil(alice.address, 1),
        alice,
        "AccessControlUnauthorizedAccount",
        alice.address,
        ISSUER_ROLE,
    )
    expect_revert(f.setValidUntil(bob.address, 1), admin, "MembershipNotMember", bob.address)


def test_set_valid_until_batch(
    chain: Chain, card: Contract, admin: LocalAccount, alice: LocalAccount
) -> None:
    f = card.functions
    members = fresh_accounts(2, seed=2)
    send(f.enrollBatch([pack_card(m, GOLD) for m in members]), admin)
    when = now(chain.w3) + 10
    receipt = send(f.setValidUntilBatch([pack_card(m, 0, when + i) for i, m in enumerate(members)]), admin)
    assert [e["newValidUntil"] for e in events(card, receipt, "ValidUntilChanged")] == [when, when + 1]
    assert [f.cardInfo(card_id(m)).call()[2] for m in members] == [when, when + 1]
    expect_revert(
        f.setValidUntilBatch([pack_card(members[0], 0, 1)]),
        alice,
        "AccessControlUnauthorizedAccount",
        alice.address,
        ISSUER_ROLE,
    )
    expect_revert(f.setValidUntilBatch([]), admin, "MembershipEmptyBatch")
    stray = pack_card(members[0], 1, when)  # tier bits must be zero
    expect_revert(f.setValidUntilBatch([stray]), admin, "MembershipInvalidBatchEntry", 0, stray)
    high = pack_card(members[0], 0, when) | (1 << 240)
    expect_revert(f.setValidUntilBatch([high]), admin, "MembershipInvalidBatchEntry", 0, high)
    expect_revert(
        f.setValidUntilBatch([pack_card(alice.address, 0, when)]), admin, "MembershipNotMember", alice.address
    )


# ------------------------------------------------------------------ revoke and cancel


def test_revoke_burns_and_allows_reenrolment(
    card: Contract, admin: LocalAccount, alice: LocalAccount
) -> None:
    f = card.functions
    enroll(card, admin, alice.address, GOLD)
    token = card_id(alice)
    send(f.approve(admin.address, token), alice)
    receipt = send(f.revoke(alice.address), admin)
    assert events(card, receipt, "Transfer") == [
        {"from": alice.address, "to": ZERO_ADDRESS, "tokenId": token}
    ]
    assert events(card, receipt, "CardRevoked") == [
        {"tokenId": token, "member": alice.address, "issuer": admin.address}
    ]
    assert f.balanceOf(alice.address).call() == 0
    assert f.activeTierOf(alice.address).call() == [False, 0]
    expect_revert(f.ownerOf(token), admin, "ERC721NonexistentToken", token)
    expect_revert(f.getApproved(token), admin, "ERC721NonexistentToken", token)
    enroll(card, admin, alice.address, BRONZE)
    assert f.ownerOf(token).call() == alice.address
    assert f.getApproved(token).call() == ZERO_ADDRESS  # the old approval did not survive the burn
    assert f.activeTierOf(alice.address).call() == [True, BRONZE]


def test_revoke_reverts(card: Contract, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount) -> None:
    enroll(card, admin, alice.address)
    expect_revert(
        card.functions.revoke(alice.address),
        bob,
        "AccessControlUnauthorizedAccount",
        bob.address,
        ISSUER_ROLE,
    )
    expect_revert(card.functions.revoke(bob.address), admin, "MembershipNotMember", bob.address)


@pytest.mark.parametrize("soulbound", [False, True])
def test_holder_cancels_own_card(
    deploy_card: Any, admin: LocalAccount, alice: LocalAccount, soulbound: bool
) -> None:
    token_contract = deploy_card(soulbound=soulbound)
    f = token_contract.functions
    enroll(token_contract, admin, alice.address)
    receipt = send(f.cancel(), alice)
    token = card_id(alice)
    assert events(token_contract, receipt, "CardCancelled") == [{"tokenId": token, "member": alice.address}]
    assert events(token_contract, receipt, "Transfer") == [
        {"from": alice.address, "to": ZERO_ADDRESS, "tokenId": token}
    ]
    assert f.balanceOf(alice.address).call() == 0
    expect_revert(f.cancel(), alice, "MembershipNotMember", alice.address)


# ------------------------------------------------------------------ metadata


def test_token_uri_and_base_uri(card: Contract, admin: LocalAccount, alice: LocalAccount) -> None:
    f = card.functions
    enroll(card, admin, alice.address, GOLD)
    token = card_id(alice)
    receipt = send(f.setBaseURI("https://example.org/tiers/"), admin)
    assert events(card, receipt, "BaseURIUpdated") == [{"baseURI": "https://example.org/tiers/"}]
    assert events(card, receipt, "BatchMetadataUpdate") == [{"_fromTokenId": 0, "_toTokenId": MAX_UINT}]
    assert f.tokenURI(token).call() == "https://example.org/tiers/2"
    send(f.setBaseURI(""), admin)
    assert f.tokenURI(token).call() == ""
    expect_revert(f.tokenURI(1), admin, "ERC721NonexistentToken", 1)
    expect_revert(
        f.setBaseURI("x"), alice, "AccessControlUnauthorizedAccount", alice.address, DEFAULT_ADMIN_ROLE
    )


def test_lookups_of_missing_cards_revert(card: Contract, admin: LocalAccount) -> None:
    f = card.functions
    for fn, args in (
        (f.ownerOf, (5,)),
        (f.cardInfo, (5,)),
        (f.getApproved, (5,)),
        (f.locked, (5,)),
        (f.tokenURI, (5,)),
    ):
        expect_revert(fn(*args), admin, "ERC721NonexistentToken", 5)
    expect_revert(f.balanceOf(ZERO_ADDRESS), admin, "ERC721InvalidOwner", ZERO_ADDRESS)


# ------------------------------------------------------------------ transfers (transferable mode)


@pytest.fixture
def alice_card(card: Contract, admin: LocalAccount, alice: LocalAccount) -> int:
    enroll(card, admin, alice.address, SILVER, 0)
    return card_id(alice)


def test_transfer_moves_the_card_and_its_tier(
    card: Contract, alice_card: int, alice: LocalAccount, bob: LocalAccount
) -> None:
    f = card.functions
    accept(card, bob)
    receipt = send(f.transferFrom(alice.address, bob.address, alice_card), alice)
    assert events(card, receipt, "Transfer") == [
        {"from": alice.address, "to": bob.address, "tokenId": alice_card}
    ]
    assert f.ownerOf(alice_card).call() == bob.address
    assert (f.balanceOf(alice.address).call(), f.balanceOf(bob.address).call()) == (0, 1)
    assert (f.cardOf(alice.address).call(), f.cardOf(bob.address).call()) == (0, alice_card)
    assert f.activeTierOf(bob.address).call() == [True, SILVER]
    assert f.activeTierOf(alice.address).call() == [False, 0]


def test_transfer_reverts(
    card: Contract,
    alice_card: int,
    admin: LocalAccount,
    alice: LocalAccount,
    bob: LocalAccount,
    carol: LocalAccount,
) -> None:
    f = card.functions
    expect_revert(
        f.transferFrom(alice.address, ZERO_ADDRESS, alice_card), alice, "ERC721InvalidReceiver", ZERO_ADDRESS
    )
    expect_revert(f.transferFrom(alice.address, bob.address, 7), alice, "ERC721NonexistentToken", 7)
    expect_revert(
        f.transferFrom(bob.address, carol.address, alice_card),
        bob,
        "ERC721IncorrectOwner",
        bob.address,
        alice_card,
        alice.address,
    )
    expect_revert(
        f.transferFrom(alice.address, bob.address, alice_card),
        bob,
        "ERC721InsufficientApproval",
        bob.address,
        alice_card,
    )
    expect_revert(
        f.transferFrom(alice.address, alice.address, alice_card),
        alice,
        "MembershipAlreadyMember",
        alice.address,
        alice_card,
    )
    enroll(card, admin, bob.address)
    expect_revert(
        f.transferFrom(alice.address, bob.address, alice_card),
        alice,
        "MembershipAlreadyMember",
        bob.address,
        card_id(bob),
    )


def test_approved_account_transfers_and_approval_clears(
    card: Contract, alice_card: int, alice: LocalAccount, bob: LocalAccount, carol: LocalAccount
) -> None:
    f = card.functions
    receipt = send(f.approve(bob.address, alice_card), alice)
    assert events(card, receipt, "Approval") == [
        {"owner": alice.address, "approved": bob.address, "tokenId": alice_card}
    ]
    assert f.getApproved(alice_card).call() == bob.address
    accept(card, carol)
    send(f.transferFrom(alice.address, carol.address, alice_card), bob)
    assert f.ownerOf(alice_card).call() == carol.address
    assert f.getApproved(alice_card).call() == ZERO_ADDRESS


def test_approve_reverts_for_non_owner(card: Contract, alice_card: int, bob: LocalAccount) -> None:
    expect_revert(card.functions.approve(bob.address, alice_card), bob, "ERC721InvalidApprover", bob.address)
    expect_revert(card.functions.approve(bob.address, 3), bob, "ERC721NonexistentToken", 3)


def test_operator_approves_and_transfers(
    card: Contract, alice_card: int, alice: LocalAccount, bob: LocalAccount, carol: LocalAccount
) -> None:
    f = card.functions
    receipt = send(f.setApprovalForAll(bob.address, True), alice)
    assert events(card, receipt, "ApprovalForAll") == [
        {"owner": alice.address, "operator": bob.address, "approved": True}
    ]
    assert f.isApprovedForAll(alice.address, bob.address).call()
    send(f.approve(carol.address, alice_card), bob)  # an operator may approve
    accept(card, carol)
    send(f.transferFrom(alice.address, carol.address, alice_card), bob)
    assert f.ownerOf(alice_card).call() == carol.address
    send(f.setApprovalForAll(bob.address, False), alice)
    assert not f.isApprovedForAll(alice.address, bob.address).call()
    expect_revert(f.setApprovalForAll(ZERO_ADDRESS, True), alice, "ERC721InvalidOperator", ZERO_ADDRESS)


def test_safe_transfer_to_accounts_and_receivers(
    chain: Chain,
    card: Contract,
    points: Contract,
    admin: LocalAccount,
    alice_card: int,
    alice: LocalAccount,
    bob: LocalAccount,
) -> None:
    f = card.functions
    # both agreed to receive a card; only one answers onERC721Received correctly
    accepting = deploy_raw(chain.w3, consenting_receiver_initcode(card.address), admin)
    wrong_magic = deploy_raw(chain.w3, consenting_receiver_initcode(card.address, WRONG_MAGIC_RUNTIME), admin)
    assert f.acceptsTransfer(accepting).call() and f.acceptsTransfer(wrong_magic).call()
    safe = f.safeTransferFrom
    # a contract that never agreed (the points token) is refused first; one returning the wrong value too
    expect_revert(
        safe(alice.address, points.address, alice_card),
        alice,
        "MembershipTransferNotAccepted",
        points.address,
    )
    expect_revert(
        safe(alice.address, wrong_magic, alice_card, b"hi"), alice, "ERC721InvalidReceiver", wrong_magic
    )
    send(safe(alice.address, accepting, alice_card, b"hi"), alice)
    assert f.ownerOf(alice_card).call() == accepting
    enroll(card, admin, alice.address, GOLD)  # her own id is held by `accepting`: a serial id
    accept(card, bob)
    send(safe(alice.address, bob.address, serial_id(1, alice)), alice)  # an EOA needs no callback
    assert f.cardOf(bob.address).call() == serial_id(1, alice)


def test_reenrolling_a_wallet_whose_own_id_is_held_elsewhere(
    card: Contract, admin: LocalAccount, alice_card: int, alice: LocalAccount, bob: LocalAccount
) -> None:
    f = card.functions
    accept(card, bob)
    send(f.transferFrom(alice.address, bob.address, alice_card), alice)
    assert f.enroll(alice.address, GOLD, 0).call({"from": admin.address}) == serial_id(1, alice)
    receipt = enroll(card, admin, alice.address, GOLD)
    new_id = serial_id(1, alice)
    assert events(card, receipt, "MemberEnrolled")[0]["tokenId"] == new_id
    assert f.cardOf(alice.address).call() == new_id
    assert f.activeTierOf(alice.address).call() == [True, GOLD]
    assert f.ownerOf(alice_card).call() == bob.address  # bob keeps alice's first card
    expect_revert(f.enroll(alice.address, 0, 0), admin, "MembershipAlreadyMember", alice.address, new_id)
    # alice's first card cannot come back while she holds the second
    expect_revert(
        f.transferFrom(bob.address, alice.address, alice_card),
        bob,
        "MembershipAlreadyMember",
        alice.address,
        new_id,
    )
    send(f.setTier(alice.address, BRONZE), admin)
    assert f.cardInfo(new_id).call() == [alice.address, BRONZE, 0]
    send(f.cancel(), alice)
    assert f.cardOf(alice.address).call() == 0
    accept(card, alice)
    send(f.transferFrom(bob.address, alice.address, alice_card), bob)
    assert f.cardOf(alice.address).call() == alice_card
    assert f.cardOf(bob.address).call() == 0
    assert f.activeTierOf(alice.address).call() == [True, SILVER]


# ------------------------------------------------------------------ soulbound mode


def test_soulbound_refuses_transfers_and_approvals(
    soulbound_card: Contract, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount
) -> None:
    f = soulbound_card.functions
    enroll(soulbound_card, admin, alice.address)
    token = card_id(alice)
    expect_revert(f.transferFrom(alice.address, bob.address, token), alice, "MembershipSoulbound", token)
    expect_revert(f.safeTransferFrom(alice.address, bob.address, token), alice, "MembershipSoulbound", token)
    expect_revert(
        f.safeTransferFrom(alice.address, bob.address, token, b""), alice, "MembershipSoulbound", token
    )
    expect_revert(f.approve(bob.address, token), alice, "MembershipSoulbound", token)
    expect_revert(f.setApprovalForAll(bob.address, True), alice, "MembershipSoulbound", 0)
    assert f.locked(token).call()
    send(f.revoke(alice.address), admin)
    expect_revert(f.locked(token), admin, "ERC721NonexistentToken", token)


# ------------------------------------------------------------------ invariant


def test_one_card_per_wallet_after_random_operations(
    card: Contract, admin: LocalAccount, dev_accounts: list[LocalAccount]
) -> None:
    """Random enrol / transfer / revoke / cancel / tier changes against a Python model of who holds what."""
    f = card.functions
    wallets = dev_accounts[1:7]
    owner_of: dict[int, str] = {}  # token id -> holder
    held: dict[str, int] = {}  # holder -> token id
    tier_of: dict[int, int] = {}
    serial = 0
    rng = random.Random(5192)
    for _ in range(90):
        op = rng.choice(["enroll", "enroll", "transfer", "transfer", "revoke", "cancel", "tier"])
        a, b = rng.sample(wallets, 2)
        if op == "enroll":
            tier = rng.randrange(3)
            if a.address in held:
                expect_revert(
                    f.enroll(a.address, tier, 0), admin, "MembershipAlreadyMember", a.address, held[a.address]
                )
                continue
            home = card_id(a)
            if home in owner_of:  # the wallet's own id is held by someone else
                serial += 1
                token = serial_id(serial, a)
            else:
                token = home
            receipt = enroll(card, admin, a.address, tier)
            assert events(card, receipt, "MemberEnrolled")[0]["tokenId"] == token
            owner_of[token], held[a.address], tier_of[token] = a.address, token, tier
        elif op == "transfer":
            if a.address not in held:
                continue
            token = held[a.address]
            if b.address in held:
                expect_revert(
                    f.transferFrom(a.address, b.address, token),
                    a,
                    "MembershipAlreadyMember",
                    b.address,
                    held[b.address],
                )
                continue
            expect_revert(
                f.transferFrom(a.address, b.address, token), a, "MembershipTransferNotAccepted", b.address
            )
            accept(card, b)
            send(f.transferFrom(a.address, b.address, token), a)
            assert not f.acceptsTransfer(b.address).call()  # the agreement was used up
            del held[a.address]
            owner_of[token], held[b.address] = b.address, token
        elif op in ("revoke", "cancel"):
            if a.address not in held:
                expect_revert(
                    f.revoke(a.address) if op == "revoke" else f.cancel(),
                    admin if op == "revoke" else a,
                    "MembershipNotMember",
                    a.address,
                )
                continue
            send(f.revoke(a.address), admin) if op == "revoke" else send(f.cancel(), a)
            token = held.pop(a.address)
            del owner_of[token]
        else:
            if a.address not in held:
                continue
            tier = rng.randrange(3)
            send(f.setTier(a.address, tier), admin)
            tier_of[held[a.address]] = tier

    assert serial > 0, "the sequence should exercise re-enrolment away from a wallet's own id"
    for w in wallets:
        token = held.get(w.address, 0)
        assert f.balanceOf(w.address).call() == (1 if token else 0) <= 1
        assert f.cardOf(w.address).call() == token
        if token:
            assert f.ownerOf(token).call() == w.address
            assert f.activeTierOf(w.address).call() == [True, tier_of[token]]
    # Replay every Transfer log: no wallet ever ends up with two cards, and the replay matches the model.
    logs = card.events.Transfer().get_logs(from_block=0)
    replay: dict[int, str] = {}
    for log in logs:
        token, to = log["args"]["tokenId"], log["args"]["to"]
        if to == ZERO_ADDRESS:
            del replay[token]
        else:
            replay[token] = to
        counts: dict[str, int] = {}
        for holder in replay.values():
            counts[holder] = counts.get(holder, 0) + 1
        assert max(counts.values(), default=0) <= 1
    assert replay == owner_of
