"""CharityRegistry: charities per program, donations burned under every transfer policy, every revert."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from helpers import (
    DEFAULT_ADMIN_ROLE,
    REDEEMER_ROLE,
    ZERO_ADDRESS,
    deploy_revert_of,
    events,
    pack_issue,
    reverts_with,
    send,
)
from web3.contract import Contract

from loyalty_chain.artifacts import Artifact
from loyalty_chain.chain import Chain
from loyalty_chain.deploy import deploy_contract

CHARITY_MANAGER_ROLE = keccak(text="CHARITY_MANAGER_ROLE")
PURCHASE = b"purchase".ljust(32, b"\0")
FOOD_BANK = b"Food Bank".ljust(32, b"\0")
SHELTER = b"Shelter".ljust(32, b"\0")


@pytest.fixture
def registry(
    chain: Chain, loyalty_artifacts: dict[str, Artifact], points: Contract, admin: LocalAccount
) -> Contract:
    """A registry wired to ``points`` (REDEEMER_ROLE), alice holding 100 points, one charity (id 1)."""
    contract = deploy_contract(
        chain, loyalty_artifacts["CharityRegistry"], points.address, admin.address, sender=admin
    )
    send(points.functions.grantRole(REDEEMER_ROLE, contract.address), admin)
    return contract


@pytest.fixture
def funded(
    registry: Contract, points: Contract, admin: LocalAccount, alice: LocalAccount, carol: LocalAccount
) -> Contract:
    send(points.functions.issueBatch([pack_issue(alice.address, 100)], PURCHASE), admin)
    send(registry.functions.addCharity(carol.address, FOOD_BANK), admin)
    return registry


def abis(registry: Contract, points: Contract) -> list[dict[str, Any]]:
    return [*registry.abi, *points.abi]


def reverts(
    registry: Contract, points: Contract, fn: Any, who: LocalAccount, name: str, *values: Any
) -> None:
    reverts_with(abis(registry, points), fn, who, name, *values)


def test_deploy_grants_roles_and_refuses_zero_addresses(
    chain: Chain,
    loyalty_artifacts: dict[str, Artifact],
    registry: Contract,
    points: Contract,
    admin: LocalAccount,
) -> None:
    assert registry.functions.points().call() == points.address
    assert registry.functions.hasRole(DEFAULT_ADMIN_ROLE, admin.address).call()
    assert registry.functions.hasRole(CHARITY_MANAGER_ROLE, admin.address).call()
    assert registry.functions.charityCount().call() == 0
    art = loyalty_artifacts["CharityRegistry"]
    assert deploy_revert_of(chain.w3, art.abi, art.bytecode, ZERO_ADDRESS, admin.address) == (
        "GivingInvalidSetup",
        (ZERO_ADDRESS, admin.address),
    )
    assert deploy_revert_of(chain.w3, art.abi, art.bytecode, points.address, ZERO_ADDRESS) == (
        "GivingInvalidSetup",
        (points.address, ZERO_ADDRESS),
    )


def test_add_update_and_close_a_charity(
    registry: Contract, points: Contract, admin: LocalAccount, bob: LocalAccount, carol: LocalAccount
) -> None:
    receipt = send(registry.functions.addCharity(carol.address, FOOD_BANK), admin)
    assert events(registry, receipt, "CharityAdded") == [
        {"charityId": 1, "wallet": carol.address, "name": FOOD_BANK}
    ]
    assert registry.functions.charity(1).call() == [carol.address, FOOD_BANK, True, 0]
    receipt = send(registry.functions.updateCharity(1, bob.address, SHELTER), admin)
    assert events(registry, receipt, "CharityUpdated") == [
        {"charityId": 1, "wallet": bob.address, "name": SHELTER, "active": True}
    ]
    receipt = send(registry.functions.setCharityActive(1, False), admin)
    assert events(registry, receipt, "CharityUpdated")[0]["active"] is False
    assert registry.functions.charity(1).call() == [bob.address, SHELTER, False, 0]
    send(registry.functions.addCharity(carol.address, FOOD_BANK), admin)
    assert registry.functions.charityCount().call() == 2


def test_charity_management_reverts(
    registry: Contract, points: Contract, admin: LocalAccount, alice: LocalAccount, carol: LocalAccount
) -> None:
    fns = registry.functions
    reverts(registry, points, fns.addCharity(carol.address, FOOD_BANK), alice,
            "AccessControlUnauthorizedAccount", alice.address, CHARITY_MANAGER_ROLE)  # fmt: skip
    reverts(
        registry,
        points,
        fns.addCharity(ZERO_ADDRESS, FOOD_BANK),
        admin,
        "GivingInvalidCharity",
        ZERO_ADDRESS,
        FOOD_BANK,
    )
    reverts(
        registry,
        points,
        fns.addCharity(carol.address, b"\0" * 32),
        admin,
        "GivingInvalidCharity",
        carol.address,
        b"\0" * 32,
    )
    reverts(
        registry, points, fns.updateCharity(1, carol.address, FOOD_BANK), admin, "GivingUnknownCharity", 1
    )
    reverts(registry, points, fns.setCharityActive(0, True), admin, "GivingUnknownCharity", 0)
    reverts(registry, points, fns.charity(1), admin, "GivingUnknownCharity", 1)
    send(fns.addCharity(carol.address, FOOD_BANK), admin)
    reverts(
        registry,
        points,
        fns.updateCharity(1, ZERO_ADDRESS, FOOD_BANK),
        admin,
        "GivingInvalidCharity",
        ZERO_ADDRESS,
        FOOD_BANK,
    )
    reverts(registry, points, fns.updateCharity(1, carol.address, FOOD_BANK), alice,
            "AccessControlUnauthorizedAccount", alice.address, CHARITY_MANAGER_ROLE)  # fmt: skip
    reverts(registry, points, fns.setCharityActive(1, False), alice,
            "AccessControlUnauthorizedAccount", alice.address, CHARITY_MANAGER_ROLE)  # fmt: skip


@pytest.mark.parametrize("policy", [0, 1, 2], ids=["open", "locked", "allowlist"])
def test_donation_burns_and_totals_under_every_transfer_policy(
    funded: Contract,
    points: Contract,
    admin: LocalAccount,
    alice: LocalAccount,
    bob: LocalAccount,
    policy: int,
) -> None:
    send(points.functions.setTransferPolicy(policy), admin)
    send(points.functions.issue(bob.address, 10, PURCHASE), admin)
    receipt = send(funded.functions.donate(1, 30), alice)
    assert events(funded, receipt, "Donated") == [
        {"member": alice.address, "charityId": 1, "amount": 30, "charityTotal": 30}
    ]
    assert events(points, receipt, "Transfer") == [{"from": alice.address, "to": ZERO_ADDRESS, "value": 30}]
    receipt = send(funded.functions.donate(1, 10), bob)
    assert events(funded, receipt, "Donated")[0]["charityTotal"] == 40
    assert points.functions.balanceOf(alice.address).call() == 70
    assert points.functions.balanceOf(bob.address).call() == 0
    assert points.functions.totalSupply().call() == 70
    assert funded.functions.charity(1).call()[3] == 40


def test_donation_reverts(
    funded: Contract, points: Contract, admin: LocalAccount, alice: LocalAccount, carol: LocalAccount
) -> None:
    fns = funded.functions
    reverts(funded, points, fns.donate(0, 1), alice, "GivingUnknownCharity", 0)
    reverts(funded, points, fns.donate(2, 1), alice, "GivingUnknownCharity", 2)
    reverts(funded, points, fns.donate(1, 0), alice, "PointsZeroAmount", alice.address)
    reverts(funded, points, fns.donate(1, 101), alice, "ERC20InsufficientBalance", alice.address, 100, 101)
    reverts(funded, points, fns.donate(1, 2**256 - 1), alice, "GivingTotalTooLarge", 1, 2**256 - 1)
    send(fns.setCharityActive(1, False), admin)
    reverts(funded, points, fns.donate(1, 1), alice, "GivingCharityInactive", 1)
    send(fns.setCharityActive(1, True), admin)
    send(points.functions.pause(), admin)
    reverts(funded, points, fns.donate(1, 1), alice, "EnforcedPause")
    send(points.functions.unpause(), admin)
    send(points.functions.revokeRole(REDEEMER_ROLE, funded.address), admin)
    reverts(
        funded,
        points,
        fns.donate(1, 1),
        alice,
        "AccessControlUnauthorizedAccount",
        funded.address,
        REDEEMER_ROLE,
    )
    assert points.functions.balanceOf(alice.address).call() == 100
    assert fns.charity(1).call()[3] == 0
