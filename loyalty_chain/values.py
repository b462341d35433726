"""Reading the values people type: addresses and amounts of points, checked exactly.

One place for the rules, shared by the CSV reader, the client and the command line: a mixed-case
address must carry a valid EIP-55 checksum (all-lowercase is accepted), the zero address is never
a recipient, and an amount is whole points converted to base units exactly or refused.
"""

from __future__ import annotations

import re

from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address

from .errors import InputError

DEFAULT_MAX_AMOUNT = 2**96 - 1
"""The largest amount one batch entry can carry (amounts are packed into 96 bits)."""

_ZERO_ADDRESS = "0x" + "0" * 40
_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_HEX_DIGITS = re.compile(r"[0-9a-fA-F]*")
_AMOUNT = re.compile(r"(?P<sign>-?)(?P<whole>[0-9]*)(?:\.(?P<fraction>[0-9]*))?")


def parse_address(raw: str, what: str = "address") -> ChecksumAddress:
    """A checksummed address from text; a mixed-case address must carry a valid EIP-55 checksum."""
    value = raw.strip()
    if not value:
        raise InputError(f"{what} is empty")
    if not _HEX_ADDRESS.fullmatch(value):
        body = value[2:] if value[:2] in ("0x", "0X") else value
        if value[:2] == "0X" and _HEX_DIGITS.fullmatch(body) and len(body) == 40:
            raise InputError(f"{what} '{value}' must start with a lowercase 0x")
        elif value[:2] != "0x" and _HEX_DIGITS.fullmatch(value) and len(value) == 40:
            raise InputError(f"{what} '{value}' must start with 0x")
        elif _HEX_DIGITS.fullmatch(body):
            raise InputError(f"{what} '{value}' has {len(body)} hex digits, not 40")
        else:
            raise InputError(f"{what} '{value}' is not an address (0x followed by 40 hex digits)")
    checksummed = to_checksum_address(value.lower())
    body = value[2:]
    if body != body.lower() and body != body.upper() and value != checksummed:
        raise InputError(
            f"{what} '{value}' has a bad checksum (did you mean {checksummed}? check the digits first: "
            "a bad checksum usually means a typo)"
        )
    if checksummed == _ZERO_ADDRESS:
        raise InputError(f"{what} '{value}' is the zero address")
    return checksummed


def parse_amount(raw: str, decimals: int, max_amount: int = DEFAULT_MAX_AMOUNT, what: str = "amount") -> int:
    """Whole points as written ("12", "1.5") to base units (times 10**decimals), exactly or not at all."""
    value = raw.strip()
    if not value:
        raise InputError(f"{what} is empty")
    match = _AMOUNT.fullmatch(value)
    if match is None or not (match["whole"] or match["fraction"]):
        raise InputError(f"{what} '{value}' is not a number")
    if match["sign"]:
        raise InputError(f"{what} '{value}' is negative")
    whole = match["whole"].lstrip("0")
    fraction = (match["fraction"] or "").rstrip("0")
    if len(fraction) > decimals:
        raise InputError(
            f"{what} '{value}' has a fractional part, but points have no decimals"
            if decimals == 0
            else f"{what} '{value}' has more than {decimals} decimal place(s)"
        )
    if len(whole) + decimals > len(str(max_amount)):  # certainly too big; spares int() a huge string
        raise InputError(f"{what} '{value}' is more than the maximum {max_amount} base units")
    units = int((whole or "0") + fraction.ljust(decimals, "0"))
    if units == 0:
        raise InputError(f"{what} '{value}' is zero")
    if units > max_amount:
        raise InputError(f"{what} '{value}' is {units} base units, more than the maximum {max_amount}")
    return units
