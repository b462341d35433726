"""The request bodies the gateway takes: strict (unknown fields refused) and bounded."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ..values import checked_address

MAX_POINTS = 2**96 - 1


def _address(value: str) -> str:
    return checked_address(value, "address")  # InputError is a ValueError: pydantic names the field


ADDRESS_PATTERN = "^(0x[0-9a-f]{40}|0x[0-9a-fA-F]{40})$"
"""Documented, not enforced by pattern: the validator's messages say what is wrong (length,
prefix, checksum). All-lowercase is accepted; mixed case must carry a valid EIP-55 checksum."""

Address = Annotated[
    str,
    Field(min_length=1, max_length=64, json_schema_extra={"pattern": ADDRESS_PATTERN}),
    AfterValidator(_address),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EventIn(Strict):
    """Something that happened at the shop, for one member."""

    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")
    """The shop's own event id: the idempotency key (the same id twice is stored once)."""
    type: Literal["purchase", "signup", "referral", "birthday", "review", "custom"]
    member: Address
    occurred_at: datetime | None = None
    """When it happened (ISO 8601 with a zone); default: when it was received."""
    value: Decimal | None = Field(default=None, ge=0, le=Decimal(10) ** 12, max_digits=20, decimal_places=6)
    """A purchase's amount in the currency's units, e.g. "12.50"."""
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    referee: Address | None = None
    """For a referral: the new member who was referred (``member`` is the referrer)."""
    points: int | None = Field(default=None, ge=1, le=MAX_POINTS)
    """For a custom event: the points to give."""
    reason: str | None = Field(default=None, min_length=1, max_length=32)

    @model_validator(mode="after")
    def _needed(self) -> EventIn:
        if self.type == "purchase" and (self.value is None or self.currency is None):
            raise ValueError("a purchase needs value and currency")
        if self.type == "referral" and self.referee is None:
            raise ValueError("a referral needs referee (the referred member)")
        if self.type == "custom" and self.points is None:
            raise ValueError("a custom event needs points")
        if self.occurred_at is not None and self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at needs a time zone, e.g. 2026-11-30T10:00:00Z")
        return self


MAX_BATCH_EVENTS = 1000


class EventBatchIn(Strict):
    """Several events, each as ``POST /v1/events`` takes it (each checked on its own)."""

    events: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)


class RedemptionRequestIn(Strict):
    member: Address
    perk_id: int = Field(ge=1, le=2**32)
    quantity: int = Field(default=1, ge=1, le=1000)


class RedemptionIn(Strict):
    typed_data: dict[str, Any]
    """The typed data exactly as /v1/redemptions/requests returned it."""
    signature: str = Field(min_length=130, max_length=132, pattern=r"^(0x)?[0-9a-fA-F]{130}$")
