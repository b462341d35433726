"""Early access for holders: a perk opens at ``early_start`` for holders of an ERC-721 collection or for
members of a minimum tier, and for everyone at its ``start`` (``PerkCatalog.setEarlyAccess``).

Holding is checked live at each redemption, with no snapshot: a holder who sells the item mid-window
loses early access and the buyer gains it. A collection of loyalty_chain membership cards (last
season's, ``card_collection=True``) is asked through ``memberCard``, so a card on hold after a transfer
does not open the window: the lending rule of the hardened contracts applies to the key as well.

    set_early_access(brand, perk_id, start - 86_400, collection=last_season_card, card_collection=True)
    set_early_access(brand, perk_id, start - 3_600, min_tier="Gold")

A Merkle campaign (``AirdropDistributor.setEarlyAccess``) opens early the same way, to claims for accounts
that hold the collection or whose card of the program has the tier (active, not on hold):

    set_campaign_early_access(brand, campaign_id, start - 86_400, collection=partner_nft)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from ..delivery import TxResult
from ..errors import InputError
from ..values import checked_address, checked_amount

if TYPE_CHECKING:
    from ..client import LoyaltyClient

ZERO_ADDRESS = "0x" + "00" * 20


class CollectionKind(IntEnum):
    """How the catalog asks a collection whether a member holds it (``EarlyAccessKind`` in Solidity)."""

    NONE = 0
    ERC721 = 1
    """Any ERC-721: ``balanceOf(member) > 0``."""
    LOYALTY_CARD = 2
    """A loyalty_chain MembershipCard: a card not on hold after a transfer (its expiry does not matter)."""


@dataclass(frozen=True)
class EarlyAccess:
    """A perk's early access; ``early_start`` 0 means none."""

    perk_id: int
    early_start: int
    collection: str | None
    kind: CollectionKind
    min_tier: str | None
    """The tier route's lowest tier, or None when tiers do not open the window."""

    @property
    def enabled(self) -> bool:
        return self.early_start != 0


def set_early_access(
    client: LoyaltyClient,
    perk_id: int,
    early_start: int,
    *,
    collection: str | None = None,
    card_collection: bool = False,
    min_tier: int | str | None = None,
    key: str | None = None,
) -> TxResult:
    """Open perk ``perk_id`` from ``early_start`` (unix seconds, before its start) to holders of
    ``collection`` (a loyalty card collection if ``card_collection``) and/or members of ``min_tier`` or
    above (perk manager). At least one of the two must be given."""

    def start() -> int:
        return client.perk(perk_id).spec.start

    setting = _setting(
        client, early_start, start, "the perk's", collection, card_collection, min_tier, bits=32,
        open_hint=" (the perk is open from its creation: give it a start first)",
    )  # fmt: skip
    return client.sender.send(client.catalog.functions.setEarlyAccess(perk_id, *setting), key=key)


def clear_early_access(client: LoyaltyClient, perk_id: int) -> TxResult:
    """Remove perk ``perk_id``'s early access: everyone waits for its start (perk manager)."""
    call = client.catalog.functions.setEarlyAccess(checked_amount(perk_id, "perk id"), *_NONE)
    return client.sender.send(call)


def read_early_access(client: LoyaltyClient, perk_id: int) -> EarlyAccess:
    """Perk ``perk_id``'s early access as the catalog holds it."""
    held = client.catalog.functions.earlyAccess(checked_amount(perk_id, "perk id")).call()
    return EarlyAccess(perk_id, *_held(client, held))


@dataclass(frozen=True)
class CampaignEarlyAccess:
    """A Merkle campaign's early access; ``early_start`` 0 means none."""

    campaign_id: int
    early_start: int
    collection: str | None
    kind: CollectionKind
    min_tier: str | None

    @property
    def enabled(self) -> bool:
        return self.early_start != 0


def set_campaign_early_access(
    client: LoyaltyClient,
    campaign_id: int,
    early_start: int,
    *,
    collection: str | None = None,
    card_collection: bool = False,
    min_tier: int | str | None = None,
    key: str | None = None,
) -> TxResult:
    """Open Merkle campaign ``campaign_id`` from ``early_start`` (before its start) to claims for holders of
    ``collection`` and/or members of ``min_tier`` or above (campaign manager). Checked live at each claim."""

    def start() -> int:
        return int(client.airdrop.functions.campaign(checked_amount(campaign_id, "campaign id")).call()[2])

    setting = _setting(
        client, early_start, start, "the campaign's", collection, card_collection, min_tier, bits=40
    )
    return client.sender.send(client.airdrop.functions.setEarlyAccess(campaign_id, *setting), key=key)


def clear_campaign_early_access(client: LoyaltyClient, campaign_id: int) -> TxResult:
    """Remove Merkle campaign ``campaign_id``'s early access: every claim waits for its start."""
    call = client.airdrop.functions.setEarlyAccess(checked_amount(campaign_id, "campaign id"), *_NONE)
    return client.sender.send(call)


def read_campaign_early_access(client: LoyaltyClient, campaign_id: int) -> CampaignEarlyAccess:
    """Merkle campaign ``campaign_id``'s early access as the distributor holds it."""
    held = client.airdrop.functions.earlyAccess(checked_amount(campaign_id, "campaign id")).call()
    return CampaignEarlyAccess(campaign_id, *_held(client, held))


# What both contracts' setEarlyAccess take after the perk or campaign id, and give back from earlyAccess:
# (earlyStart, collection, kind, byTier, minTier).
_NONE = (0, ZERO_ADDRESS, 0, False, 0)


def _setting(
    client: LoyaltyClient,
    early_start: int,
    start: Callable[[], int],
    whose: str,
    collection: str | None,
    card_collection: bool,
    min_tier: int | str | None,
    *,
    bits: int,
    open_hint: str = "",
) -> tuple[int, str, int, bool, int]:
    """The checked setting of a perk's or a campaign's early access; ``start`` reads its start (asked
    only once the options are known to be whole), ``open_hint`` is said when that start is 0."""
    checked_amount(early_start, "early start", bits=bits)
    if collection is None and min_tier is None:
        raise InputError("early access needs holders of a collection, a minimum tier, or both; give one")
    if card_collection and collection is None:
        raise InputError("card_collection needs the collection's address")
    opens = start()
    if early_start >= opens:
        raise InputError(
            f"early start {early_start} must be before {whose} start {opens}"
            + (open_hint if opens == 0 else "")
        )
    address = checked_address(collection, "collection") if collection is not None else ZERO_ADDRESS
    kind = CollectionKind.NONE
    if collection is not None:
        kind = CollectionKind.LOYALTY_CARD if card_collection else CollectionKind.ERC721
    tier = client.tier_index(min_tier) if min_tier is not None else 0
    return early_start, address, int(kind), min_tier is not None, tier


def _held(
    client: LoyaltyClient, held: tuple[int, str, int, bool, int]
) -> tuple[int, str | None, CollectionKind, str | None]:
    """(early start, collection or None, kind, lowest tier's name or None) from a contract's earlyAccess."""
    start, collection, kind, by_tier, tier = held
    return (
        int(start),
        None if int(collection, 16) == 0 else str(collection),
        CollectionKind(int(kind)),
        client.tiers()[int(tier)] if by_tier else None,
    )
