"""Gas of issue 12's mechanics, each beside the plain operation it builds on, measured in the same run.

Called by ``bench/gas.py`` (its ``send``, ``Row`` and contracts); not run on its own.

* Giving: a donation (points burned through the charity registry, the charity's total updated)
  beside a holder's plain ``burn`` of the same amount on the same token.
* Partner exchange: a conversion (burn in A + issue in B in one transaction) beside the sum of a holder's
  burn in A and an issue in B to an existing holder, each its own transaction; target (issue 12): at most
  that sum + 15,000.
* Early access: a redemption in a perk's early window (by tier; as an ERC-721 holder) beside the same
  perk redeemed after its public start by another member in the same state. Runs last: it moves the
  devnet's clock past the start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.contract import Contract

from loyalty_chain.artifacts import Artifact
from loyalty_chain.chain import Chain
from loyalty_chain.deploy import deploy_contract

REDEEMER_ROLE = keccak(text="REDEEMER_ROLE")
PURCHASE = b"purchase".ljust(32, b"\0")
CHARITY = b"Food Bank".ljust(32, b"\0")
AMOUNT = 10

Send = Callable[[Any, LocalAccount], int]
RowFactory = Callable[..., Any]


def measure_giving(
    chain: Chain,
    ours: dict[str, Artifact],
    points: Contract,
    admin: LocalAccount,
    members: list[LocalAccount],
    send: Send,
    row: RowFactory,
) -> list[Any]:
    """The donation row (needs contracts/CharityRegistry.sol). Both members hold points and have burned
    before (so neither side writes a fresh slot for the holder). A charity's first donation costs what
    later ones do: its slot already holds the active flag, so its total is never a zero -> non-zero write.
    The difference is the registry's part: the call into the token, its REDEEMER_ROLE lookup (2,100) and
    the charity's slot (5,000), the Donated event."""
    donor, burner = members
    registry = deploy_contract(chain, ours["CharityRegistry"], points.address, admin.address, sender=admin)
    send(points.functions.grantRole(REDEEMER_ROLE, registry.address), admin)
    send(registry.functions.addCharity(admin.address, CHARITY), admin)
    for m in members:
        send(points.functions.issue(m.address, 1_000, PURCHASE), admin)
        send(points.functions.burn(1), m)
    send(registry.functions.donate(1, AMOUNT), donor)  # the measured donation is the charity's second
    g_donate = send(registry.functions.donate(1, AMOUNT), donor)
    g_burn = send(points.functions.burn(AMOUNT), burner)
    return [row("donate to a charity (baseline: the holder's own burn)", g_donate, g_burn)]


PERK = b"early".ljust(32, b"\0")
PRICE = 10
FAR = 1_000 * 86_400


def measure_early_access(
    chain: Chain,
    ours: dict[str, Artifact],
    points: Contract,
    card: Contract,
    collection: Contract,
    admin: LocalAccount,
    members: list[LocalAccount],
    send: Send,
    row: RowFactory,
) -> list[Any]:
    """Early-access rows. ``members`` hold an active card of tier 0, points, and an item of ``collection``
    (an ERC-721); each redeems once, each perk's first redemption is a warm-up, so every measured one
    writes the same slots (the perk's sold count, the redemption counter, the member's balance)."""
    by_tier, by_item, warm, after_tier, after_item = members
    catalog = deploy_contract(
        chain, ours["PerkCatalog"], points.address, card.address, admin.address, sender=admin
    )
    send(points.functions.setRedemptionCatalog(catalog.address), admin)  # as deploy_program wires it
    w3 = chain.w3
    now = int(w3.eth.get_block("latest")["timestamp"])
    start = now + FAR
    stock = catalog.functions.UNLIMITED_STOCK().call()
    for perk_id, (collection_address, kind, tier_route) in enumerate(
        (("0x" + "00" * 20, 0, True), (collection.address, 1, False)), start=1
    ):
        send(catalog.functions.addPerk(PERK, PRICE, 0, stock, 0, start, 0, True), admin)
        send(catalog.functions.setEarlyAccess(perk_id, now, collection_address, kind, tier_route, 0), admin)
        send(catalog.functions.redeem(perk_id, 1, PRICE), warm)
    g_tier = send(catalog.functions.redeem(1, 1, PRICE), by_tier)
    g_item = send(catalog.functions.redeem(2, 1, PRICE), by_item)
    w3.provider.make_request("evm_setNextBlockTimestamp", [start + 1])  # type: ignore[arg-type]
    g_after_tier = send(catalog.functions.redeem(1, 1, PRICE), after_tier)
    g_after_item = send(catalog.functions.redeem(2, 1, PRICE), after_item)
    return [
        row(
            "early-window redemption, by tier (baseline: the same perk's redemption after its start)",
            g_tier,
            g_after_tier,
        ),
        row(
            "early-window redemption, ERC-721 holder (baseline: the same perk's redemption after its start)",
            g_item,
            g_after_item,
        ),
    ]


