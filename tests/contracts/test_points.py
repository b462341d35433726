"""LoyaltyPoints: every external function's happy path and reverts, and a supply invariant."""

from __future__ import annotations

import random
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from helpers import (
    DEFAULT_ADMIN_ROLE,
    ISSUER_ROLE,
    PAUSER_ROLE,
    REDEEMER_ROLE,
    ZERO_ADDRESS,
    deploy_revert_of,
    events,
    expect_panic,
    expect_revert,
    mine,
    now,
    pack_issue,
    revert_of,
    send,
    set_next_timestamp,
    sign_permit,
)
from web3.contract import Contract

from loyalty_chain.artifacts import Artifact
from loyalty_chain.chain import Chain

PURCHASE = b"purchase".ljust(32, b"\0")
REFERRAL = b"referral".ljust(32, b"\0")
OPEN, LOCKED, ALLOWLIST = 0, 1, 2


@pytest.fixture
def catalog(dev_accounts: list[LocalAccount]) -> LocalAccount:
    """Stands in for the perk catalog: an account given REDEEMER_ROLE by the tests that need it."""
    return dev_accounts[5]


@pytest.fixture
def funded(points: Contract, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount) -> Contract:
    """``points`` with alice holding 100 and bob 50."""
    send(
        points.functions.issueBatch([pack_issue(alice.address, 100), pack_issue(bob.address, 50)], PURCHASE),
        admin,
    )
    return points


def balance(points: Contract, who: LocalAccount | str) -> int:
    address = who if isinstance(who, str) else who.address
    return int(points.functions.balanceOf(address).call())


# ------------------------------------------------------------------ deployment


def test_deploy_sets_metadata_roles_and_policy(points: Contract, admin: LocalAccount) -> None:
    f = points.functions
    assert (f.name().call(), f.symbol().call(), f.decimals().call()) == ("Loyalty Points", "LP", 0)
    assert (f.totalSupply().call(), f.cap().call(), f.transferPolicy().call()) == (0, 0, OPEN)
    assert f.ISSUER_ROLE().call() == ISSUER_ROLE
    assert f.PAUSER_ROLE().call() == PAUSER_ROLE
    assert f.REDEEMER_ROLE().call() == REDEEMER_ROLE
    for role in (DEFAULT_ADMIN_ROLE, ISSUER_ROLE, PAUSER_ROLE):
        assert f.hasRole(role, admin.address).call()
    assert not f.hasRole(REDEEMER_ROLE, admin.address).call()
    assert not f.paused().call()


def test_deploy_with_decimals_cap_and_policy(deploy_points: Any) -> None:
    token = deploy_points(name="Miles", symbol="MI", decimals=18, cap=10**24, policy=ALLOWLIST)
    f = token.functions
    assert (f.name().call(), f.symbol().call(), f.decimals().call()) == ("Miles", "MI", 18)
    assert (f.cap().call(), f.transferPolicy().call()) == (10**24, ALLOWLIST)


def test_deploy_rejects_bad_policy_and_zero_admin(
    chain: Chain, loyalty_artifacts: dict[str, Artifact], admin: LocalAccount
) -> None:
    art = loyalty_artifacts["LoyaltyPoints"]
    bad_policy = deploy_revert_of(chain.w3, art.abi, art.bytecode, "P", "P", 0, 0, 3, admin.address)
    assert bad_policy == ("PointsInvalidTransferPolicy", (3,))
    zero_admin = deploy_revert_of(chain.w3, art.abi, art.bytecode, "P", "P", 0, 0, 0, ZERO_ADDRESS)
    assert zero_admin == ("PointsInvalidAdmin", (ZERO_ADDRESS,))


def test_supports_access_control_and_erc165(points: Contract) -> None:
    f = points.functions
    assert f.supportsInterface(bytes.fromhex("7965db0b")).call()  # IAccessControl
    assert f.supportsInterface(bytes.fromhex("01ffc9a7")).call()  # IERC165
    assert not f.supportsInterface(bytes.fromhex("ffffffff")).call()


# ------------------------------------------------------------------ issue


def test_issue_credits_and_emits_transfer_and_summary(
    points: Contract, admin: LocalAccount, alice: LocalAccount
) -> None:
    receipt = send(points.functions.issue(alice.address, 40, PURCHASE), admin)
    assert balance(points, alice) == 40
    assert points.functions.totalSupply().call() == 40
    assert events(points, receipt, "Transfer") == [{"from": ZERO_ADDRESS, "to": alice.address, "value": 40}]
    assert events(points, receipt, "PointsIssued") == [
        {"issuer": admin.address, "reason": PURCHASE, "recipients": 1, "total": 40}
    ]


