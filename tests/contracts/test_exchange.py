"""PartnerExchange: one agreement between two programs' points; every revert, the fee, rounding to zero,
the per-member cap at a period boundary, both sides opening, pausing and closing."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from helpers import (
    ISSUER_ROLE,
    REDEEMER_ROLE,
    ZERO_ADDRESS,
    deploy_revert_of,
    events,
    mine,
    now,
    reverts_with,
    send,
    set_next_timestamp,
)
from web3.contract import Contract

from loyalty_chain.artifacts import Artifact
from loyalty_chain.chain import Chain
from loyalty_chain.deploy import deploy_contract

PARTNER_A_ROLE = keccak(text="PARTNER_A_ROLE")
PARTNER_B_ROLE = keccak(text="PARTNER_B_ROLE")
PURCHASE = b"purchase".ljust(32, b"\0")
EXCHANGE = b"exchange".ljust(32, b"\0")
SIDE_A, SIDE_B = 0, 1
MONTH = 30 * 86_400


@pytest.fixture
def partner_b(dev_accounts: list[LocalAccount]) -> LocalAccount:
    return dev_accounts[4]


@pytest.fixture
def coalition(deploy_points: Any, partner_b: LocalAccount) -> tuple[Contract, Contract]:
    """Points A (admin: dev 0) and points B (admin: partner_b), both with locked transfers."""
    return deploy_points(name="A", symbol="A", policy=1), deploy_points(
        name="B", symbol="B", policy=1, owner=partner_b.address
    )


@pytest.fixture
def agree(
    chain: Chain, loyalty_artifacts: dict[str, Artifact], coalition: tuple[Contract, Contract],
    admin: LocalAccount, partner_b: LocalAccount, alice: LocalAccount,
) -> Any:  # fmt: skip
    """``agree(rate_from, rate_to, minimum, cap, period, fee_bps, open=True)``: an agreement, wired by both
    partners (roles granted, sides opened when ``open``), alice holding 10,000 points of A."""
    points_a, points_b = coalition

    def _agree(rate_from: int = 100, rate_to: int = 80, minimum: int = 0, cap: int = 0, period: int = 0,
               fee_bps: int = 0, open: bool = True) -> Contract:  # fmt: skip
        terms = [rate_from, rate_to, minimum, cap, period, fee_bps]
        exchange = deploy_contract(
            chain, loyalty_artifacts["PartnerExchange"], points_a.address, points_b.address, admin.address,
            partner_b.address, terms, sender=admin,
        )  # fmt: skip
        send(points_a.functions.grantRole(REDEEMER_ROLE, exchange.address), admin)
        send(points_b.functions.grantRole(ISSUER_ROLE, exchange.address), partner_b)
        if open:
            send(exchange.functions.setOpen(SIDE_A, True), admin)
            send(exchange.functions.setOpen(SIDE_B, True), partner_b)
        send(points_a.functions.issue(alice.address, 10_000, PURCHASE), admin)
        return exchange

    return _agree


def reverts(exchange: Contract, coalition: tuple[Contract, Contract], fn: Any, who: LocalAccount, name: str,
            *values: Any) -> None:  # fmt: skip
    reverts_with([*exchange.abi, *coalition[0].abi], fn, who, name, *values)


def balances(coalition: tuple[Contract, Contract], who: LocalAccount) -> tuple[int, int]:
    return tuple(int(p.functions.balanceOf(who.address).call()) for p in coalition)  # type: ignore[return-value]


def test_deploy_checks_setup_and_terms(
    chain: Chain, loyalty_artifacts: dict[str, Artifact], coalition: tuple[Contract, Contract],
    admin: LocalAccount, partner_b: LocalAccount,
) -> None:  # fmt: skip
    art = loyalty_artifacts["PartnerExchange"]
    a, b = (p.address for p in coalition)

    def error(*args: Any) -> tuple[str, tuple[Any, ...]]:
        return deploy_revert_of(chain.w3, art.abi, art.bytecode, *args)

    ok = [100, 80, 0, 0, 0, 0]
    assert error(a, a, admin.address, partner_b.address, ok)[0] == "ExchangeInvalidSetup"
    assert error(ZERO_ADDRESS, b, admin.address, partner_b.address, ok)[0] == "ExchangeInvalidSetup"
    assert error(a, b, admin.address, ZERO_ADDRESS, ok)[0] == "ExchangeInvalidSetup"
    bad = ([0, 80, 0, 0, 0, 0], [100, 0, 0, 0, 0, 0], [2**96, 1, 0, 0, 0, 0], [100, 80, 0, 0, 0, 10_000],
           [100, 80, 0, 500, 0, 0], [100, 80, 0, 2**192, MONTH, 0])  # fmt: skip
    for terms in bad:
        name, values = error(a, b, admin.address, partner_b.address, terms)
        assert (name, values) == ("ExchangeInvalidTerms", (terms[0], terms[1], terms[5], terms[3], terms[4]))


def test_a_conversion_burns_in_a_and_issues_in_b_with_one_exchanged_event(
    agree: Any, coalition: tuple[Contract, Contract], alice: LocalAccount, admin: LocalAccount,
    partner_b: LocalAccount,
) -> None:  # fmt: skip
    exchange = agree()
    assert exchange.functions.hasRole(PARTNER_A_ROLE, admin.address).call()
    assert exchange.functions.getRoleAdmin(PARTNER_B_ROLE).call() == PARTNER_B_ROLE
    assert exchange.functions.quote(1_000).call() == [800, 0]
    receipt = send(exchange.functions.convert(1_000), alice)
    assert events(exchange, receipt, "Exchanged") == [
        {"member": alice.address, "amountIn": 1_000, "amountOut": 800, "fee": 0}
    ]
    points_a, points_b = coalition
    assert events(points_b, receipt, "PointsIssued") == [
        {"issuer": exchange.address, "reason": EXCHANGE, "recipients": 1, "total": 800}
    ]
    assert events(points_a, receipt, "Transfer") == [
        {"from": alice.address, "to": ZERO_ADDRESS, "value": 1_000}
    ]
    assert balances(coalition, alice) == (9_000, 800)
    assert exchange.functions.remaining(alice.address).call() == [2**256 - 1, 0]


def test_fee_and_rounding_to_zero(
    agree: Any, coalition: tuple[Contract, Contract], alice: LocalAccount
) -> None:
    exchange = agree(rate_from=100, rate_to=80, fee_bps=250)
    receipt = send(exchange.functions.convert(1_000), alice)
    assert events(exchange, receipt, "Exchanged")[0] | {} == {
        "member": alice.address, "amountIn": 1_000, "amountOut": 780, "fee": 20
    }  # fmt: skip
    stingy = agree(rate_from=100, rate_to=1)
    reverts(stingy, coalition, stingy.functions.convert(99), alice, "ExchangeRoundsToZero", 99, 100, 1)
    send(stingy.functions.convert(100), alice)
    steep = agree(rate_from=1, rate_to=1, fee_bps=9_999)  # the fee rounds down: it never empties a conversion
    assert steep.functions.quote(1).call() == [1, 0]
    assert steep.functions.quote(2).call() == [1, 1]
    assert balances(coalition, alice) == (30_000 - 1_000 - 100, 780 + 1)


def test_minimum_and_the_per_member_cap_reset_at_the_period_boundary(
    chain: Chain, agree: Any, coalition: tuple[Contract, Contract], alice: LocalAccount
) -> None:
    exchange = agree(minimum=100, cap=500, period=MONTH)
    fns = exchange.functions
    reverts(exchange, coalition, fns.convert(99), alice, "ExchangeBelowMinimum", 99, 100)
    boundary = (now(chain.w3) // MONTH + 1) * MONTH
    send(fns.convert(300), alice)
    reverts(exchange, coalition, fns.convert(300), alice, "ExchangeCapExceeded", alice.address, 300, 300, 500)
    send(fns.convert(200), alice)
    assert fns.remaining(alice.address).call() == [0, boundary]
    mine(chain.w3, boundary - 1)  # the period's last second still counts in it
    reverts(exchange, coalition, fns.convert(100), alice, "ExchangeCapExceeded", alice.address, 100, 500, 500)
    set_next_timestamp(chain.w3, boundary)  # the next period starts afresh at its first second
    receipt = send(
        fns.convert(500), alice, gas=300_000
    )  # fixed gas: an estimate would run before the boundary
    assert chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"] == boundary
    assert fns.remaining(alice.address).call() == [0, boundary + MONTH]


def test_both_sides_open_pause_and_close(
    agree: Any, coalition: tuple[Contract, Contract], alice: LocalAccount, admin: LocalAccount,
    partner_b: LocalAccount,
) -> None:  # fmt: skip
    exchange = agree(open=False)
    fns = exchange.functions
    reverts(exchange, coalition, fns.convert(100), alice, "ExchangeNotOpen", False, False)
    reverts(exchange, coalition, fns.setOpen(SIDE_B, True), admin,
            "AccessControlUnauthorizedAccount", admin.address, PARTNER_B_ROLE)  # fmt: skip
    reverts(exchange, coalition, fns.setOpen(SIDE_A, True), alice,
            "AccessControlUnauthorizedAccount", alice.address, PARTNER_A_ROLE)  # fmt: skip
    receipt = send(fns.setOpen(SIDE_A, True), admin)
    assert events(exchange, receipt, "SideOpenUpdated") == [
        {"side": SIDE_A, "open": True, "by": admin.address}
    ]
    reverts(exchange, coalition, fns.convert(100), alice, "ExchangeNotOpen", True, False)
    send(fns.setOpen(SIDE_B, True), partner_b)
    send(fns.convert(100), alice)
    send(fns.setOpen(SIDE_B, False), partner_b)  # B pauses its side
    reverts(exchange, coalition, fns.convert(100), alice, "ExchangeNotOpen", True, False)
    send(fns.setOpen(SIDE_B, True), partner_b)
    reverts(exchange, coalition, fns.close(SIDE_A), partner_b,
            "AccessControlUnauthorizedAccount", partner_b.address, PARTNER_A_ROLE)  # fmt: skip
    receipt = send(fns.close(SIDE_B), partner_b)
    assert events(exchange, receipt, "ExchangeClosed") == [{"side": SIDE_B, "by": partner_b.address}]
    assert fns.state().call() == [False, False, True]
    reverts(exchange, coalition, fns.convert(100), alice, "ExchangeIsClosed")
    reverts(exchange, coalition, fns.setOpen(SIDE_A, True), admin, "ExchangeIsClosed")
    reverts(exchange, coalition, fns.close(SIDE_A), admin, "ExchangeIsClosed")


def test_the_tokens_own_checks_stop_a_conversion(
    agree: Any, coalition: tuple[Contract, Contract], alice: LocalAccount, bob: LocalAccount,
    admin: LocalAccount, partner_b: LocalAccount,
) -> None:  # fmt: skip
    exchange = agree()
    points_a, points_b = coalition
    fns = exchange.functions
    reverts(exchange, coalition, fns.convert(100), bob, "ERC20InsufficientBalance", bob.address, 0, 100)
    send(points_a.functions.pause(), admin)
    reverts(exchange, coalition, fns.convert(100), alice, "EnforcedPause")
    send(points_a.functions.unpause(), admin)
    send(points_b.functions.revokeRole(ISSUER_ROLE, exchange.address), partner_b)  # B withdraws its consent
    reverts(
        exchange,
        coalition,
        fns.convert(100),
        alice,
        "AccessControlUnauthorizedAccount",
        exchange.address,
        ISSUER_ROLE,
    )
    assert balances(coalition, alice) == (10_000, 0)
