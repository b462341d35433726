"""ExpiringPoints (ERC-7818): epochs, expiry at the exact boundary, oldest-first spending everywhere, totals,
and every revert.

Epochs here are EPOCH seconds long and counted from unix time 0; each test first moves the devnet's
clock to the start of an epoch (``at``), so every expiry lands on a known block timestamp.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from helpers import (
    REDEEMER_ROLE,
    ZERO_ADDRESS,
    deploy_revert_of,
    error_with,
    mine,
    now,
    pack_issue,
    reverts_with,
    send,
    set_next_timestamp,
    sign_permit,
)
from web3.contract import Contract

from loyalty_chain.artifacts import Artifact
from loyalty_chain.chain import Chain
from loyalty_chain.deploy import deploy_contract

EPOCH = 1_000
VALIDITY = 3
TIME_BASED, BLOCKS_BASED = 1, 0
PURCHASE = b"purchase".ljust(32, b"\0")
ISSUER_ROLE = keccak(text="ISSUER_ROLE")
LANE_BITS_AT_7 = 224 // 7


@pytest.fixture
def deploy_expiring(chain: Chain, loyalty_artifacts: dict[str, Artifact], admin: LocalAccount) -> Any:
    def _deploy(
        validity: int = VALIDITY,
        length: int = EPOCH,
        epoch_type: int = TIME_BASED,
        decimals: int = 0,
        cap: int = 0,
        policy: int = 0,
        name: str = "Miles",
    ) -> Contract:
        return deploy_contract(
            chain,
            loyalty_artifacts["ExpiringPoints"],
            name,
            "MI",
            decimals,
            cap,
            policy,
            epoch_type,
            length,
            validity,
            admin.address,
            sender=admin,
        )

    return _deploy


@pytest.fixture
def epoch0(chain: Chain) -> int:
    """An epoch two epochs ahead of the devnet's clock; the next block starts it (its first second)."""
    e = now(chain.w3) // EPOCH + 2
    set_next_timestamp(chain.w3, e * EPOCH)
    return e


@pytest.fixture
def miles(deploy_expiring: Any, epoch0: int) -> Contract:
    """Validity 3 epochs, time-based, deployed in the first block of ``epoch0``."""
    return deploy_expiring()  # type: ignore[no-any-return]


def at(chain: Chain, timestamp: int) -> None:
    """The next transaction's block has ``timestamp`` (its gas estimate still runs on the latest block's
    clock: for a transaction that the new clock lets through, use ``view_at`` first)."""
    set_next_timestamp(chain.w3, timestamp)


def view_at(chain: Chain, timestamp: int) -> None:
    """Mine an empty block at ``timestamp``: views (on the latest block) then see that clock."""
    mine(chain.w3, timestamp)


def reverts(token: Contract, fn: Any, who: LocalAccount, name: str, *values: Any) -> None:
    reverts_with(token.abi, fn, who, name, *values)


def lanes(token: Contract, who: str, first: int, count: int) -> list[int]:
    return [int(token.functions.balanceOfAtEpoch(first + i, who).call()) for i in range(count)]


def issue(token: Contract, admin: LocalAccount, to: str, amount: int) -> None:
    send(token.functions.issue(to, amount, PURCHASE), admin)


# ------------------------------------------------------------------ deploy and views


