"""PerkCatalog: perk management, redemption checks, gasless EIP-712 redemption, burn accounting.

Runs on the session anvil (``chain``: evm_snapshot before, evm_revert after each test) with the
``points`` (decimals 0, open transfers) and ``card`` (Bronze, Silver, Gold) fixtures; dev account 0
is the admin of all three. ``shop`` bundles the contracts and the few actions every test needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi import encode
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from helpers import (
    DEFAULT_ADMIN_ROLE,
    REDEEMER_ROLE,
    REDEMPTION_TYPES,
    ZERO_ADDRESS,
    Harness,
    decode_error,
    events,
    mine,
    new_card,
    new_points,
    now,
    send,
)
from support.compiled import compile_shared
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from loyalty_chain.artifacts import Artifact
from loyalty_chain.chain import Chain
from loyalty_chain.deploy import deploy_contract

PERK_MANAGER_ROLE = keccak(text="PERK_MANAGER_ROLE")
UNLIMITED = 2**32 - 1
BRONZE, SILVER, GOLD = 0, 1, 2
SOLD = 8  # position of the sold count in perk()'s return values
ANY_COST = 2**256 - 1  # a maxCost that accepts any price
REDEMPTION_TYPE = (
    "Redemption(address member,address relayer,uint256 perkId,uint256 quantity,uint256 maxCost,"
    "uint256 nonce,uint256 deadline)"
)


def title(text: str) -> bytes:
    return text.encode().ljust(32, b"\x00")


@dataclass(frozen=True)
class Shop(Harness):
    """One test's catalog, points and card, and the actions tests repeat."""

    chain: Chain
    catalog: Contract
    points: Contract
    card: Contract
    admin: LocalAccount

    @property
    def w3(self) -> Web3:
        return self.chain.w3

    @property
    def abis(self) -> list[dict[str, Any]]:
        """Every ABI an error of this harness can bubble up from."""
        return self.catalog.abi + self.points.abi + self.card.abi  # type: ignore[no-any-return]

    def add_perk(self, **overrides: Any) -> int:
        """Add a perk (defaults: 100 points, Bronze, stock 10, no wallet limit, always open, active)."""
        config: dict[str, Any] = {
            "title": title("Free coffee"),
            "price": 100,
            "min_tier": BRONZE,
            "stock": 10,
            "wallet_limit": 0,
            "start": 0,
            "end": 0,
            "active": True,
        }
        config.update(overrides)
        receipt = send(self.catalog.functions.addPerk(*config.values()), self.admin)
        (event,) = events(self.catalog, receipt, "PerkAdded")
        return int(event["perkId"])

    def enroll(self, member: LocalAccount | str, tier: int, valid_until: int = 0) -> None:
        address = member if isinstance(member, str) else member.address
        send(self.card.functions.enroll(address, tier, valid_until), self.admin)

    def fund(self, member: LocalAccount | str, amount: int) -> None:
        address = member if isinstance(member, str) else member.address
        send(self.points.functions.issue(address, amount, title("test")), self.admin)

    def balance(self, member: LocalAccount | str) -> int:
        address = member if isinstance(member, str) else member.address
        return int(self.points.functions.balanceOf(address).call())

    def sold(self, perk_id: int) -> int:
        return int(self.catalog.functions.perk(perk_id).call()[SOLD])

    def redeemed(self, receipt: TxReceipt) -> dict[str, Any]:
        (event,) = events(self.catalog, receipt, "PerkRedeemed")
        return event

    def sign(
        self,
        signer: LocalAccount,
        member: str,
        perk_id: int,
        quantity: int,
        nonce: int,
        deadline: int,
        *,
        chain_id: int | None = None,
        verifying_contract: str | None = None,
        name: str = "LoyaltyPerkCatalog",
        relayer: str = ZERO_ADDRESS,
        max_cost: int = ANY_COST,
    ) -> bytes:
        """``signer``'s EIP-712 signature of a Redemption, by default for this chain and catalog."""
        domain = {
            "name": name,
            "version": "1",
            "chainId": self.chain.chain_id if chain_id is None else chain_id,
            "verifyingContract": verifying_contract or self.catalog.address,
        }
        request = {
            "member": member,
            "relayer": relayer,
            "perkId": perk_id,
            "quantity": quantity,
            "maxCost": max_cost,
            "nonce": nonce,
            "deadline": deadline,
        }
        message = encode_typed_data(
            full_message={
                "types": REDEMPTION_TYPES,
                "primaryType": "Redemption",
                "domain": domain,
                "message": request,
            }
        )
        return bytes(signer.sign_message(message).signature)

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
def shop_contracts(
    devnet: Chain, loyalty_artifacts: dict[str, Artifact]
) -> tuple[Contract, Contract, Contract]:
    """A points token, a card and a catalog wired as ``deploy_program`` wires them (REDEEMER_ROLE on
    the token, and the token's redemption catalog, whose ``redeemBurn`` calls skip the role
    lookup), deployed once per worker like ``pristine``; each test's snapshot puts them back."""
    admin = devnet.dev_accounts[0]
    points = new_points(devnet, loyalty_artifacts, admin)
    card = new_card(devnet, loyalty_artifacts, admin)
    catalog = deploy_contract(
        devnet, loyalty_artifacts["PerkCatalog"], points.address, card.address, admin.address, sender=admin
    )
    send(points.functions.grantRole(REDEEMER_ROLE, catalog.address), admin)
    send(points.functions.setRedemptionCatalog(catalog.address), admin)
    return points, card, catalog


@pytest.fixture
def shop(chain: Chain, shop_contracts: tuple[Contract, Contract, Contract], admin: LocalAccount) -> Shop:
    points, card, catalog = shop_contracts
    return Shop(chain=chain, catalog=catalog, points=points, card=card, admin=admin)