def test_issue_by_granted_issuer(
    points: Contract, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount
) -> None:
    send(points.functions.grantRole(ISSUER_ROLE, bob.address), admin)
    receipt = send(points.functions.issue(alice.address, 7, REFERRAL), bob)
    assert balance(points, alice) == 7
    assert events(points, receipt, "PointsIssued")[0]["issuer"] == bob.address


def test_issue_reverts(points: Contract, admin: LocalAccount, alice: LocalAccount) -> None:
    f = points.functions
    expect_revert(
        f.issue(alice.address, 1, PURCHASE),
        alice,
        "AccessControlUnauthorizedAccount",
        alice.address,
        ISSUER_ROLE,
    )
    expect_revert(f.issue(ZERO_ADDRESS, 1, PURCHASE), admin, "ERC20InvalidReceiver", ZERO_ADDRESS)
    expect_revert(f.issue(alice.address, 0, PURCHASE), admin, "PointsZeroAmount", alice.address)
    send(f.pause(), admin)
    expect_revert(f.issue(alice.address, 1, PURCHASE), admin, "EnforcedPause")


def test_issue_respects_cap(deploy_points: Any, admin: LocalAccount, alice: LocalAccount) -> None:
    token = deploy_points(cap=1_000)
    send(token.functions.issue(alice.address, 999, PURCHASE), admin)
    expect_revert(token.functions.issue(alice.address, 2, PURCHASE), admin, "PointsCapExceeded", 1_001, 1_000)
    send(token.functions.issue(alice.address, 1, PURCHASE), admin)  # exactly reaching the cap is fine
    assert token.functions.totalSupply().call() == 1_000


MAX_SUPPLY = 2**120 - 1  # balances share their word with tier qualification (see LoyaltyPoints)


def test_supply_without_a_cap_is_bounded_at_2_120(
    points: Contract, admin: LocalAccount, alice: LocalAccount
) -> None:
    expect_revert(
        points.functions.issue(alice.address, 2**256 - 1, PURCHASE),
        admin,
        "PointsCapExceeded",
        2**256 - 1,
        MAX_SUPPLY,
    )
    send(points.functions.issue(alice.address, MAX_SUPPLY, PURCHASE), admin)
    assert points.functions.totalSupply().call() == MAX_SUPPLY == balance(points, alice)
    expect_revert(
        points.functions.issue(alice.address, 1, PURCHASE), admin, "PointsCapExceeded", 2**120, MAX_SUPPLY
    )
    words = [pack_issue(alice.address, 1)]
    expect_revert(
        points.functions.issueBatch(words, PURCHASE), admin, "PointsCapExceeded", 2**120, MAX_SUPPLY
    )
    # A full balance moves and burns without touching the bits above it.
    send(points.functions.transfer(admin.address, MAX_SUPPLY), alice)
    assert (balance(points, alice), balance(points, admin)) == (0, MAX_SUPPLY)
    send(points.functions.burn(MAX_SUPPLY), admin)
    assert points.functions.totalSupply().call() == 0


def test_issue_whose_sum_overflows_uint256_panics(
    deploy_points: Any, admin: LocalAccount, alice: LocalAccount
) -> None:
    token = deploy_points(cap=MAX_SUPPLY)
    send(token.functions.issue(alice.address, 1, PURCHASE), admin)
    expect_panic(token.functions.issue(alice.address, 2**256 - 1, PURCHASE), admin)


def test_deploy_refuses_a_cap_above_2_120(
    chain: Chain, loyalty_artifacts: dict[str, Artifact], admin: LocalAccount
) -> None:
    art = loyalty_artifacts["LoyaltyPoints"]
    args = ("P", "P", 0, MAX_SUPPLY + 1, 0, admin.address)
    assert deploy_revert_of(chain.w3, art.abi, art.bytecode, *args) == (
        "PointsInvalidCap",
        (MAX_SUPPLY + 1, MAX_SUPPLY),
    )


# ------------------------------------------------------------------ issueBatch


def test_issue_batch_credits_everyone_and_emits_one_summary(
    points: Contract, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount
) -> None:
    words = [pack_issue(alice.address, 10), pack_issue(bob.address, 2**96 - 1), pack_issue(alice.address, 5)]
    receipt = send(points.functions.issueBatch(words, REFERRAL), admin)
    assert balance(points, alice) == 15
    assert balance(points, bob) == 2**96 - 1
    assert points.functions.totalSupply().call() == 15 + 2**96 - 1
    assert events(points, receipt, "Transfer") == [
        {"from": ZERO_ADDRESS, "to": alice.address, "value": 10},
        {"from": ZERO_ADDRESS, "to": bob.address, "value": 2**96 - 1},
        {"from": ZERO_ADDRESS, "to": alice.address, "value": 5},
    ]
    assert events(points, receipt, "PointsIssued") == [
        {"issuer": admin.address, "reason": REFERRAL, "recipients": 3, "total": 15 + 2**96 - 1}
    ]