def test_deploy_refuses_what_does_not_fit_and_names_it(
    chain: Chain, loyalty_artifacts: dict[str, Artifact], deploy_expiring: Any, admin: LocalAccount
) -> None:
    art = loyalty_artifacts["ExpiringPoints"]

    def error(
        decimals: int, policy: int, etype: int, length: int, validity: int, owner: str = admin.address
    ) -> Any:
        args = ("M", "M", decimals, 0, policy, etype, length, validity, owner)
        return deploy_revert_of(chain.w3, art.abi, art.bytecode, *args)

    assert error(0, 0, 1, EPOCH, 0) == ("ExpiryValidityUnsupported", (0, 7))
    assert error(0, 0, 1, EPOCH, 8) == ("ExpiryValidityUnsupported", (8, 7))
    assert error(18, 0, 1, EPOCH, 3) == ("ExpiryValidityUnsupported", (3, 2))
    assert error(0, 0, 1, 0, 3) == ("ExpiryInvalidEpoch", (1, 0))
    assert error(0, 0, 2, EPOCH, 3) == ("ExpiryInvalidEpoch", (2, EPOCH))
    assert error(0, 3, 1, EPOCH, 3) == ("PointsInvalidTransferPolicy", (3,))
    assert error(0, 0, 1, EPOCH, 3, ZERO_ADDRESS) == ("PointsInvalidAdmin", (ZERO_ADDRESS,))
    token = deploy_expiring(validity=7)
    assert [token.functions.maxValidityFor(d).call() for d in (0, 2, 6, 18, 58, 59)] == [7, 6, 4, 2, 1, 0]


def test_erc7818_views(miles: Contract, deploy_expiring: Any, chain: Chain, epoch0: int) -> None:
    assert miles.functions.epochType().call() == TIME_BASED
    assert miles.functions.epochLength().call() == EPOCH
    assert miles.functions.validityDuration().call() == VALIDITY
    assert miles.functions.currentEpoch().call() == epoch0
    assert miles.functions.supportsInterface(_interface_id(miles)).call()
    assert not miles.functions.isEpochExpired(epoch0 - VALIDITY + 1).call()
    assert miles.functions.isEpochExpired(epoch0 - VALIDITY).call()
    blocks = deploy_expiring(epoch_type=BLOCKS_BASED, length=10)
    assert blocks.functions.epochType().call() == BLOCKS_BASED
    assert blocks.functions.currentEpoch().call() == chain.w3.eth.block_number // 10


def _interface_id(token: Contract) -> bytes:
    names = [
        "balanceOfAtEpoch(uint256,address)",
        "currentEpoch()",
        "epochLength()",
        "epochType()",
        "validityDuration()",
        "isEpochExpired(uint256)",
        "transferAtEpoch(uint256,address,uint256)",
        "transferFromAtEpoch(uint256,address,address,uint256)",
    ]
    value = 0
    for n in names:
        value ^= int.from_bytes(keccak(text=n)[:4], "big")
    return value.to_bytes(4, "big")


# ------------------------------------------------------------------ expiry


def test_points_expire_exactly_when_the_epoch_after_their_validity_begins(
    miles: Contract, chain: Chain, epoch0: int, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount
) -> None:
    issue(miles, admin, alice.address, 100)  # epoch0, usable in epoch0 .. epoch0 + 2
    boundary = (epoch0 + VALIDITY) * EPOCH
    assert miles.functions.getNearestExpiryOf(alice.address).call() == [100, boundary]
    at(chain, boundary - 1)  # the last second of the validity: still usable
    send(miles.functions.transfer(bob.address, 10), alice)
    assert miles.functions.balanceOf(alice.address).call() == 90
    assert not miles.functions.isEpochExpired(epoch0).call()
    view_at(chain, boundary)  # the first second of epoch0 + 3
    assert miles.functions.isEpochExpired(epoch0).call()
    assert miles.functions.balanceOf(alice.address).call() == 0
    assert miles.functions.balanceOfAtEpoch(epoch0, alice.address).call() == 0
    assert miles.functions.totalSupply().call() == 0
    assert miles.functions.epochSupply(epoch0).call() == 100  # expired unused: breakage
    assert miles.functions.getNearestExpiryOf(alice.address).call() == [0, 0]
    reverts(
        miles,
        miles.functions.transfer(bob.address, 1),
        alice,
        "ERC20InsufficientBalance",
        alice.address,
        0,
        1,
    )