@pytest.fixture
def member(shop: Shop, alice: LocalAccount) -> LocalAccount:
    """Alice: a Silver member holding 10,000 points."""
    shop.enroll(alice, SILVER)
    shop.fund(alice, 10_000)
    return alice


@pytest.fixture
def relayer(dev_accounts: list[LocalAccount]) -> LocalAccount:
    return dev_accounts[5]


@pytest.fixture
def outsider(dev_accounts: list[LocalAccount]) -> LocalAccount:
    return dev_accounts[9]


# --- deployment ------------------------------------------------------------------------------------


def test_constructor_grants_admin_roles_and_wires_contracts(shop: Shop, admin: LocalAccount) -> None:
    c = shop.catalog.functions
    assert c.hasRole(DEFAULT_ADMIN_ROLE, admin.address).call()
    assert c.hasRole(PERK_MANAGER_ROLE, admin.address).call()
    assert c.PERK_MANAGER_ROLE().call() == PERK_MANAGER_ROLE
    assert (c.points().call(), c.card().call()) == (shop.points.address, shop.card.address)
    assert (c.perkCount().call(), c.redemptionCount().call()) == (0, 0)
    assert c.UNLIMITED_STOCK().call() == UNLIMITED
    domain = c.eip712Domain().call()
    assert list(domain[1:5]) == ["LoyaltyPerkCatalog", "1", shop.chain.chain_id, shop.catalog.address]
    assert c.REDEMPTION_TYPEHASH().call() == keccak(text=REDEMPTION_TYPE)
    domain_type = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    separator = encode(
        ["bytes32", "bytes32", "bytes32", "uint256", "address"],
        [
            domain_type,
            keccak(text="LoyaltyPerkCatalog"),
            keccak(text="1"),
            shop.chain.chain_id,
            shop.catalog.address,
        ],
    )
    assert c.DOMAIN_SEPARATOR().call() == keccak(separator)


# --- perk management -------------------------------------------------------------------------------


def test_add_perk_assigns_sequential_ids_and_stores_config(shop: Shop, admin: LocalAccount) -> None:
    fn = shop.catalog.functions.addPerk(
        title("Lounge pass"), 2_500, GOLD, UNLIMITED, 2, 1_000, 2_000_000_000, False
    )
    assert fn.call({"from": admin.address}) == 1
    (event,) = events(shop.catalog, send(fn, admin), "PerkAdded")
    assert event == {
        "perkId": 1,
        "title": title("Lounge pass"),
        "price": 2_500,
        "minTier": GOLD,
        "stock": UNLIMITED,
        "walletLimit": 2,
        "startTime": 1_000,
        "endTime": 2_000_000_000,
        "active": False,
    }
    assert shop.add_perk() == 2
    assert shop.catalog.functions.perkCount().call() == 2
    expected = [title("Lounge pass"), 2_500, GOLD, UNLIMITED, 2, 1_000, 2_000_000_000, False, 0]
    assert shop.catalog.functions.perk(1).call() == expected


def test_perk_management_requires_the_perk_manager_role(
    shop: Shop, admin: LocalAccount, outsider: LocalAccount
) -> None:
    perk_id = shop.add_perk()
    c = shop.catalog.functions
    denied = ("AccessControlUnauthorizedAccount", outsider.address, PERK_MANAGER_ROLE)
    shop.reverts(c.addPerk(title("x"), 1, BRONZE, 1, 0, 0, 0, True), outsider, *denied)
    shop.reverts(c.updatePerk(perk_id, title("x"), 1, BRONZE, 1, 0, 0, 0, True), outsider, *denied)
    shop.reverts(c.setPerkActive(perk_id, False), outsider, *denied)
    # a granted manager may
    send(c.grantRole(PERK_MANAGER_ROLE, outsider.address), admin)
    send(c.addPerk(title("x"), 1, BRONZE, 1, 0, 0, 0, True), outsider)
    send(c.setPerkActive(perk_id, False), outsider)


BAD_CONFIGS = [
    (0, BRONZE, 0, 0, ("CatalogInvalidPrice", 0)),
    (1, 3, 0, 0, ("CatalogInvalidTier", 3, 3)),
    (1, 255, 0, 0, ("CatalogInvalidTier", 255, 3)),
    (1, BRONZE, 500, 500, ("CatalogInvalidWindow", 500, 500)),
    (1, BRONZE, 500, 499, ("CatalogInvalidWindow", 500, 499)),
]


@pytest.mark.parametrize(("price", "min_tier", "start", "end", "error"), BAD_CONFIGS)
def test_add_and_update_reject_bad_config(
    shop: Shop, admin: LocalAccount, price: int, min_tier: int, start: int, end: int, error: tuple[Any, ...]
) -> None:
    c = shop.catalog.functions
    shop.reverts(c.addPerk(title("x"), price, min_tier, 1, 0, start, end, True), admin, *error)
    perk_id = shop.add_perk()
    shop.reverts(c.updatePerk(perk_id, title("x"), price, min_tier, 1, 0, start, end, True), admin, *error)


def test_update_perk_replaces_config_and_keeps_counts(
    shop: Shop, admin: LocalAccount, member: LocalAccount
) -> None:
    perk_id = shop.add_perk(stock=10, wallet_limit=5)
    send(shop.catalog.functions.redeem(perk_id, 3, ANY_COST), member)
    fn = shop.catalog.functions.updatePerk(
        perk_id, title("Large coffee"), 150, SILVER, 3, 4, 0, 2_000_000_000, True
    )
    (event,) = events(shop.catalog, send(fn, admin), "PerkUpdated")
    expected = [title("Large coffee"), 150, SILVER, 3, 4, 0, 2_000_000_000, True]
    assert list(event.values()) == [perk_id, *expected]
    assert shop.catalog.functions.perk(perk_id).call() == [*expected, 3]  # sold count kept
    assert shop.catalog.functions.redeemedBy(perk_id, member.address).call() == 3
    assert shop.catalog.functions.perkCount().call() == 1


