"""Runs under `ape test tests/ape`: ape's own fixtures, ape-solidity's compile, ape-foundry's anvil."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def points(project: Any, accounts: Any) -> Any:
    admin = accounts[0]
    return project.LoyaltyPoints.deploy("Bean Points", "BEAN", 0, 0, 0, admin, sender=admin)


def test_issue_and_transfer_through_ape(points: Any, accounts: Any) -> None:
    admin, alice, bob = accounts[0], accounts[1], accounts[2]
    points.issue(alice, 100, b"welcome".ljust(32, b"\0"), sender=admin)
    assert points.balanceOf(alice) == 100
    points.transfer(bob, 40, sender=alice)
    assert points.balanceOf(bob) == 40
    assert points.totalSupply() == 100


def test_issuing_without_the_role_reverts(points: Any, accounts: Any) -> None:
    import ape

    with ape.reverts():
        points.issue(accounts[1], 1, b"\0" * 32, sender=accounts[1])