def test_spending_is_oldest_first_and_moved_points_keep_their_epoch(
    miles: Contract, chain: Chain, epoch0: int, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount
) -> None:
    for k, amount in enumerate((100, 50, 30)):
        at(chain, (epoch0 + k) * EPOCH + 5)
        issue(miles, admin, alice.address, amount)
    assert lanes(miles, alice.address, epoch0, 3) == [100, 50, 30]
    send(miles.functions.transfer(bob.address, 120), alice)
    assert lanes(miles, alice.address, epoch0, 3) == [0, 30, 30]
    assert lanes(miles, bob.address, epoch0, 3) == [100, 20, 0]
    assert miles.functions.getNearestExpiryOf(bob.address).call() == [100, (epoch0 + 3) * EPOCH]
    view_at(chain, (epoch0 + 3) * EPOCH)  # epoch0 expires for everyone: bob's 100 go
    assert miles.functions.balanceOf(bob.address).call() == 20
    assert miles.functions.balanceOf(alice.address).call() == 60
    assert miles.functions.totalSupply().call() == 80
    send(miles.functions.burn(40), alice)  # 30 of epoch0 + 1, then 10 of epoch0 + 2
    assert lanes(miles, alice.address, epoch0 + 1, 3) == [0, 20, 0]
    assert [miles.functions.epochSupply(epoch0 + k).call() for k in range(3)] == [100, 20, 20]
    assert miles.functions.totalSupply().call() == 40  # 20 (bob, epoch0 + 1) + 20 (alice, epoch0 + 2)


def test_a_slot_left_for_longer_than_the_validity_drops_every_lane(
    miles: Contract, chain: Chain, epoch0: int, admin: LocalAccount, alice: LocalAccount
) -> None:
    issue(miles, admin, alice.address, 100)
    at(chain, (epoch0 + 10) * EPOCH)
    issue(miles, admin, alice.address, 7)
    assert miles.functions.balanceOf(alice.address).call() == 7
    assert lanes(miles, alice.address, epoch0 + 8, 3) == [0, 0, 7]


def test_transfer_at_epoch_moves_only_that_epoch_and_refuses_an_expired_one(
    miles: Contract,
    chain: Chain,
    epoch0: int,
    admin: LocalAccount,
    alice: LocalAccount,
    bob: LocalAccount,
    carol: LocalAccount,
) -> None:
    issue(miles, admin, alice.address, 100)
    at(chain, (epoch0 + 1) * EPOCH)
    issue(miles, admin, alice.address, 50)
    send(miles.functions.transferAtEpoch(epoch0 + 1, bob.address, 20), alice)
    assert lanes(miles, alice.address, epoch0, 2) == [100, 30]
    assert lanes(miles, bob.address, epoch0, 2) == [0, 20]
    fn = miles.functions.transferAtEpoch(epoch0 + 1, bob.address, 31)
    reverts(miles, fn, alice, "ERC20InsufficientBalance", alice.address, 30, 31)
    fn = miles.functions.transferAtEpoch(epoch0 + 2, bob.address, 1)  # a future epoch holds nothing
    reverts(miles, fn, alice, "ERC20InsufficientBalance", alice.address, 0, 1)
    send(miles.functions.approve(carol.address, 25), alice)
    send(miles.functions.transferFromAtEpoch(epoch0, alice.address, carol.address, 25), carol)
    assert lanes(miles, carol.address, epoch0, 2) == [25, 0]
    fn = miles.functions.transferFromAtEpoch(epoch0, alice.address, carol.address, 1)
    reverts(miles, fn, carol, "ERC20InsufficientAllowance", carol.address, 0, 1)
    view_at(chain, (epoch0 + VALIDITY) * EPOCH)
    fn = miles.functions.transferAtEpoch(epoch0, bob.address, 1)
    reverts(miles, fn, alice, "ERC7818TransferredExpiredToken", alice.address, epoch0)
    send(miles.functions.approve(carol.address, 5), alice)
    fn = miles.functions.transferFromAtEpoch(epoch0, alice.address, carol.address, 1)
    reverts(miles, fn, carol, "ERC7818TransferredExpiredToken", alice.address, epoch0)
    send(miles.functions.transferAtEpoch(epoch0 + 1, alice.address, 30), alice)  # to oneself: nothing moves
    assert lanes(miles, alice.address, epoch0 + 1, 1) == [30]