@pytest.mark.parametrize("perk_id", [0, 2, 2**256 - 1])
def test_unknown_perks_are_refused(
    shop: Shop, admin: LocalAccount, member: LocalAccount, perk_id: int
) -> None:
    shop.add_perk()
    c = shop.catalog.functions
    shop.reverts(
        c.updatePerk(perk_id, title("x"), 1, BRONZE, 1, 0, 0, 0, True), admin, "CatalogUnknownPerk", perk_id
    )
    shop.reverts(c.setPerkActive(perk_id, False), admin, "CatalogUnknownPerk", perk_id)
    shop.reverts(c.redeem(perk_id, 1, ANY_COST), member, "CatalogUnknownPerk", perk_id)
    shop.reverts(c.perk(perk_id), member, "CatalogUnknownPerk", perk_id)


def test_update_perk_rejects_stock_below_sold(shop: Shop, admin: LocalAccount, member: LocalAccount) -> None:
    perk_id = shop.add_perk(stock=10)
    send(shop.catalog.functions.redeem(perk_id, 4, ANY_COST), member)
    fn = shop.catalog.functions.updatePerk(perk_id, title("x"), 100, BRONZE, 3, 0, 0, 0, True)
    shop.reverts(fn, admin, "CatalogStockBelowSold", perk_id, 3, 4)
    send(
        shop.catalog.functions.updatePerk(perk_id, title("x"), 100, BRONZE, 4, 0, 0, 0, True), admin
    )  # sold out


def test_set_perk_active_toggles_only_the_flag(shop: Shop, admin: LocalAccount) -> None:
    perk_id = shop.add_perk(price=70, stock=9, wallet_limit=3)
    before = shop.catalog.functions.perk(perk_id).call()
    (event,) = events(
        shop.catalog, send(shop.catalog.functions.setPerkActive(perk_id, False), admin), "PerkUpdated"
    )
    assert list(event.values()) == [perk_id, title("Free coffee"), 70, BRONZE, 9, 3, 0, 0, False]
    after = shop.catalog.functions.perk(perk_id).call()
    assert (after[:7], after[7]) == (before[:7], False)
    send(shop.catalog.functions.setPerkActive(perk_id, True), admin)
    assert shop.catalog.functions.perk(perk_id).call() == before


# --- redemption ------------------------------------------------------------------------------------


def test_redeem_burns_points_and_emits_sequential_redemptions(shop: Shop, member: LocalAccount) -> None:
    coffee = shop.add_perk(price=100)
    tshirt = shop.add_perk(price=1_200, min_tier=SILVER, stock=5)
    supply = shop.points.functions.totalSupply().call()

    assert shop.catalog.functions.redeem(coffee, 2, ANY_COST).call({"from": member.address}) == 1
    first = send(shop.catalog.functions.redeem(coffee, 2, ANY_COST), member)
    second = send(shop.catalog.functions.redeem(tshirt, 1, ANY_COST), member)

    assert shop.redeemed(first) == {
        "redemptionId": 1,
        "perkId": coffee,
        "member": member.address,
        "quantity": 2,
        "pointsBurned": 200,
    }
    assert list(shop.redeemed(second).values()) == [2, tshirt, member.address, 1, 1_200]
    assert shop.balance(member) == 10_000 - 1_400
    assert shop.points.functions.totalSupply().call() == supply - 1_400
    assert shop.catalog.functions.redemptionCount().call() == 2
    # neither perk has a wallet limit, so no per-wallet count is kept (the events are the history)
    assert shop.catalog.functions.redeemedBy(coffee, member.address).call() == 0
    assert (shop.sold(coffee), shop.sold(tshirt)) == (2, 1)
    # the burn is the token's own Transfer to the zero address
    assert events(shop.points, first, "Transfer") == [
        {"from": member.address, "to": ZERO_ADDRESS, "value": 200}
    ]


def test_redeem_rejects_zero_quantity(shop: Shop, member: LocalAccount) -> None:
    perk_id = shop.add_perk()
    shop.reverts(shop.catalog.functions.redeem(perk_id, 0, ANY_COST), member, "CatalogZeroQuantity", perk_id)


def test_redeem_rejects_inactive_perk(shop: Shop, admin: LocalAccount, member: LocalAccount) -> None:
    perk_id = shop.add_perk(active=False)
    shop.reverts(shop.catalog.functions.redeem(perk_id, 1, ANY_COST), member, "CatalogPerkInactive", perk_id)
    send(shop.catalog.functions.setPerkActive(perk_id, True), admin)
    send(shop.catalog.functions.redeem(perk_id, 1, ANY_COST), member)


def test_redeem_requires_a_card(shop: Shop, bob: LocalAccount) -> None:
    shop.fund(bob, 1_000)
    perk_id = shop.add_perk()
    shop.reverts(shop.catalog.functions.redeem(perk_id, 1, ANY_COST), bob, "CatalogNoActiveCard", bob.address)


def test_redeem_rejects_an_expired_card(shop: Shop, bob: LocalAccount) -> None:
    valid_until = now(shop.w3) + 1_000
    shop.enroll(bob, GOLD, valid_until)
    shop.fund(bob, 1_000)
    perk_id = shop.add_perk()
    shop.send_at(
        shop.catalog.functions.redeem(perk_id, 1, ANY_COST), bob, valid_until
    )  # its last valid second
    mine(shop.w3, valid_until + 1)
    shop.reverts(shop.catalog.functions.redeem(perk_id, 1, ANY_COST), bob, "CatalogNoActiveCard", bob.address)