def test_issue_batch_reverts(points: Contract, admin: LocalAccount, alice: LocalAccount) -> None:
    f = points.functions
    good = pack_issue(alice.address, 3)
    expect_revert(
        f.issueBatch([good], PURCHASE), alice, "AccessControlUnauthorizedAccount", alice.address, ISSUER_ROLE
    )
    expect_revert(f.issueBatch([], PURCHASE), admin, "PointsEmptyBatch")
    expect_revert(f.issueBatch([good, 9], PURCHASE), admin, "PointsInvalidBatchEntry", 1, ZERO_ADDRESS, 9)
    expect_revert(
        f.issueBatch([good, good, pack_issue(alice.address, 0)], PURCHASE),
        admin,
        "PointsInvalidBatchEntry",
        2,
        alice.address,
        0,
    )
    send(f.pause(), admin)
    expect_revert(f.issueBatch([good], PURCHASE), admin, "EnforcedPause")


def test_issue_batch_respects_cap_on_the_total(
    deploy_points: Any, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount
) -> None:
    token = deploy_points(cap=100)
    words = [pack_issue(alice.address, 60), pack_issue(bob.address, 41)]
    expect_revert(token.functions.issueBatch(words, PURCHASE), admin, "PointsCapExceeded", 101, 100)
    send(token.functions.issueBatch(words[:1], PURCHASE), admin)
    assert token.functions.totalSupply().call() == 60


# ------------------------------------------------------------------ burn and redeemBurn


def test_burn_own_points(funded: Contract, alice: LocalAccount) -> None:
    receipt = send(funded.functions.burn(30), alice)
    assert balance(funded, alice) == 70
    assert funded.functions.totalSupply().call() == 120
    assert events(funded, receipt, "Transfer") == [{"from": alice.address, "to": ZERO_ADDRESS, "value": 30}]


def test_burn_reverts(funded: Contract, admin: LocalAccount, alice: LocalAccount) -> None:
    f = funded.functions
    expect_revert(f.burn(0), alice, "PointsZeroAmount", alice.address)
    expect_revert(f.burn(101), alice, "ERC20InsufficientBalance", alice.address, 100, 101)
    send(f.pause(), admin)
    expect_revert(f.burn(1), alice, "EnforcedPause")


@pytest.mark.parametrize("policy", [LOCKED, ALLOWLIST])
def test_burn_and_redeem_work_under_restrictive_policies(
    funded: Contract, admin: LocalAccount, alice: LocalAccount, catalog: LocalAccount, policy: int
) -> None:
    send(funded.functions.setTransferPolicy(policy), admin)
    send(funded.functions.grantRole(REDEEMER_ROLE, catalog.address), admin)
    send(funded.functions.burn(10), alice)
    send(funded.functions.redeemBurn(alice.address, 20), catalog)
    assert balance(funded, alice) == 70


def test_redeem_burn_needs_no_allowance(
    funded: Contract, admin: LocalAccount, alice: LocalAccount, catalog: LocalAccount
) -> None:
    send(funded.functions.grantRole(REDEEMER_ROLE, catalog.address), admin)
    assert funded.functions.allowance(alice.address, catalog.address).call() == 0
    receipt = send(funded.functions.redeemBurn(alice.address, 25), catalog)
    assert balance(funded, alice) == 75
    assert funded.functions.totalSupply().call() == 125
    assert events(funded, receipt, "Transfer") == [{"from": alice.address, "to": ZERO_ADDRESS, "value": 25}]


def test_redeem_burn_reverts(
    funded: Contract, admin: LocalAccount, alice: LocalAccount, catalog: LocalAccount
) -> None:
    f = funded.functions
    # the admin holds every other role but not REDEEMER_ROLE
    expect_revert(
        f.redeemBurn(alice.address, 1),
        admin,
        "AccessControlUnauthorizedAccount",
        admin.address,
        REDEEMER_ROLE,
    )
    send(f.grantRole(REDEEMER_ROLE, catalog.address), admin)
    expect_revert(f.redeemBurn(ZERO_ADDRESS, 1), catalog, "ERC20InvalidSender", ZERO_ADDRESS)
    expect_revert(f.redeemBurn(alice.address, 0), catalog, "PointsZeroAmount", alice.address)
    expect_revert(
        f.redeemBurn(alice.address, 101), catalog, "ERC20InsufficientBalance", alice.address, 100, 101
    )
    send(f.pause(), admin)
    expect_revert(f.redeemBurn(alice.address, 1), catalog, "EnforcedPause")
    send(f.revokeRole(REDEEMER_ROLE, catalog.address), admin)
    send(f.unpause(), admin)
    expect_revert(
        f.redeemBurn(alice.address, 1),
        catalog,
        "AccessControlUnauthorizedAccount",
        catalog.address,
        REDEEMER_ROLE,
    )