def test_total_supply_is_the_sum_of_usable_balances(
    miles: Contract, chain: Chain, epoch0: int, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount
) -> None:
    words = [pack_issue(alice.address, 60), pack_issue(bob.address, 40), pack_issue(alice.address, 5)]
    send(miles.functions.issueBatch(words, PURCHASE), admin)
    at(chain, (epoch0 + 2) * EPOCH)
    issue(miles, admin, bob.address, 10)
    holders = (alice.address, bob.address)

    def total_and_sum() -> tuple[int, int]:
        return miles.functions.totalSupply().call(), sum(miles.functions.balanceOf(h).call() for h in holders)

    assert total_and_sum() == (115, 115)
    send(miles.functions.transfer(alice.address, 45), bob)
    assert total_and_sum() == (115, 115)
    view_at(chain, (epoch0 + 3) * EPOCH)
    assert total_and_sum() == (10, 10)
    assert miles.functions.epochSupply(epoch0).call() == 105


# ------------------------------------------------------------------ reverts


def test_issue_reverts(
    deploy_expiring: Any, miles: Contract, admin: LocalAccount, alice: LocalAccount, chain: Chain, epoch0: int
) -> None:
    reverts(
        miles,
        miles.functions.issue(alice.address, 1, PURCHASE),
        alice,
        "AccessControlUnauthorizedAccount",
        alice.address,
        ISSUER_ROLE,
    )
    reverts(
        miles, miles.functions.issue(ZERO_ADDRESS, 1, PURCHASE), admin, "ERC20InvalidReceiver", ZERO_ADDRESS
    )
    reverts(
        miles, miles.functions.issue(alice.address, 0, PURCHASE), admin, "PointsZeroAmount", alice.address
    )
    reverts(miles, miles.functions.issueBatch([], PURCHASE), admin, "PointsEmptyBatch")
    fn = miles.functions.issueBatch([pack_issue(alice.address, 1), pack_issue(alice.address, 0)], PURCHASE)
    reverts(miles, fn, admin, "PointsInvalidBatchEntry", 1, alice.address, 0)
    send(miles.functions.pause(), admin)
    reverts(miles, miles.functions.issue(alice.address, 1, PURCHASE), admin, "EnforcedPause")
    seven = deploy_expiring(validity=7)
    mask = 2**LANE_BITS_AT_7 - 1
    issue(seven, admin, alice.address, mask - 1)
    current = seven.functions.currentEpoch().call()
    reverts(
        seven,
        seven.functions.issue(alice.address, 2, PURCHASE),
        admin,
        "ExpiryEpochBalanceOverflow",
        alice.address,
        current,
        mask - 1,
        2,
        mask,
    )


def test_the_cap_bounds_the_usable_supply_and_expiry_frees_it(
    deploy_expiring: Any, chain: Chain, epoch0: int, admin: LocalAccount, alice: LocalAccount
) -> None:
    capped = deploy_expiring(cap=100)
    issue(capped, admin, alice.address, 80)
    fn = capped.functions.issueBatch([pack_issue(alice.address, 21)], PURCHASE)
    reverts(capped, fn, admin, "PointsCapExceeded", 101, 100)
    view_at(chain, (epoch0 + VALIDITY) * EPOCH)
    issue(capped, admin, alice.address, 100)  # the 80 have expired
    assert capped.functions.totalSupply().call() == 100