def test_redeem_checks_the_tier(shop: Shop, alice: LocalAccount, bob: LocalAccount) -> None:
    shop.enroll(alice, BRONZE)
    shop.enroll(bob, GOLD)
    shop.fund(alice, 1_000)
    shop.fund(bob, 1_000)
    silver_perk = shop.add_perk(min_tier=SILVER)
    gold_perk = shop.add_perk(min_tier=GOLD)
    fn = shop.catalog.functions.redeem(silver_perk, 1, ANY_COST)
    shop.reverts(fn, alice, "CatalogTierTooLow", alice.address, BRONZE, SILVER)
    send(shop.catalog.functions.redeem(silver_perk, 1, ANY_COST), bob)  # above the minimum
    send(shop.catalog.functions.redeem(gold_perk, 1, ANY_COST), bob)  # exactly the minimum


def test_redeem_rejects_out_of_stock(shop: Shop, member: LocalAccount) -> None:
    perk_id = shop.add_perk(stock=3)
    redeem = shop.catalog.functions.redeem
    shop.reverts(redeem(perk_id, 4, ANY_COST), member, "CatalogOutOfStock", perk_id, 4, 3)
    send(redeem(perk_id, 2, ANY_COST), member)
    shop.reverts(redeem(perk_id, 2, ANY_COST), member, "CatalogOutOfStock", perk_id, 2, 1)
    send(redeem(perk_id, 1, ANY_COST), member)  # the last unit
    shop.reverts(redeem(perk_id, 1, ANY_COST), member, "CatalogOutOfStock", perk_id, 1, 0)
    assert shop.sold(perk_id) == 3
    zero_stock = shop.add_perk(stock=0)
    shop.reverts(redeem(zero_stock, 1, ANY_COST), member, "CatalogOutOfStock", zero_stock, 1, 0)


def test_unlimited_stock_is_bounded_only_by_the_uint32_counter(shop: Shop, member: LocalAccount) -> None:
    perk_id = shop.add_perk(price=1, stock=UNLIMITED)
    send(shop.catalog.functions.redeem(perk_id, 500, ANY_COST), member)
    left = UNLIMITED - 500
    # a quantity beyond the uint32 sold counter is refused, never wrapped
    for quantity in (2**32, 2**255):
        shop.reverts(
            shop.catalog.functions.redeem(perk_id, quantity, ANY_COST),
            member,
            "CatalogOutOfStock",
            perk_id,
            quantity,
            left,
        )


def test_redeem_enforces_the_per_wallet_limit(shop: Shop, member: LocalAccount, bob: LocalAccount) -> None:
    shop.enroll(bob, BRONZE)
    shop.fund(bob, 1_000)
    perk_id = shop.add_perk(wallet_limit=2)
    redeem = shop.catalog.functions.redeem
    over = "CatalogWalletLimitExceeded"
    shop.reverts(redeem(perk_id, 3, ANY_COST), member, over, perk_id, member.address, 3, 0, 2)
    send(redeem(perk_id, 1, ANY_COST), member)
    send(redeem(perk_id, 1, ANY_COST), member)
    shop.reverts(redeem(perk_id, 1, ANY_COST), member, over, perk_id, member.address, 1, 2, 2)
    send(redeem(perk_id, 2, ANY_COST), bob)  # the limit is per wallet
    assert shop.catalog.functions.redeemedBy(perk_id, member.address).call() == 2
    assert shop.catalog.functions.redeemedBy(perk_id, bob.address).call() == 2


def test_lowering_the_wallet_limit_below_what_was_redeemed(
    shop: Shop, admin: LocalAccount, member: LocalAccount
) -> None:
    perk_id = shop.add_perk(wallet_limit=5)
    send(shop.catalog.functions.redeem(perk_id, 4, ANY_COST), member)
    send(shop.catalog.functions.updatePerk(perk_id, title("x"), 100, BRONZE, 10, 2, 0, 0, True), admin)
    fn = shop.catalog.functions.redeem(perk_id, 1, ANY_COST)
    shop.reverts(fn, member, "CatalogWalletLimitExceeded", perk_id, member.address, 1, 4, 2)


def test_redeemed_by_is_kept_only_for_perks_with_a_wallet_limit(
    shop: Shop, admin: LocalAccount, member: LocalAccount
) -> None:
    perk_id = shop.add_perk(stock=20)
    c = shop.catalog.functions

    def set_limit(limit: int) -> None:
        send(c.updatePerk(perk_id, title("x"), 100, BRONZE, 20, limit, 0, 0, True), admin)

    receipt = send(c.redeem(perk_id, 3, ANY_COST), member)
    assert list(shop.redeemed(receipt).values()) == [1, perk_id, member.address, 3, 300]  # the history
    assert c.redeemedBy(perk_id, member.address).call() == 0  # no limit: not counted
    set_limit(2)  # counting starts now: the 3 units redeemed before do not count against it
    send(c.redeem(perk_id, 2, ANY_COST), member)
    assert c.redeemedBy(perk_id, member.address).call() == 2
    over = "CatalogWalletLimitExceeded"
    shop.reverts(c.redeem(perk_id, 1, ANY_COST), member, over, perk_id, member.address, 1, 2, 2)
    set_limit(0)  # lifting the limit: redemptions pass and are not counted
    send(c.redeem(perk_id, 4, ANY_COST), member)
    assert c.redeemedBy(perk_id, member.address).call() == 2
    set_limit(3)  # the count kept from the limited period applies again
    send(c.redeem(perk_id, 1, ANY_COST), member)
    shop.reverts(c.redeem(perk_id, 1, ANY_COST), member, over, perk_id, member.address, 1, 3, 3)
    assert (c.redeemedBy(perk_id, member.address).call(), shop.sold(perk_id)) == (3, 10)