# ------------------------------------------------------------------ redemption catalog


def test_set_redemption_catalog_grants_the_role_and_emits(
    funded: Contract, admin: LocalAccount, alice: LocalAccount, catalog: LocalAccount
) -> None:
    f = funded.functions
    assert f.redemptionCatalog().call() == ZERO_ADDRESS
    receipt = send(f.setRedemptionCatalog(catalog.address), admin)
    assert events(funded, receipt, "RedemptionCatalogUpdated") == [
        {"previousCatalog": ZERO_ADDRESS, "newCatalog": catalog.address}
    ]
    assert events(funded, receipt, "RoleGranted") == [
        {"role": REDEEMER_ROLE, "account": catalog.address, "sender": admin.address}
    ]
    assert f.redemptionCatalog().call() == catalog.address
    assert f.hasRole(REDEEMER_ROLE, catalog.address).call()
    receipt = send(f.redeemBurn(alice.address, 25), catalog)
    assert events(funded, receipt, "Transfer") == [{"from": alice.address, "to": ZERO_ADDRESS, "value": 25}]
    assert (balance(funded, alice), f.totalSupply().call()) == (75, 125)


def test_set_redemption_catalog_for_a_role_holder_grants_nothing_more(
    points: Contract, admin: LocalAccount, catalog: LocalAccount
) -> None:
    f = points.functions
    send(f.grantRole(REDEEMER_ROLE, catalog.address), admin)  # how deploy_program wires it first
    receipt = send(f.setRedemptionCatalog(catalog.address), admin)
    assert events(points, receipt, "RoleGranted") == []
    assert len(events(points, receipt, "RedemptionCatalogUpdated")) == 1
    assert f.redemptionCatalog().call() == catalog.address


def test_set_redemption_catalog_requires_the_admin_role(
    points: Contract, admin: LocalAccount, alice: LocalAccount, catalog: LocalAccount
) -> None:
    f = points.functions
    send(f.grantRole(REDEEMER_ROLE, alice.address), admin)  # a redeemer is not an admin
    for caller in (alice, catalog):
        expect_revert(
            f.setRedemptionCatalog(caller.address),
            caller,
            "AccessControlUnauthorizedAccount",
            caller.address,
            DEFAULT_ADMIN_ROLE,
        )


def test_replacing_or_clearing_the_catalog_retires_the_previous_one(
    funded: Contract, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount, catalog: LocalAccount
) -> None:
    f = funded.functions
    send(f.setRedemptionCatalog(catalog.address), admin)
    receipt = send(f.setRedemptionCatalog(bob.address), admin)
    assert events(funded, receipt, "RedemptionCatalogUpdated") == [
        {"previousCatalog": catalog.address, "newCatalog": bob.address}
    ]
    assert f.redemptionCatalog().call() == bob.address
    # the previous catalog loses REDEEMER_ROLE: a replaced catalog must not keep burning points
    assert events(funded, receipt, "RoleRevoked") == [
        {"role": REDEEMER_ROLE, "account": catalog.address, "sender": admin.address}
    ]
    assert not f.hasRole(REDEEMER_ROLE, catalog.address).call()
    expect_revert(
        f.redeemBurn(alice.address, 1),
        catalog,
        "AccessControlUnauthorizedAccount",
        catalog.address,
        REDEEMER_ROLE,
    )
    send(f.redeemBurn(alice.address, 1), bob)
    send(f.grantRole(REDEEMER_ROLE, alice.address), admin)  # another redeemer, not a catalog
    receipt = send(f.setRedemptionCatalog(ZERO_ADDRESS), admin)
    assert events(funded, receipt, "RedemptionCatalogUpdated") == [
        {"previousCatalog": bob.address, "newCatalog": ZERO_ADDRESS}
    ]
    assert events(funded, receipt, "RoleGranted") == []
    assert not f.hasRole(REDEEMER_ROLE, ZERO_ADDRESS).call()
    assert not f.hasRole(REDEEMER_ROLE, bob.address).call()  # cleared: retired too
    assert f.redemptionCatalog().call() == ZERO_ADDRESS
    send(f.redeemBurn(alice.address, 1), alice)  # other REDEEMER_ROLE holders keep it
    assert balance(funded, alice) == 98


