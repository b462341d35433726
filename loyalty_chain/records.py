"""The small typed records the client takes and gives back, instead of raw receipts."""

from __future__ import annotations

from dataclasses import dataclass

from .sender import TxResult

UNLIMITED = 2**32 - 1
"""PerkCatalog.UNLIMITED_STOCK: a perk whose stock never runs out."""


@dataclass(frozen=True)
class Card:
    """A member's card as the contract sees it now."""

    holder: str
    token_id: int
    tier: int
    tier_name: str
    valid_until: int
    """Unix seconds; 0 = never expires."""
    active: bool


@dataclass(frozen=True)
class PerkSpec:
    """What the admin sets for a perk: ``PerkSpec("Free latte", price=120, per_wallet=2)``."""

    title: str
    """What members see; at most 32 bytes of UTF-8."""
    price: int
    """Points per unit, in base units (with ``decimals=0``, whole points)."""
    min_tier: int = 0
    """Lowest tier (index, 0 = the first) whose card may redeem it; a tier name goes through
    ``LoyaltyClient.tier_index("Gold")``."""
    stock: int = UNLIMITED
    """Units left to sell. The default, :data:`UNLIMITED` (2**32 - 1 = 4294967295, the contract's
    UNLIMITED_STOCK), means the stock never runs out and is never counted down."""
    per_wallet: int = 0
    """Most units one wallet may redeem over the perk's life; 0 = no per-wallet limit."""
    start: int = 0
    """Unix seconds when redemptions open; 0 = at once."""
    end: int = 0
    """Unix seconds after which redemptions close; 0 = the sale never ends."""
    active: bool = True
    """False pauses the perk without deleting it (``edit_perk`` switches it back on)."""


@dataclass(frozen=True)
class Perk:
    perk_id: int
    spec: PerkSpec
    sold: int


@dataclass(frozen=True)
class Redemption:
    """A redemption the brand's back office fulfils against ``redemption_id``."""

    redemption_id: int
    perk_id: int
    member: str
    quantity: int
    points_burned: int
    tx: TxResult


@dataclass(frozen=True)
class Enrolment:
    member: str
    token_id: int
    tier: int
    tx: TxResult