def test_redeem_respects_the_sale_window(shop: Shop, member: LocalAccount) -> None:
    start = now(shop.w3) + 1_000
    end = start + 1_000
    perk_id = shop.add_perk(start=start, end=end)
    fn = shop.catalog.functions.redeem(perk_id, 1, ANY_COST)
    name, (got_perk, got_start, block_time) = shop.error_of(fn, member)
    assert (name, got_perk, got_start) == ("CatalogPerkNotStarted", perk_id, start)
    assert block_time < start

    shop.send_at(fn, member, start)  # the first second is open
    shop.send_at(fn, member, end)  # and so is the last
    mine(shop.w3, end + 1)
    name, (got_perk, got_end, block_time) = shop.error_of(fn, member)
    assert (name, got_perk, got_end) == ("CatalogPerkEnded", perk_id, end)
    assert block_time > end
    assert shop.sold(perk_id) == 2


def test_redeem_needs_enough_points(shop: Shop, member: LocalAccount) -> None:
    perk_id = shop.add_perk(price=6_000)
    send(shop.catalog.functions.redeem(perk_id, 1, ANY_COST), member)
    fn = shop.catalog.functions.redeem(perk_id, 1, ANY_COST)
    shop.reverts(fn, member, "ERC20InsufficientBalance", member.address, 4_000, 6_000)
    # the failed attempt left no trace
    assert (shop.sold(perk_id), shop.catalog.functions.redemptionCount().call(), shop.balance(member)) == (
        1,
        1,
        4_000,
    )


def test_redeem_stops_while_points_are_paused(shop: Shop, admin: LocalAccount, member: LocalAccount) -> None:
    perk_id = shop.add_perk()
    send(shop.points.functions.pause(), admin)
    shop.reverts(shop.catalog.functions.redeem(perk_id, 1, ANY_COST), member, "EnforcedPause")
    send(shop.points.functions.unpause(), admin)
    send(shop.catalog.functions.redeem(perk_id, 1, ANY_COST), member)


def test_redeem_fails_without_the_redeemer_role(
    shop: Shop, admin: LocalAccount, member: LocalAccount
) -> None:
    perk_id = shop.add_perk()
    send(shop.points.functions.revokeRole(REDEEMER_ROLE, shop.catalog.address), admin)
    assert shop.points.functions.redemptionCatalog().call() == ZERO_ADDRESS  # cleared with the role
    fn = shop.catalog.functions.redeem(perk_id, 1, ANY_COST)
    shop.reverts(fn, member, "AccessControlUnauthorizedAccount", shop.catalog.address, REDEEMER_ROLE)


def test_a_catalog_with_only_the_redeemer_role_still_redeems(
    shop: Shop, admin: LocalAccount, member: LocalAccount
) -> None:
    perk_id = shop.add_perk(price=40)
    send(shop.points.functions.setRedemptionCatalog(ZERO_ADDRESS), admin)  # retires it: the role goes too
    assert not shop.points.functions.hasRole(REDEEMER_ROLE, shop.catalog.address).call()
    send(shop.points.functions.grantRole(REDEEMER_ROLE, shop.catalog.address), admin)  # the role alone
    with_role_lookup = send(shop.catalog.functions.redeem(perk_id, 1, ANY_COST), member)
    send(shop.points.functions.setRedemptionCatalog(shop.catalog.address), admin)
    without = send(shop.catalog.functions.redeem(perk_id, 1, ANY_COST), member)
    assert [shop.redeemed(r)["redemptionId"] for r in (with_role_lookup, without)] == [1, 2]
    assert shop.balance(member) == 10_000 - 80
    assert with_role_lookup["gasUsed"] - without["gasUsed"] >= 2_100  # the role's cold SLOAD


# --- gasless redemption ----------------------------------------------------------------------------


def test_relayer_submits_a_signed_redemption(shop: Shop, member: LocalAccount, relayer: LocalAccount) -> None:
    perk_id = shop.add_perk(price=250, wallet_limit=5)  # a limit, so per-wallet counts are kept
    deadline = now(shop.w3) + 3_600
    c = shop.catalog.functions
    assert c.nonces(member.address).call() == 0
    signature = shop.sign(member, member.address, perk_id, 2, 0, deadline)
    receipt = send(
        c.redeemWithSignature(member.address, ZERO_ADDRESS, perk_id, 2, ANY_COST, deadline, signature),
        relayer,
    )
    assert list(shop.redeemed(receipt).values()) == [1, perk_id, member.address, 2, 500]
    assert shop.balance(member) == 10_000 - 500
    assert c.redeemedBy(perk_id, member.address).call() == 2
    assert c.redeemedBy(perk_id, relayer.address).call() == 0
    assert c.nonces(member.address).call() == 1

    signature = shop.sign(member, member.address, perk_id, 1, 1, deadline)  # the next request, the next nonce
    fn = c.redeemWithSignature(member.address, ZERO_ADDRESS, perk_id, 1, ANY_COST, deadline, signature)
    assert fn.call({"from": relayer.address}) == 2
    send(fn, relayer)
    assert c.nonces(member.address).call() == 2


def test_signed_redemption_expires_after_its_deadline(
    shop: Shop, member: LocalAccount, relayer: LocalAccount
) -> None:
    perk_id = shop.add_perk()
    deadline = now(shop.w3) + 100
    signature = shop.sign(member, member.address, perk_id, 1, 0, deadline)
    fn = shop.catalog.functions.redeemWithSignature(
        member.address, ZERO_ADDRESS, perk_id, 1, ANY_COST, deadline, signature
    )
    shop.send_at(fn, relayer, deadline)  # accepted in the deadline's own second

    signature = shop.sign(member, member.address, perk_id, 1, 1, deadline)
    fn = shop.catalog.functions.redeemWithSignature(
        member.address, ZERO_ADDRESS, perk_id, 1, ANY_COST, deadline, signature
    )
    mine(shop.w3, deadline + 1)
    name, (got_deadline, block_time) = shop.error_of(fn, relayer)
    assert (name, got_deadline) == ("CatalogExpiredSignature", deadline)
    assert block_time > deadline