@pytest.mark.parametrize("how", ["revoke", "renounce"])
def test_losing_the_role_clears_the_catalog(
    funded: Contract, admin: LocalAccount, alice: LocalAccount, catalog: LocalAccount, how: str
) -> None:
    f = funded.functions
    send(f.setRedemptionCatalog(catalog.address), admin)
    if how == "revoke":
        receipt = send(f.revokeRole(REDEEMER_ROLE, catalog.address), admin)
    else:
        receipt = send(f.renounceRole(REDEEMER_ROLE, catalog.address), catalog)
    assert events(funded, receipt, "RoleRevoked") == [
        {
            "role": REDEEMER_ROLE,
            "account": catalog.address,
            "sender": (admin if how == "revoke" else catalog).address,
        }
    ]
    assert events(funded, receipt, "RedemptionCatalogUpdated") == [
        {"previousCatalog": catalog.address, "newCatalog": ZERO_ADDRESS}
    ]
    assert f.redemptionCatalog().call() == ZERO_ADDRESS
    expect_revert(
        f.redeemBurn(alice.address, 1),
        catalog,
        "AccessControlUnauthorizedAccount",
        catalog.address,
        REDEEMER_ROLE,
    )


def test_other_revocations_leave_the_catalog(
    funded: Contract, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount, catalog: LocalAccount
) -> None:
    f = funded.functions
    send(f.setRedemptionCatalog(catalog.address), admin)
    send(f.grantRole(REDEEMER_ROLE, bob.address), admin)
    send(f.grantRole(ISSUER_ROLE, catalog.address), admin)
    for role, account in ((REDEEMER_ROLE, bob.address), (ISSUER_ROLE, catalog.address)):
        receipt = send(f.revokeRole(role, account), admin)
        assert events(funded, receipt, "RedemptionCatalogUpdated") == []
    # revoking a role nobody holds (here: from the zero address) changes nothing either
    send(f.setRedemptionCatalog(ZERO_ADDRESS), admin)
    receipt = send(f.revokeRole(REDEEMER_ROLE, ZERO_ADDRESS), admin)
    assert events(funded, receipt, "RoleRevoked") == []
    assert events(funded, receipt, "RedemptionCatalogUpdated") == []
    send(f.setRedemptionCatalog(catalog.address), admin)
    assert f.redemptionCatalog().call() == catalog.address
    send(f.redeemBurn(alice.address, 1), catalog)


def test_catalog_redemption_keeps_every_check(
    funded: Contract, admin: LocalAccount, alice: LocalAccount, catalog: LocalAccount
) -> None:
    f = funded.functions
    send(f.setRedemptionCatalog(catalog.address), admin)
    expect_revert(f.redeemBurn(ZERO_ADDRESS, 1), catalog, "ERC20InvalidSender", ZERO_ADDRESS)
    expect_revert(f.redeemBurn(alice.address, 0), catalog, "PointsZeroAmount", alice.address)
    expect_revert(
        f.redeemBurn(alice.address, 101), catalog, "ERC20InsufficientBalance", alice.address, 100, 101
    )
    send(f.pause(), admin)
    expect_revert(f.redeemBurn(alice.address, 1), catalog, "EnforcedPause")


def test_catalog_shares_the_pause_and_policy_slot_without_clobbering(
    points: Contract, admin: LocalAccount, catalog: LocalAccount
) -> None:
    f = points.functions
    send(f.setTransferPolicy(ALLOWLIST), admin)
    send(f.pause(), admin)
    send(f.setRedemptionCatalog(catalog.address), admin)
    assert (f.paused().call(), f.transferPolicy().call(), f.redemptionCatalog().call()) == (
        True,
        ALLOWLIST,
        catalog.address,
    )
    send(f.unpause(), admin)
    send(f.setTransferPolicy(LOCKED), admin)
    assert (f.paused().call(), f.transferPolicy().call(), f.redemptionCatalog().call()) == (
        False,
        LOCKED,
        catalog.address,
    )
    send(f.revokeRole(REDEEMER_ROLE, catalog.address), admin)
    assert (f.paused().call(), f.transferPolicy().call(), f.redemptionCatalog().call()) == (
        False,
        LOCKED,
        ZERO_ADDRESS,
    )


def test_the_catalog_skips_the_role_lookup(
    funded: Contract, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount, catalog: LocalAccount
) -> None:
    f = funded.functions
    send(f.setRedemptionCatalog(catalog.address), admin)
    send(f.grantRole(REDEEMER_ROLE, bob.address), admin)
    by_role = send(f.redeemBurn(alice.address, 5), bob)["gasUsed"]
    by_catalog = send(f.redeemBurn(alice.address, 5), catalog)["gasUsed"]
    assert by_role - by_catalog >= 2_100  # the role's cold SLOAD


# ------------------------------------------------------------------ transfer, approve, transferFrom


