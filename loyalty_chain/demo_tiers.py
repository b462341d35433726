"""The demo's tiers part (issue 12): the program's tiers start to follow purchases, and a Silver member
crosses into Gold by buying coffee, the card moving in the purchase's own transaction.

Runs last (after the mechanics), so the tiers the earlier steps read are those set at enrolment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .client import LoyaltyClient
from .mechanics.tiers import TierPeriod, Tiers

Say = Callable[[str], None]

THRESHOLDS = {"Silver": 1_000, "Gold": 3_000}
"""Whole purchase points per calendar year."""
PURCHASES = (1_100, 1_100, 1_100)
"""Points of each purchase (3,300 in all: Gold on the third)."""


@dataclass(frozen=True)
class TiersDemo:
    member: str
    start_tier: str
    end_tier: str
    purchases: int
    qualifying: int
    crossing_purchase: int
    """Which purchase (1-based) moved the card; 0 if none did."""
    crossing_gas: int
    gas_used: int
    transactions: int


def run_tiers(brand: LoyaltyClient, roster: Sequence[tuple[str, str]], say: Say) -> TiersDemo:
    """Enable tiers on the brand's program, then buy until a Silver member of ``roster`` reaches Gold."""
    tiers = Tiers(brand)
    tiers.enable(THRESHOLDS, TierPeriod.parse("year"), ["purchase"])
    say(
        "tiers now follow purchases: Silver at 1,000 and Gold at 3,000 purchase points per calendar year "
        "(welcome points, transfers and donations do not count)"
    )
    member = next(address for address, tier in roster if tier == "Silver")
    start = brand.card_of(member)
    gas, crossing, crossing_gas = 0, 0, 0
    for n, amount in enumerate(PURCHASES, start=1):
        result = brand.issue(member, amount, "purchase")
        gas += result.gas_used
        moved = [ev for ev in result.events if ev.name == "TierChanged"]
        progress = tiers.progress(member)
        if moved and not crossing:
            crossing, crossing_gas = n, result.gas_used
        step = (
            f"card {start.tier_name if start else '?'} -> {progress.card_tier_name} in this purchase "
            f"({result.gas_used:,} gas)"
            if moved
            else f"{progress.points_needed:,} more to {progress.next_tier_name}"
        )
        say(f"purchase {n}: {amount:,} points, {progress.qualifying:,} this year: {step}")
    final = tiers.progress(member)
    return TiersDemo(
        member=member,
        start_tier=start.tier_name if start else "",
        end_tier=final.card_tier_name or "",
        purchases=len(PURCHASES),
        qualifying=final.qualifying,
        crossing_purchase=crossing,
        crossing_gas=crossing_gas,
        gas_used=gas,
        transactions=len(PURCHASES) + 2,  # the role on the card, configureTiers
    )