def test_signed_redemption_cannot_be_replayed(
    shop: Shop, member: LocalAccount, relayer: LocalAccount
) -> None:
    perk_id = shop.add_perk()
    deadline = now(shop.w3) + 3_600
    signature = shop.sign(member, member.address, perk_id, 1, 0, deadline)
    fn = shop.catalog.functions.redeemWithSignature(
        member.address, ZERO_ADDRESS, perk_id, 1, ANY_COST, deadline, signature
    )
    send(fn, relayer)
    shop.reverts(fn, relayer, "CatalogInvalidSignature", member.address, 1)
    shop.reverts(fn, member, "CatalogInvalidSignature", member.address, 1)  # not even by the member
    assert shop.catalog.functions.redemptionCount().call() == 1


def test_signed_redemption_rejects_a_future_nonce(
    shop: Shop, member: LocalAccount, relayer: LocalAccount
) -> None:
    perk_id = shop.add_perk()
    deadline = now(shop.w3) + 3_600
    signature = shop.sign(member, member.address, perk_id, 1, 1, deadline)
    fn = shop.catalog.functions.redeemWithSignature(
        member.address, ZERO_ADDRESS, perk_id, 1, ANY_COST, deadline, signature
    )
    shop.reverts(fn, relayer, "CatalogInvalidSignature", member.address, 0)


def test_signed_redemption_rejects_a_wrong_signer(
    shop: Shop, member: LocalAccount, bob: LocalAccount, relayer: LocalAccount
) -> None:
    perk_id = shop.add_perk()
    deadline = now(shop.w3) + 3_600
    signature = shop.sign(bob, member.address, perk_id, 1, 0, deadline)  # bob signs "as" the member
    fn = shop.catalog.functions.redeemWithSignature(
        member.address, ZERO_ADDRESS, perk_id, 1, ANY_COST, deadline, signature
    )
    shop.reverts(fn, relayer, "CatalogInvalidSignature", member.address, 0)


@pytest.mark.parametrize("field", ["perk", "quantity", "deadline", "member", "relayer", "max_cost"])
def test_signed_redemption_rejects_altered_requests(
    shop: Shop, member: LocalAccount, bob: LocalAccount, relayer: LocalAccount, field: str
) -> None:
    perk_id = shop.add_perk()
    other_perk = shop.add_perk()
    deadline = now(shop.w3) + 3_600
    signature = shop.sign(member, member.address, perk_id, 1, 0, deadline)
    args = {
        "member": member.address,
        "relayer": ZERO_ADDRESS,
        "perk": perk_id,
        "quantity": 1,
        "max_cost": ANY_COST,
        "deadline": deadline,
    }
    args[field] = {
        "perk": other_perk,
        "quantity": 2,
        "deadline": deadline + 1,
        "member": bob.address,
        "relayer": relayer.address,
        "max_cost": 10**6,
    }[field]
    fn = shop.catalog.functions.redeemWithSignature(*args.values(), signature)
    shop.reverts(fn, relayer, "CatalogInvalidSignature", args["member"], 0)


@pytest.mark.parametrize("signature", [b"", b"\x01" * 64, b"\x00" * 65, b"\x02" * 66])
def test_signed_redemption_rejects_malformed_signatures(
    shop: Shop, member: LocalAccount, relayer: LocalAccount, signature: bytes
) -> None:
    perk_id = shop.add_perk()
    fn = shop.catalog.functions.redeemWithSignature(
        member.address, ZERO_ADDRESS, perk_id, 1, ANY_COST, now(shop.w3) + 60, signature
    )
    shop.reverts(fn, relayer, "CatalogInvalidSignature", member.address, 0)


def test_signature_for_another_chain_or_catalog_is_refused(
    shop: Shop, admin: LocalAccount, member: LocalAccount, relayer: LocalAccount
) -> None:
    other = deploy_contract(
        shop.chain, "PerkCatalog", shop.points.address, shop.card.address, admin.address, sender=admin
    )
    perk_id = shop.add_perk()
    deadline = now(shop.w3) + 3_600
    foreign = [
        shop.sign(member, member.address, perk_id, 1, 0, deadline, chain_id=1),
        shop.sign(member, member.address, perk_id, 1, 0, deadline, verifying_contract=other.address),
        shop.sign(member, member.address, perk_id, 1, 0, deadline, name="SomeOtherCatalog"),
    ]
    for signature in foreign:
        fn = shop.catalog.functions.redeemWithSignature(
            member.address, ZERO_ADDRESS, perk_id, 1, ANY_COST, deadline, signature
        )
        shop.reverts(fn, relayer, "CatalogInvalidSignature", member.address, 0)
    # the same request signed for this chain and catalog goes through
    signature = shop.sign(member, member.address, perk_id, 1, 0, deadline)
    send(
        shop.catalog.functions.redeemWithSignature(
            member.address, ZERO_ADDRESS, perk_id, 1, ANY_COST, deadline, signature
        ),
        relayer,
    )


def test_signed_redemption_runs_the_same_checks(shop: Shop, bob: LocalAccount, relayer: LocalAccount) -> None:
    shop.fund(bob, 1_000)  # points but no card
    perk_id = shop.add_perk()
    deadline = now(shop.w3) + 3_600
    signature = shop.sign(bob, bob.address, perk_id, 1, 0, deadline)
    fn = shop.catalog.functions.redeemWithSignature(
        bob.address, ZERO_ADDRESS, perk_id, 1, ANY_COST, deadline, signature
    )
    shop.reverts(fn, relayer, "CatalogNoActiveCard", bob.address)
    assert shop.catalog.functions.nonces(bob.address).call() == 0  # the revert undid the nonce too