EXCHANGE_MARGIN = 15_000
"""Issue 12: one conversion costs at most a burn in A plus an issue in B plus this."""


def measure_exchange(
    chain: Chain,
    ours: dict[str, Artifact],
    admin: LocalAccount,
    members: list[LocalAccount],
    send: Send,
    row: RowFactory,
) -> list[Any]:
    """Exchange rows: two fresh programs' points, one agreement without a cap and one with a cap. Every
    member already holds points of both (so no side writes a fresh balance) and has burned before."""
    member, capped, burner = members

    def token(name: str) -> Contract:
        args = (name, name, 0, 0, 0, admin.address)
        return deploy_contract(chain, ours["LoyaltyPoints"], *args, sender=admin)

    points_a, points_b = token("A"), token("B")
    issuer = keccak(text="ISSUER_ROLE")
    agreements = []
    for cap, period in ((0, 0), (1_000_000, 30 * 86_400)):
        terms = [100, 80, 0, cap, period, 0]
        args = (points_a.address, points_b.address, admin.address, admin.address, terms)
        agreement = deploy_contract(chain, ours["PartnerExchange"], *args, sender=admin)
        send(points_a.functions.grantRole(REDEEMER_ROLE, agreement.address), admin)
        send(points_b.functions.grantRole(issuer, agreement.address), admin)
        send(agreement.functions.setOpen(0, True), admin)
        send(agreement.functions.setOpen(1, True), admin)
        agreements.append(agreement)
    for m in members:
        for p in (points_a, points_b):
            send(p.functions.issue(m.address, 10_000, PURCHASE), admin)
    send(agreements[0].functions.convert(100), member)  # warm-up: the member has converted before
    g_plain = send(agreements[0].functions.convert(1_000), member)
    g_capped_first = send(agreements[1].functions.convert(1_000), capped)
    g_capped_later = send(agreements[1].functions.convert(1_000), capped)
    g_burn = send(points_a.functions.burn(1_000), burner)
    g_issue = send(points_b.functions.issue(burner.address, 800, PURCHASE), admin)
    base = g_burn + g_issue
    return [
        row("exchange convert, no cap (baseline: burn in A + issue in B)", g_plain, base),
        row(
            "exchange convert, capped, member's first ever (baseline: burn in A + issue in B)",
            g_capped_first,
            base,
        ),
        row(
            "exchange convert, capped, later in the period (baseline: burn in A + issue in B)",
            g_capped_later,
            base,
        ),
    ]


def check_mechanics(rows: list[Any]) -> list[str]:
    """Issue 12's exchange target: each conversion <= burn in A + issue in B + 15,000."""
    out = []
    for r in rows:
        if r.operation.startswith("exchange convert") and r.baseline:
            limit = r.baseline + EXCHANGE_MARGIN
            verdict = "PASS" if r.ours <= limit else "FAIL"
            margin = f"(baseline + {EXCHANGE_MARGIN:,})"
            out.append(f"{verdict} {r.operation}: ours {r.ours:,.0f} <= {limit:,.0f} {margin}")
    return out