def test_transfer_and_burn_reverts(
    deploy_expiring: Any,
    miles: Contract,
    admin: LocalAccount,
    alice: LocalAccount,
    bob: LocalAccount,
    carol: LocalAccount,
) -> None:
    issue(miles, admin, alice.address, 10)
    reverts(miles, miles.functions.transfer(ZERO_ADDRESS, 1), alice, "ERC20InvalidReceiver", ZERO_ADDRESS)
    reverts(
        miles,
        miles.functions.transfer(bob.address, 11),
        alice,
        "ERC20InsufficientBalance",
        alice.address,
        10,
        11,
    )
    fn = miles.functions.transferFrom(ZERO_ADDRESS, bob.address, 0)
    reverts(miles, fn, carol, "ERC20InvalidSender", ZERO_ADDRESS)
    reverts(miles, miles.functions.burn(0), alice, "PointsZeroAmount", alice.address)
    reverts(miles, miles.functions.burn(11), alice, "ERC20InsufficientBalance", alice.address, 10, 11)
    reverts(
        miles,
        miles.functions.redeemBurn(alice.address, 1),
        bob,
        "AccessControlUnauthorizedAccount",
        bob.address,
        REDEEMER_ROLE,
    )
    reverts(miles, miles.functions.approve(ZERO_ADDRESS, 1), alice, "ERC20InvalidSpender", ZERO_ADDRESS)
    send(miles.functions.setTransferPolicy(1), admin)
    reverts(
        miles,
        miles.functions.transfer(bob.address, 1),
        alice,
        "PointsTransfersLocked",
        alice.address,
        bob.address,
    )
    send(miles.functions.setTransferPolicy(2), admin)
    reverts(miles, miles.functions.transfer(bob.address, 1), alice, "PointsRecipientNotAllowed", bob.address)
    send(miles.functions.setRecipientAllowed(bob.address, True), admin)
    send(miles.functions.transfer(bob.address, 1), alice)
    reverts(miles, miles.functions.setTransferPolicy(3), admin, "PointsInvalidTransferPolicy", 3)
    send(miles.functions.pause(), admin)
    reverts(miles, miles.functions.transfer(bob.address, 1), alice, "EnforcedPause")
    reverts(miles, miles.functions.burn(1), alice, "EnforcedPause")


def test_a_transfer_that_would_overflow_the_recipients_lane_reverts(
    deploy_expiring: Any, admin: LocalAccount, alice: LocalAccount, bob: LocalAccount
) -> None:
    seven = deploy_expiring(validity=7)
    mask = 2**LANE_BITS_AT_7 - 1
    send(
        seven.functions.issueBatch([pack_issue(alice.address, mask), pack_issue(bob.address, 1)], PURCHASE),
        admin,
    )
    current = seven.functions.currentEpoch().call()
    reverts(
        seven,
        seven.functions.transfer(bob.address, mask),
        alice,
        "ExpiryEpochBalanceOverflow",
        bob.address,
        current,
        1,
        mask,
        mask,
    )


def test_permit_on_the_expiring_token(
    miles: Contract, chain: Chain, alice: LocalAccount, bob: LocalAccount
) -> None:
    deadline = now(chain.w3) + 3_600
    v, r, s = sign_permit(miles, alice, bob.address, 5, 0, deadline, chain.chain_id)
    send(miles.functions.permit(alice.address, bob.address, 5, deadline, v, r, s), bob)
    assert miles.functions.allowance(alice.address, bob.address).call() == 5
    fn = miles.functions.permit(alice.address, bob.address, 5, deadline, v, r, s)  # nonce used up
    assert reverts_with_name(miles, fn, bob) == "ERC2612InvalidSigner"
    fn = miles.functions.permit(alice.address, bob.address, 5, 1, v, r, s)
    reverts(miles, fn, bob, "ERC2612ExpiredSignature", 1)


def reverts_with_name(token: Contract, fn: Any, who: LocalAccount) -> str:
    return error_with(token.abi, fn, who)[0]


# ------------------------------------------------------------------ the program's contracts, oldest first


@pytest.fixture
def two_epochs(miles: Contract, chain: Chain, epoch0: int, admin: LocalAccount, alice: LocalAccount) -> int:
    """Alice holds 100 points of epoch0 and 100 of epoch0 + 1; the clock is in epoch0 + 1."""
    issue(miles, admin, alice.address, 100)
    at(chain, (epoch0 + 1) * EPOCH)
    issue(miles, admin, alice.address, 100)
    return epoch0


def test_redeem_spends_oldest_first(
    chain: Chain,
    loyalty_artifacts: dict[str, Artifact],
    miles: Contract,
    deploy_card: Any,
    two_epochs: int,
    admin: LocalAccount,
    alice: LocalAccount,
) -> None:
    card = deploy_card()
    catalog = deploy_contract(
        chain, loyalty_artifacts["PerkCatalog"], miles.address, card.address, admin.address, sender=admin
    )
    send(miles.functions.setRedemptionCatalog(catalog.address), admin)
    send(card.functions.enroll(alice.address, 0, 0), admin)
    send(catalog.functions.addPerk(b"coffee".ljust(32, b"\0"), 150, 0, 10, 0, 0, 0, True), admin)
    send(catalog.functions.redeem(1, 1, 150), alice)
    assert lanes(miles, alice.address, two_epochs, 2) == [0, 50]
    assert miles.functions.epochSupply(two_epochs).call() == 0