def test_signed_redemption_stops_while_points_are_paused(
    shop: Shop, admin: LocalAccount, member: LocalAccount, relayer: LocalAccount
) -> None:
    perk_id = shop.add_perk()
    deadline = now(shop.w3) + 3_600
    signature = shop.sign(member, member.address, perk_id, 1, 0, deadline)
    send(shop.points.functions.pause(), admin)
    fn = shop.catalog.functions.redeemWithSignature(
        member.address, ZERO_ADDRESS, perk_id, 1, ANY_COST, deadline, signature
    )
    shop.reverts(fn, relayer, "EnforcedPause")


# A minimal ERC-1271 contract wallet, compiled from this source for the test below only.
WALLET_SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
contract OwnedWallet {
    address private immutable _owner;
    constructor(address owner_) { _owner = owner_; }
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(hash, signature);
        bool ok = err == ECDSA.RecoverError.NoError && signer == _owner;
        return ok ? this.isValidSignature.selector : bytes4(0);
    }
}
"""


@pytest.fixture(scope="module")
def wallet_artifact(tmp_path_factory: pytest.TempPathFactory) -> Artifact:
    return compile_shared(tmp_path_factory, "erc1271", sources={"OwnedWallet.sol": WALLET_SOURCE}).artifacts[
        "OwnedWallet"
    ]


def test_contract_wallet_redeems_with_an_erc1271_signature(
    shop: Shop,
    admin: LocalAccount,
    alice: LocalAccount,
    bob: LocalAccount,
    relayer: LocalAccount,
    wallet_artifact: Artifact,
) -> None:
    wallet = deploy_contract(
        shop.chain, wallet_artifact, bob.address, sender=admin
    ).address  # bob's key owns it
    shop.enroll(wallet, GOLD)
    shop.fund(wallet, 1_000)
    perk_id = shop.add_perk(price=300)
    deadline = now(shop.w3) + 3_600
    c = shop.catalog.functions

    forged = shop.sign(alice, wallet, perk_id, 1, 0, deadline)
    shop.reverts(
        c.redeemWithSignature(wallet, ZERO_ADDRESS, perk_id, 1, ANY_COST, deadline, forged),
        relayer,
        "CatalogInvalidSignature",
        wallet,
        0,
    )
    signature = shop.sign(bob, wallet, perk_id, 1, 0, deadline)
    send(c.redeemWithSignature(wallet, ZERO_ADDRESS, perk_id, 1, ANY_COST, deadline, signature), relayer)
    assert (shop.balance(wallet), c.nonces(wallet).call()) == (700, 1)


def test_batch_relay_checks_a_contract_wallet_item_by_erc1271(
    shop: Shop,
    admin: LocalAccount,
    alice: LocalAccount,
    bob: LocalAccount,
    relayer: LocalAccount,
    wallet_artifact: Artifact,
) -> None:
    wallet = deploy_contract(shop.chain, wallet_artifact, bob.address, sender=admin).address
    shop.enroll(wallet, GOLD)
    shop.fund(wallet, 1_000)
    perk_id = shop.add_perk(price=300)
    deadline = now(shop.w3) + 3_600
    forged = _item(shop, alice, wallet, perk_id, 0, deadline)
    signed = _item(shop, bob, wallet, perk_id, 0, deadline)  # bob's key owns the wallet
    receipt = send(shop.catalog.functions.redeemBatchWithSignature([forged, signed]), relayer)
    (skipped,) = events(shop.catalog, receipt, "RedemptionSkipped")
    assert decode_error(shop.abis, "0x" + bytes(skipped["reason"]).hex()) == (
        "CatalogInvalidSignature",
        (wallet, 0),
    )
    assert [e["member"] for e in events(shop.catalog, receipt, "PerkRedeemed")] == [wallet]
    assert (shop.balance(wallet), shop.catalog.functions.nonces(wallet).call()) == (700, 1)


# --- accounting invariant --------------------------------------------------------------------------


def test_points_burned_equal_the_sum_of_redemption_costs(
    shop: Shop, dev_accounts: list[LocalAccount], relayer: LocalAccount
) -> None:
    members = dev_accounts[1:5]
    for i, m in enumerate(members):
        shop.enroll(m, i % 3)
        shop.fund(m, 50_000)
    prices = [100, 2_345, 7, 9_999]
    perks = {
        shop.add_perk(price=100, stock=UNLIMITED): 100,
        shop.add_perk(price=2_345, min_tier=SILVER, stock=40, wallet_limit=6): 2_345,
        shop.add_perk(price=7, stock=1_000): 7,
        shop.add_perk(price=9_999, min_tier=GOLD, stock=5): 9_999,
    }
    assert list(perks.values()) == prices
    supply_before = shop.points.functions.totalSupply().call()
    balances_before = sum(shop.balance(m) for m in members)
    plan = [(0, 1, 3), (1, 2, 2), (2, 4, 1), (3, 3, 17), (1, 1, 1), (2, 2, 6)]
    plan += [(0, 3, 250), (2, 4, 2), (3, 1, 9), (1, 2, 4), (2, 1, 1)]

    c = shop.catalog.functions
    expected_cost = burned_by_events = 0
    redemption_ids = []
    for step, (who_index, perk_id, quantity) in enumerate(plan):
        who = members[who_index]
        if step % 2:  # every other redemption goes through the relayer
            deadline = now(shop.w3) + 600
            nonce = c.nonces(who.address).call()
            signature = shop.sign(who, who.address, perk_id, quantity, nonce, deadline)
            receipt = send(
                c.redeemWithSignature(
                    who.address, ZERO_ADDRESS, perk_id, quantity, ANY_COST, deadline, signature
                ),
                relayer,
            )
        else:
            receipt = send(c.redeem(perk_id, quantity, ANY_COST), who)
        event = shop.redeemed(receipt)
        assert event["pointsBurned"] == perks[perk_id] * quantity
        burned_by_events += event["pointsBurned"]
        redemption_ids.append(event["redemptionId"])
        expected_cost += perks[perk_id] * quantity

    assert redemption_ids == list(range(1, len(plan) + 1))
    assert supply_before - shop.points.functions.totalSupply().call() == expected_cost == burned_by_events
    assert balances_before - sum(shop.balance(m) for m in members) == expected_cost
    for perk_id in perks:
        assert shop.sold(perk_id) == sum(q for _, p, q in plan if p == perk_id)
        counted = sum(c.redeemedBy(perk_id, m.address).call() for m in members)
        # per-wallet counts exist only for the perk with a wallet limit (perk 2), and add up to its sales
        assert counted == (shop.sold(perk_id) if perk_id == 2 else 0)


# --- batch relay (redeemBatchWithSignature) --------------------------------------------------------


def _item(
    shop: Shop, signer: LocalAccount, member: str, perk_id: int, nonce: int, deadline: int, **kw: Any
) -> tuple[Any, ...]:
    relayer, max_cost = kw.get("relayer", ZERO_ADDRESS), kw.get("max_cost", ANY_COST)
    signature = shop.sign(signer, member, perk_id, 1, nonce, deadline, relayer=relayer, max_cost=max_cost)
    return (member, relayer, perk_id, 1, max_cost, deadline, signature)


def test_batch_relay_redeems_good_items_and_skips_bad_ones(
    shop: Shop, member: LocalAccount, bob: LocalAccount, relayer: LocalAccount
) -> None:
    shop.enroll(bob, BRONZE)
    shop.fund(bob, 10_000)
    perk_id = shop.add_perk(price=100)
    deadline = now(shop.w3) + 3_600
    first = _item(shop, member, member.address, perk_id, 0, deadline)
    items = [
        first,
        _item(shop, member, bob.address, perk_id, 0, deadline),  # not bob's signature
        _item(shop, member, member.address, perk_id, 1, deadline),  # the member's next request
        first,  # replayed: its nonce is used up by then
    ]
    fn = shop.catalog.functions.redeemBatchWithSignature(items)
    assert fn.call({"from": relayer.address}) == [1, 0, 2, 0]
    receipt = send(fn, relayer)
    redeemed = events(shop.catalog, receipt, "PerkRedeemed")
    assert [(e["redemptionId"], e["member"]) for e in redeemed] == [(1, member.address), (2, member.address)]
    skipped = events(shop.catalog, receipt, "RedemptionSkipped")
    assert [(e["index"], e["member"]) for e in skipped] == [(1, bob.address), (3, member.address)]
    decoded = [decode_error(shop.abis, "0x" + bytes(e["reason"]).hex()) for e in skipped]
    assert decoded == [
        ("CatalogInvalidSignature", (bob.address, 0)),
        ("CatalogInvalidSignature", (member.address, 2)),
    ]
    assert shop.balance(member) == 10_000 - 200
    assert shop.balance(bob) == 10_000  # nothing of a skipped item happened
    c = shop.catalog.functions
    assert (c.nonces(member.address).call(), c.nonces(bob.address).call()) == (2, 0)

    fn = shop.catalog.functions.redeemBatchWithSignature([first])  # replayed alone: skipped, not reverted
    receipt = send(fn, relayer)
    assert [e["index"] for e in events(shop.catalog, receipt, "RedemptionSkipped")] == [0]
    assert shop.catalog.functions.redemptionCount().call() == 2


def test_batch_relay_checks_relayer_deadline_and_rules_per_item(
    shop: Shop, member: LocalAccount, bob: LocalAccount, relayer: LocalAccount, outsider: LocalAccount
) -> None:
    perk_id = shop.add_perk(price=100)
    deadline = now(shop.w3) + 3_600
    items = [
        _item(
            shop, member, member.address, perk_id, 0, deadline, relayer=outsider.address
        ),  # another relayer
        _item(shop, member, member.address, perk_id, 0, now(shop.w3) - 1),  # expired
        _item(shop, bob, bob.address, perk_id, 0, deadline),  # bob holds no card
        _item(shop, member, member.address, perk_id, 0, deadline, max_cost=99),  # costs more than signed for
        _item(shop, member, member.address, perk_id, 0, deadline, relayer=relayer.address),  # good
    ]
    receipt = send(shop.catalog.functions.redeemBatchWithSignature(items), relayer)
    skipped = events(shop.catalog, receipt, "RedemptionSkipped")
    names = [decode_error(shop.abis, "0x" + bytes(e["reason"]).hex())[0] for e in skipped]
    assert names == [
        "CatalogWrongRelayer",
        "CatalogExpiredSignature",
        "CatalogNoActiveCard",
        "CatalogCostAboveMax",
    ]
    assert [e["member"] for e in events(shop.catalog, receipt, "PerkRedeemed")] == [member.address]


def test_batch_relay_refuses_an_empty_batch_and_outside_calls_of_its_step(
    shop: Shop, member: LocalAccount, relayer: LocalAccount
) -> None:
    shop.reverts(shop.catalog.functions.redeemBatchWithSignature([]), relayer, "CatalogEmptyBatch")
    perk_id = shop.add_perk()
    item = _item(shop, member, member.address, perk_id, 0, now(shop.w3) + 3_600)
    step = shop.catalog.functions.redeemSignedItem(relayer.address, item)
    shop.reverts(step, relayer, "CatalogOnlySelf", relayer.address)
    assert shop.catalog.functions.nonces(member.address).call() == 0
