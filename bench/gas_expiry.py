"""Gas of expiring points (issue 12 item 2), beside today's non-expiring token and a lot-per-issue baseline.

Called by ``bench/gas.py`` (its ``send`` and ``Row``); not run on its own. In one run it deploys three
tokens: ``LoyaltyPoints`` (today's, non-expiring), ``ExpiringPoints`` (30-day epochs, validity 4) and
``OZExpiringBaseline`` (bench/contracts: one slot per lot, FIFO walk, OZ ERC20). Each row's ``ours`` is
ExpiringPoints, ``baseline`` the lot baseline, and the operation names today's figure measured just before.

Targets (issue 12): batch issue per fresh recipient <= 1.05 x today's; transfer and redeem each <= 1.15 x
today's. Every holder is a fresh impersonated address; the clock is first moved to one day into an epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract

from loyalty_chain.artifacts import Artifact
from loyalty_chain.chain import Chain
from loyalty_chain.deploy import deploy_contract

EPOCH = 30 * 86_400
VALIDITY = 4
TIME_BASED = 1
PURCHASE = b"purchase".ljust(32, b"\0")
PERK = b"perk".ljust(32, b"\0")
PRICE = 10

ISSUE_TARGET = 1.05
SPEND_TARGET = 1.15

Send = Callable[[Any, Any], int]
RowFactory = Callable[..., Any]


@dataclass(frozen=True)
class Tokens:
    today: Contract
    expiring: Contract
    lots: Contract

    def all(self) -> tuple[Contract, Contract, Contract]:
        return self.today, self.expiring, self.lots


def _fresh(chain: Chain, tag: str, count: int, fund: bool = False) -> list[str]:
    addresses = [Web3.to_checksum_address(keccak(text=f"expiry-{tag}-{i}")[12:]) for i in range(count)]
    if fund:
        for a in addresses:
            chain.w3.provider.make_request("anvil_impersonateAccount", [a])  # type: ignore[arg-type]
            chain.w3.provider.make_request("anvil_setBalance", [a, hex(10**18)])  # type: ignore[arg-type]
    return addresses


def _travel(chain: Chain, timestamp: int) -> None:
    chain.w3.provider.make_request("evm_mine", [timestamp])  # type: ignore[arg-type]


def _now(chain: Chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def _issue(t: Tokens, token: Contract, to: str, amount: int, admin: LocalAccount, send: Send) -> int:
    if token is t.lots:
        return send(token.functions.mint(to, amount), admin)
    return send(token.functions.issue(to, amount, PURCHASE), admin)


def measure_expiry(
    chain: Chain,
    ours: dict[str, Artifact],
    base: dict[str, Artifact],
    admin: LocalAccount,
    batch: int,
    send: Send,
    row: RowFactory,
) -> tuple[list[Any], list[str]]:
    """The expiring-points rows and their target checks (PASS/FAIL lines)."""
    _travel(chain, (_now(chain) // EPOCH + 1) * EPOCH + 86_400)
    t = Tokens(
        deploy_contract(chain, ours["LoyaltyPoints"], "Today", "T", 0, 0, 0, admin.address, sender=admin),
        deploy_contract(
            chain,
            ours["ExpiringPoints"],
            "Expiring",
            "X",
            0,
            0,
            0,
            TIME_BASED,
            EPOCH,
            VALIDITY,
            admin.address,
            sender=admin,
        ),
        deploy_contract(chain, base["OZExpiringBaseline"], admin.address, EPOCH * VALIDITY, sender=admin),
    )
    gas: dict[str, tuple[float, float, float]] = {}

    # Batch issue to fresh recipients, the same packed words on all three.
    per: list[float] = []
    for k, token in enumerate(t.all()):
        words = [(int(a, 16) << 96) | (100 + i) for i, a in enumerate(_fresh(chain, f"batch{k}", batch))]
        fn = (
            token.functions.mintBatch(words)
            if token is t.lots
            else token.functions.issueBatch(words, PURCHASE)
        )
        per.append(send(fn, admin) / batch)
    gas[f"batch issue, per fresh recipient (batch of {batch})"] = (per[0], per[1], per[2])

    # Single issue to a fresh holder (the epoch's supply already written by the batch).
    gas["issue, fresh holder"] = tuple(  # type: ignore[assignment]
        _issue(t, tok, _fresh(chain, f"single{k}", 1)[0], 100, admin, send) for k, tok in enumerate(t.all())
    )

    # Transfer between existing holders, the sender's points all of one epoch (one lot).
    holders = _fresh(chain, "holder", 3, fund=True)
    receivers = _fresh(chain, "receiver", 3, fund=True)
    for token, h, r in zip(t.all(), holders, receivers, strict=True):
        _issue(t, token, h, 1_000, admin, send)
        _issue(t, token, r, 1_000, admin, send)
    gas["transfer, to an existing holder"] = tuple(  # type: ignore[assignment]
        send(tok.functions.transfer(r, 10), h) for tok, h, r in zip(t.all(), holders, receivers, strict=True)
    )

    # Redeem through a PerkCatalog on today's and on the expiring token (member's first, no wallet limit);
    # the lot baseline has no catalog: its row is the holder's own burn of the same points.
    card = deploy_contract(
        chain, ours["MembershipCard"], "Card", "C", ["Bronze"], False, "", admin.address, sender=admin
    )
    members = _fresh(chain, "member", 4, fund=True)
    redeemed: list[float] = []
    for k, token in enumerate((t.today, t.expiring)):
        catalog = deploy_contract(
            chain, ours["PerkCatalog"], token.address, card.address, admin.address, sender=admin
        )
        send(token.functions.setRedemptionCatalog(catalog.address), admin)
        stock = catalog.functions.UNLIMITED_STOCK().call()
        send(catalog.functions.addPerk(PERK, PRICE, 0, stock, 0, 0, 0, True), admin)
        warm, member = members[2 * k], members[2 * k + 1]
        for m in (warm, member):
            send(card.functions.enroll(m, 0, 0), admin)
            _issue(t, token, m, 1_000, admin, send)
        send(catalog.functions.redeem(1, 1, PRICE), warm)
        redeemed.append(send(catalog.functions.redeem(1, 1, PRICE), member))
    burner = _fresh(chain, "burner", 1, fund=True)[0]
    _issue(t, t.lots, burner, 1_000, admin, send)
    gas["perk redemption, member's first (lot baseline: the holder's own burn)"] = (
        redeemed[0],
        redeemed[1],
        send(t.lots.functions.burn(PRICE), burner),
    )

    # A transfer spending two epochs (two lots): the holders above get points again one epoch later.
    _travel(chain, _now(chain) + EPOCH)
    for token, h in zip(t.all(), holders, strict=True):
        _issue(t, token, h, 1_000, admin, send)
    gas["transfer spending two epochs (lots), to an existing holder"] = tuple(  # type: ignore[assignment]
        send(tok.functions.transfer(r, 1_500), h)
        for tok, h, r in zip(t.all(), holders, receivers, strict=True)
    )

    # The first transfer after the sender's oldest points expired (their lane dropped, their lot written off).
    _travel(chain, _now(chain) + (VALIDITY - 1) * EPOCH)
    gas["transfer after the sender's oldest points expired"] = tuple(  # type: ignore[assignment]
        send(tok.functions.transfer(r, 10), h) for tok, h, r in zip(t.all(), holders, receivers, strict=True)
    )

    rows = [row(f"expiring: {label} (today {g[0]:,.0f})", g[1], g[2]) for label, g in gas.items()]
    targets = {
        f"batch issue, per fresh recipient (batch of {batch})": ISSUE_TARGET,
        "transfer, to an existing holder": SPEND_TARGET,
        "perk redemption, member's first (lot baseline: the holder's own burn)": SPEND_TARGET,
    }
    checks = []
    for label, factor in targets.items():
        today, expiring, _ = gas[label]
        limit = today * factor
        verdict = "PASS" if expiring <= limit else "FAIL"
        checks.append(
            f"{verdict} expiring {label}: {expiring:,.0f} <= {limit:,.0f} (today {today:,.0f} x {factor})"
        )
    return rows, checks