def test_transfer_moves_points(funded: Contract, alice: LocalAccount, carol: LocalAccount) -> None:
    receipt = send(funded.functions.transfer(carol.address, 30), alice)
    assert (balance(funded, alice), balance(funded, carol)) == (70, 30)
    assert funded.functions.totalSupply().call() == 150
    assert events(funded, receipt, "Transfer") == [{"from": alice.address, "to": carol.address, "value": 30}]
    send(funded.functions.transfer(carol.address, 0), alice)  # zero-value transfers are ERC-20 transfers
    assert balance(funded, carol) == 30


def test_transfer_reverts(
    funded: Contract, admin: LocalAccount, alice: LocalAccount, carol: LocalAccount
) -> None:
    f = funded.functions
    expect_revert(f.transfer(ZERO_ADDRESS, 1), alice, "ERC20InvalidReceiver", ZERO_ADDRESS)
    expect_revert(f.transfer(carol.address, 101), alice, "ERC20InsufficientBalance", alice.address, 100, 101)
    expect_revert(f.transfer(alice.address, 1), carol, "ERC20InsufficientBalance", carol.address, 0, 1)
    send(f.pause(), admin)
    expect_revert(f.transfer(carol.address, 1), alice, "EnforcedPause")


def test_locked_policy_refuses_transfers(
    funded: Contract, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount
) -> None:
    f = funded.functions
    send(f.setTransferPolicy(LOCKED), admin)
    expect_revert(f.transfer(bob.address, 1), alice, "PointsTransfersLocked", alice.address, bob.address)
    send(f.approve(bob.address, 10), alice)
    expect_revert(
        f.transferFrom(alice.address, bob.address, 1),
        bob,
        "PointsTransfersLocked",
        alice.address,
        bob.address,
    )
    send(f.issue(alice.address, 5, PURCHASE), admin)  # issue still works
    send(f.setTransferPolicy(OPEN), admin)
    send(f.transfer(bob.address, 1), alice)
    assert balance(funded, bob) == 51


def test_allowlist_policy_only_allows_listed_recipients(
    funded: Contract, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount, carol: LocalAccount
) -> None:
    f = funded.functions
    send(f.setTransferPolicy(ALLOWLIST), admin)
    expect_revert(f.transfer(carol.address, 1), alice, "PointsRecipientNotAllowed", carol.address)
    receipt = send(f.setRecipientAllowed(carol.address, True), admin)
    assert events(funded, receipt, "RecipientAllowlistUpdated") == [
        {"account": carol.address, "allowed": True}
    ]
    assert f.isAllowedRecipient(carol.address).call()
    send(f.transfer(carol.address, 10), alice)
    send(f.approve(bob.address, 5), alice)
    send(f.transferFrom(alice.address, carol.address, 5), bob)
    expect_revert(
        f.transferFrom(alice.address, bob.address, 0), bob, "PointsRecipientNotAllowed", bob.address
    )
    assert balance(funded, carol) == 15
    send(f.setRecipientAllowed(carol.address, False), admin)
    assert not f.isAllowedRecipient(carol.address).call()
    expect_revert(f.transfer(carol.address, 1), alice, "PointsRecipientNotAllowed", carol.address)


def test_approve_and_transfer_from(
    funded: Contract, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount, carol: LocalAccount
) -> None:
    f = funded.functions
    receipt = send(f.approve(bob.address, 40), alice)
    assert events(funded, receipt, "Approval") == [
        {"owner": alice.address, "spender": bob.address, "value": 40}
    ]
    receipt = send(f.transferFrom(alice.address, carol.address, 15), bob)
    assert events(funded, receipt, "Approval") == []  # like OZ v5: no Approval on transferFrom
    assert f.allowance(alice.address, bob.address).call() == 25
    assert (balance(funded, alice), balance(funded, carol)) == (85, 15)
    expect_revert(
        f.transferFrom(alice.address, carol.address, 26),
        bob,
        "ERC20InsufficientAllowance",
        bob.address,
        25,
        26,
    )
    expect_revert(f.transferFrom(alice.address, ZERO_ADDRESS, 1), bob, "ERC20InvalidReceiver", ZERO_ADDRESS)
    # a zero-value transferFrom needs no allowance, but must not look like a mint
    expect_revert(f.transferFrom(ZERO_ADDRESS, carol.address, 0), bob, "ERC20InvalidSender", ZERO_ADDRESS)
    send(f.pause(), admin)
    expect_revert(f.transferFrom(alice.address, carol.address, 1), bob, "EnforcedPause")


