"""What a program report holds: plain frozen records, turned into JSON by :meth:`ProgramReport.to_json`.

Amounts are in the token's base units (``decimals`` says how many places a whole point has); times
are unix seconds (UTC); shares are fractions between 0 and 1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class PerkStats:
    perk_id: int
    title: str
    redemptions: int
    units: int
    points: int
    members: int
    """Distinct wallets that redeemed it."""


@dataclass(frozen=True)
class CampaignStats:
    campaign_id: int
    kind: str
    """``points`` or ``cards``."""
    reason: str
    start: int
    end: int
    closed_early: bool
    claims: int
    claimed: int
    """Points claimed (points campaigns) or cards enrolled (card campaigns)."""
    leaves: int | None
    """Leaves of its tree, when the tree was published from here (else unknown)."""
    total: int | None
    """Points (or cards) its tree offers, when known."""

    @property
    def claim_rate(self) -> float | None:
        return self.claims / self.leaves if self.leaves else None


@dataclass(frozen=True)
class Cohort:
    month: str
    """``YYYY-MM``: the month of the wallets' first activity."""
    size: int
    retention: tuple[float, ...]
    """Share of the cohort active 1, 2, … months later (as far as the report's range goes)."""


@dataclass(frozen=True)
class Series:
    """Per period (day or month, UTC): points issued by reason, redeemed, and active wallets."""

    period: str
    """``day`` or ``month``."""
    labels: tuple[str, ...]
    issued_by_reason: dict[str, tuple[int, ...]]
    redeemed: tuple[int, ...]
    active: tuple[int, ...]


@dataclass(frozen=True)
class ProgramReport:
    program: str
    chain_id: int
    since: int
    until: int
    first_block: int
    last_block: int
    """The blocks the range covers (as far as the cache knows)."""
    indexed_to: int
    """The cache's cursor: every block up to here is in the report's data."""
    decimals: int
    symbol: str
    # members and holders at ``until``
    members: int
    """Card holders."""
    members_per_tier: dict[str, int]
    expired_cards: int
    point_holders: int
    active_30d: int
    active_90d: int
    """Wallets with any earn, redemption or transfer in the 30 / 90 days up to ``until``."""
    # points in the range
    issued: int
    issued_by_reason: dict[str, int]
    redeemed: int
    redemptions: int
    burned_other: int
    """Burned by holders themselves, not through the catalog nor as donations."""
    expired: int
    """Breakage by expiry (0 while the contracts have no expiry event to read)."""
    outstanding: int
    """At ``until``: issued minus burned, all time."""
    value_per_point: str
    """Currency per whole point, as given (a decimal)."""
    liability: str
    """``outstanding`` in whole points × ``value_per_point``."""
    redemption_rate: float | None
    """Redeemed / issued in the range."""
    avg_days_earn_to_redeem: float | None
    """Mean over the range's redemptions of the days since the member's first earn."""
    new_members: int
    cards_ended: int
    """Cards revoked or cancelled in the range."""
    tier_moves: dict[str, int]
    """``"Bronze→Silver": n`` for each change in the range."""
    p2p_transfers: int
    p2p_volume: int
    p2p_share: float | None
    """P2P volume / points issued in the range."""
    velocity: float | None
    """P2P volume in the range / outstanding at ``until``."""
    top_earners: list[tuple[str, int]]
    perks: list[PerkStats]
    campaigns: list[CampaignStats]
    cohorts: list[Cohort]
    series: Series
    donated: int = 0
    """Points donated to the program's charities in the range (burned; not in ``burned_other``)."""
    donations: int = 0
    donated_per_charity: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    """Time spent computing it (not counting the sync)."""
    notes: list[str] = field(default_factory=list)

    def whole(self, amount: int) -> Decimal:
        """Base units as whole points."""
        return Decimal(amount).scaleb(-self.decimals)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["campaigns"] = [{**asdict(c), "claim_rate": c.claim_rate} for c in self.campaigns]
        data["top_earners"] = [{"address": a, "earned": v} for a, v in self.top_earners]
        return data
