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
    """What the admin sets for a perk."""

    title: str
    price: int
    min_tier: int = 0
    stock: int = UNLIMITED
    per_wallet: int = 0
    """0 = no per-wallet limit."""
    start: int = 0
    end: int = 0
    """0 = the sale never ends."""
    active: bool = True


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