def test_infinite_allowance_is_not_spent(funded: Contract, alice: LocalAccount, bob: LocalAccount) -> None:
    send(funded.functions.approve(bob.address, 2**256 - 1), alice)
    send(funded.functions.transferFrom(alice.address, bob.address, 60), bob)
    assert funded.functions.allowance(alice.address, bob.address).call() == 2**256 - 1
    assert balance(funded, bob) == 110


def test_approve_reverts_on_zero_spender_but_not_when_paused(
    funded: Contract, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount
) -> None:
    expect_revert(funded.functions.approve(ZERO_ADDRESS, 1), alice, "ERC20InvalidSpender", ZERO_ADDRESS)
    send(funded.functions.pause(), admin)
    send(funded.functions.approve(bob.address, 3), alice)
    assert funded.functions.allowance(alice.address, bob.address).call() == 3


# ------------------------------------------------------------------ admin: policy, allowlist, pause


def test_set_transfer_policy(points: Contract, admin: LocalAccount, alice: LocalAccount) -> None:
    f = points.functions
    receipt = send(f.setTransferPolicy(LOCKED), admin)
    assert events(points, receipt, "TransferPolicyUpdated") == [{"previousPolicy": OPEN, "newPolicy": LOCKED}]
    assert f.transferPolicy().call() == LOCKED
    expect_revert(f.setTransferPolicy(3), admin, "PointsInvalidTransferPolicy", 3)
    send(f.grantRole(ISSUER_ROLE, alice.address), admin)  # an issuer is not an admin
    expect_revert(
        f.setTransferPolicy(OPEN),
        alice,
        "AccessControlUnauthorizedAccount",
        alice.address,
        DEFAULT_ADMIN_ROLE,
    )


def test_set_recipient_allowed_reverts(points: Contract, admin: LocalAccount, alice: LocalAccount) -> None:
    f = points.functions
    expect_revert(f.setRecipientAllowed(ZERO_ADDRESS, True), admin, "ERC20InvalidReceiver", ZERO_ADDRESS)
    expect_revert(
        f.setRecipientAllowed(alice.address, True),
        alice,
        "AccessControlUnauthorizedAccount",
        alice.address,
        DEFAULT_ADMIN_ROLE,
    )


def test_pause_and_unpause(points: Contract, admin: LocalAccount, alice: LocalAccount) -> None:
    f = points.functions
    expect_revert(f.pause(), alice, "AccessControlUnauthorizedAccount", alice.address, PAUSER_ROLE)
    expect_revert(f.unpause(), admin, "ExpectedPause")
    receipt = send(f.pause(), admin)
    assert events(points, receipt, "Paused") == [{"account": admin.address}]
    assert f.paused().call()
    expect_revert(f.pause(), admin, "EnforcedPause")
    expect_revert(f.unpause(), alice, "AccessControlUnauthorizedAccount", alice.address, PAUSER_ROLE)
    receipt = send(f.unpause(), admin)
    assert events(points, receipt, "Unpaused") == [{"account": admin.address}]
    assert not f.paused().call()


# ------------------------------------------------------------------ permit


def test_domain_separator_is_eip712_of_name_version_chain_and_address(chain: Chain, points: Contract) -> None:
    from eth_abi import encode

    expected = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                keccak(
                    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak(text="Loyalty Points"),
                keccak(text="1"),
                chain.chain_id,
                points.address,
            ],
        )
    )
    assert points.functions.DOMAIN_SEPARATOR().call() == expected


def test_permit_sets_allowance_and_uses_the_nonce(
    chain: Chain, funded: Contract, alice: LocalAccount, bob: LocalAccount, carol: LocalAccount
) -> None:
    f = funded.functions
    deadline = now(chain.w3) + 3600
    v, r, s = sign_permit(funded, alice, bob.address, 60, 0, deadline, chain.chain_id)
    receipt = send(f.permit(alice.address, bob.address, 60, deadline, v, r, s), carol)  # anyone may relay it
    assert events(funded, receipt, "Approval") == [
        {"owner": alice.address, "spender": bob.address, "value": 60}
    ]
    assert f.allowance(alice.address, bob.address).call() == 60
    assert f.nonces(alice.address).call() == 1
    send(f.transferFrom(alice.address, carol.address, 60), bob)
    assert balance(funded, carol) == 60


def test_permit_reverts_when_expired(
    chain: Chain, funded: Contract, alice: LocalAccount, bob: LocalAccount
) -> None:
    deadline = now(chain.w3) + 10
    v, r, s = sign_permit(funded, alice, bob.address, 1, 0, deadline, chain.chain_id)
    mine(chain.w3, deadline + 1)
    expect_revert(
        funded.functions.permit(alice.address, bob.address, 1, deadline, v, r, s),
        bob,
        "ERC2612ExpiredSignature",
        deadline,
    )