def test_donation_spends_oldest_first(
    chain: Chain,
    loyalty_artifacts: dict[str, Artifact],
    miles: Contract,
    two_epochs: int,
    admin: LocalAccount,
    alice: LocalAccount,
    carol: LocalAccount,
) -> None:
    registry = deploy_contract(
        chain, loyalty_artifacts["CharityRegistry"], miles.address, admin.address, sender=admin
    )
    send(miles.functions.grantRole(REDEEMER_ROLE, registry.address), admin)
    send(registry.functions.addCharity(carol.address, b"Food Bank".ljust(32, b"\0")), admin)
    send(registry.functions.donate(1, 120), alice)
    assert lanes(miles, alice.address, two_epochs, 2) == [0, 80]


def test_partner_conversion_spends_oldest_first(
    chain: Chain,
    loyalty_artifacts: dict[str, Artifact],
    miles: Contract,
    deploy_expiring: Any,
    two_epochs: int,
    admin: LocalAccount,
    alice: LocalAccount,
) -> None:
    other = deploy_expiring(name="Other")
    exchange = deploy_contract(
        chain,
        loyalty_artifacts["PartnerExchange"],
        miles.address,
        other.address,
        admin.address,
        admin.address,
        [100, 80, 0, 0, 0, 0],
        sender=admin,
    )
    send(miles.functions.grantRole(REDEEMER_ROLE, exchange.address), admin)
    send(other.functions.grantRole(ISSUER_ROLE, exchange.address), admin)
    send(exchange.functions.setOpen(0, True), admin)
    send(exchange.functions.setOpen(1, True), admin)
    send(exchange.functions.convert(150), alice)
    assert lanes(miles, alice.address, two_epochs, 2) == [0, 50]
    assert lanes(other, alice.address, two_epochs + 1, 1) == [120]  # issued in B's current epoch


def test_admin_reverts(miles: Contract, alice: LocalAccount, admin: LocalAccount) -> None:
    admin_role = b"\0" * 32
    pauser = keccak(text="PAUSER_ROLE")
    for fn, role in (
        (miles.functions.setTransferPolicy(1), admin_role),
        (miles.functions.setRecipientAllowed(alice.address, True), admin_role),
        (miles.functions.setRedemptionCatalog(alice.address), admin_role),
        (miles.functions.pause(), pauser),
        (miles.functions.unpause(), pauser),
    ):
        reverts(miles, fn, alice, "AccessControlUnauthorizedAccount", alice.address, role)
    reverts(
        miles,
        miles.functions.setRecipientAllowed(ZERO_ADDRESS, True),
        admin,
        "ERC20InvalidReceiver",
        ZERO_ADDRESS,
    )
    reverts(miles, miles.functions.unpause(), admin, "ExpectedPause")


def test_a_clock_past_the_last_epoch_a_slot_can_name_is_refused(
    fresh_anvil: Chain, loyalty_artifacts: dict[str, Artifact]
) -> None:
    """1-second epochs name 2**32 - 1 as the last base epoch (the year 2106): past it every call refuses
    rather than truncating the base. On an anvil of its own: its clock cannot be set back."""
    admin = fresh_anvil.dev_account(0)
    token = deploy_contract(
        fresh_anvil, loyalty_artifacts["ExpiringPoints"], "M", "M", 0, 0, 0, TIME_BASED, 1, 1, admin.address,
        sender=admin,
    )  # fmt: skip
    mine(fresh_anvil.w3, 2**32 + 10)
    reverts(
        token, token.functions.issue(admin.address, 1, PURCHASE), admin, "ExpiryClockOverflow", 2**32 + 10
    )
