"""``GET /v1/members/{address}`` and ``GET /v1/perks``: what a wallet shows (public, CORS).

Eligibility is told per perk with every reason it cannot be redeemed now, each with a code a wallet
can translate (inactive, window, card, tier, stock, limit, balance) and a sentence."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path

from ..records import UNLIMITED, Card, Perk
from ..values import checked_address
from .http import ApiError, gateway
from .models import ADDRESS_PATTERN
from .service import Gateway

router = APIRouter(tags=["members"])

ADDRESS = Path(
    min_length=1,
    max_length=64,
    description="The member's address (EIP-55 checksum if mixed case)",
    json_schema_extra={"pattern": ADDRESS_PATTERN},
)


def member_address(address: str) -> str:
    try:
        return checked_address(address, "address")
    except ValueError as exc:
        raise ApiError(422, "address", str(exc)) from None


def reasons(
    gw: Gateway, perk: Perk, member: str, card: Card | None, balance: int, now: int, quantity: int = 1
) -> list[dict[str, str]]:
    """Why ``member`` cannot redeem ``quantity`` of ``perk`` now (empty: they can)."""
    spec, tiers = perk.spec, gw.client.tiers()
    out: list[dict[str, str]] = []

    def no(code: str, message: str) -> None:
        out.append({"code": code, "message": message})

    if not spec.active:
        no("inactive", "the perk is not offered now")
    if spec.start and now < spec.start:
        no("window", f"the perk opens at {spec.start} (unix time)")
    if spec.end and now > spec.end:
        no("window", f"the perk closed at {spec.end} (unix time)")
    if card is None or not card.active:
        no("card", "the member has no active card" + (" (it expired)" if card else ""))
    elif card.tier < spec.min_tier:
        no("tier", f"needs tier {tiers[spec.min_tier]}; the member is {card.tier_name}")
    if spec.stock != UNLIMITED and spec.stock - perk.sold < quantity:
        no("stock", f"{max(0, spec.stock - perk.sold)} left")
    if spec.per_wallet:
        taken = int(gw.client.catalog.functions.redeemedBy(perk.perk_id, member).call())
        if taken + quantity > spec.per_wallet:
            no("limit", f"at most {spec.per_wallet} per member; this member has redeemed {taken}")
    if balance < spec.price * quantity:
        no("balance", f"costs {spec.price * quantity} points; the member has {balance}")
    return out


def perk_json(gw: Gateway, perk: Perk) -> dict[str, Any]:
    spec = perk.spec
    info = gw.rules.perks.get(perk.perk_id)
    return {
        "perk_id": perk.perk_id,
        "title": spec.title,
        "description": info.description if info else "",
        "image": info.image if info else "",
        "price": spec.price,
        "min_tier": gw.client.tiers()[spec.min_tier],
        "stock": None if spec.stock == UNLIMITED else spec.stock,
        "left": None if spec.stock == UNLIMITED else max(0, spec.stock - perk.sold),
        "per_member": spec.per_wallet or None,
        "starts": spec.start or None,
        "ends": spec.end or None,
        "active": spec.active,
    }


@router.get("/v1/perks")
def list_perks(gw: Gateway = Depends(gateway)) -> list[dict[str, Any]]:  # noqa: B008
    """The catalog: title, description, image, price, tier, stock and window of every perk."""
    return [perk_json(gw, p) for p in gw.client.perks()]


@router.get("/v1/members/{address}")
def get_member(address: str = ADDRESS, gw: Gateway = Depends(gateway)) -> dict[str, Any]:  # noqa: B008
    """A member's card, tier, expiry, balance, and every perk with whether they can redeem it now."""
    member = member_address(address)
    card = gw.client.card_of(member)
    balance = gw.client.balance(member)
    now = gw.client._chain_time()
    perks = []
    for perk in gw.client.perks():
        why = reasons(gw, perk, member, card, balance, now)
        perks.append({**perk_json(gw, perk), "can_redeem": not why, "why_not": why})
    return {
        "address": member,
        "card": None
        if card is None
        else {
            "token_id": card.token_id,
            "tier": card.tier_name,
            "tiers": list(gw.client.tiers()),
            "valid_until": card.valid_until or None,
            "active": card.active,
        },
        "balance": balance,
        "perks": perks,
    }