def test_permit_reverts_for_wrong_signer(
    chain: Chain, funded: Contract, alice: LocalAccount, bob: LocalAccount
) -> None:
    deadline = now(chain.w3) + 3600
    v, r, s = sign_permit(funded, alice, bob.address, 1, 0, deadline, chain.chain_id, signer=bob)
    expect_revert(
        funded.functions.permit(alice.address, bob.address, 1, deadline, v, r, s),
        bob,
        "ERC2612InvalidSigner",
        bob.address,
        alice.address,
    )


def test_permit_cannot_be_replayed(
    chain: Chain, funded: Contract, alice: LocalAccount, bob: LocalAccount
) -> None:
    f = funded.functions
    deadline = now(chain.w3) + 3600
    v, r, s = sign_permit(funded, alice, bob.address, 5, 0, deadline, chain.chain_id)
    send(f.permit(alice.address, bob.address, 5, deadline, v, r, s), bob)
    send(f.approve(bob.address, 0), alice)
    name, values = revert_of(f.permit(alice.address, bob.address, 5, deadline, v, r, s), bob)
    # The nonce moved on, so the same signature recovers some other address.
    assert name == "ERC2612InvalidSigner"
    assert values[1] == alice.address and values[0] != alice.address
    assert f.allowance(alice.address, bob.address).call() == 0


def test_permit_reverts_for_zero_spender(chain: Chain, funded: Contract, alice: LocalAccount) -> None:
    deadline = now(chain.w3) + 3600
    v, r, s = sign_permit(funded, alice, ZERO_ADDRESS, 1, 0, deadline, chain.chain_id)
    expect_revert(
        funded.functions.permit(alice.address, ZERO_ADDRESS, 1, deadline, v, r, s),
        alice,
        "ERC20InvalidSpender",
        ZERO_ADDRESS,
    )


def test_permit_at_exact_deadline_is_accepted(
    chain: Chain, funded: Contract, alice: LocalAccount, bob: LocalAccount
) -> None:
    deadline = now(chain.w3) + 100
    v, r, s = sign_permit(funded, alice, bob.address, 9, 0, deadline, chain.chain_id)
    set_next_timestamp(chain.w3, deadline)
    send(funded.functions.permit(alice.address, bob.address, 9, deadline, v, r, s), bob)
    assert funded.functions.allowance(alice.address, bob.address).call() == 9


# ------------------------------------------------------------------ invariant


def test_sum_of_balances_equals_total_supply_after_random_operations(
    points: Contract, admin: LocalAccount, dev_accounts: list[LocalAccount], catalog: LocalAccount
) -> None:
    f = points.functions
    holders = dev_accounts[1:5]
    send(f.grantRole(REDEEMER_ROLE, catalog.address), admin)
    model = {h.address: 0 for h in holders}
    rng = random.Random(20240601)
    for _ in range(60):
        op = rng.choice(["issue", "batch", "transfer", "transferFrom", "burn", "redeem"])
        a, b = rng.sample(holders, 2)
        amount = rng.randint(1, 80)
        if op == "issue":
            send(f.issue(a.address, amount, PURCHASE), admin)
            model[a.address] += amount
        elif op == "batch":
            targets = [rng.choice(holders).address for _ in range(rng.randint(1, 5))]
            amounts = [rng.randint(1, 50) for _ in targets]
            send(
                f.issueBatch([pack_issue(t, x) for t, x in zip(targets, amounts, strict=True)], REFERRAL),
                admin,
            )
            for t, x in zip(targets, amounts, strict=True):
                model[t] += x
        elif op in ("transfer", "transferFrom", "burn", "redeem"):
            have = model[a.address]
            if amount > have:
                fn = {
                    "transfer": f.transfer(b.address, amount),
                    "transferFrom": f.transferFrom(a.address, b.address, amount),
                    "burn": f.burn(amount),
                    "redeem": f.redeemBurn(a.address, amount),
                }[op]
                caller = {"transferFrom": b, "redeem": catalog}.get(op, a)
                if op == "transferFrom":
                    send(f.approve(b.address, amount), a)
                expect_revert(fn, caller, "ERC20InsufficientBalance", a.address, have, amount)
                continue
            if op == "transfer":
                send(f.transfer(b.address, amount), a)
                model[b.address] += amount
            elif op == "transferFrom":
                send(f.approve(b.address, amount), a)
                send(f.transferFrom(a.address, b.address, amount), b)
                model[b.address] += amount
            elif op == "burn":
                send(f.burn(amount), a)
            else:
                send(f.redeemBurn(a.address, amount), catalog)
            model[a.address] -= amount
    balances = {h.address: balance(points, h) for h in holders}
    assert balances == model
    assert sum(balances.values()) == f.totalSupply().call() == sum(model.values())
    assert sum(model.values()) > 0
