"""Reading the values people type: addresses and amounts of points, checked exactly.

One place for the rules, shared by the CSV reader, the client, the airdrop and the command line: a mixed-case
address must carry a valid EIP-55 checksum (all-lowercase is accepted), the zero address is never
a recipient, and an amount is whole points converted to base units exactly or refused.
"""

from __future__ import annotations

import re
from functools import lru_cache

from eth_typing import ChecksumAddress, HexAddress, HexStr
from eth_utils import keccak

from .errors import InputError

DEFAULT_MAX_AMOUNT = 2**96 - 1
"""The largest amount one batch entry can carry (amounts are packed into 96 bits)."""

_ZERO_ADDRESS = "0x" + "0" * 40
_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_HEX_DIGITS = re.compile(r"[0-9a-fA-F]*")
_AMOUNT = re.compile(r"(?P<sign>-?)(?P<whole>[0-9]*)(?:\.(?P<fraction>[0-9]*))?")


@lru_cache(maxsize=16384)
def checksum_address(address: str) -> ChecksumAddress:
    """``address`` (0x and 40 hex digits, not checked here) in its EIP-55 form: one keccak.

    eth_utils' ``to_checksum_address`` validates through several layers first: ~60 us a call against
    ~15 here (nothing for one remembered); an airdrop's recipients pass here several times (the CSV,
    the plan, the journal, the check on chain), as do the catalog, the relayer and a returning member.
    """
    lower = address[2:].lower()
    hashed = keccak(text=lower).hex()
    digits = (c.upper() if h in "89abcdef" else c for c, h in zip(lower, hashed[:40], strict=True))
    return ChecksumAddress(HexAddress(HexStr("0x" + "".join(digits))))


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
    checksummed = checksum_address(value)
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


# -- values handed in from Python ----------------------------------------------------------------


def checked_address(value: str, what: str = "address") -> str:
    """A checksummed address (see :func:`loyalty_chain.values.parse_address`)."""
    if not isinstance(value, str):
        raise InputError(f"{what} must be a 0x-prefixed hex string, got {value!r}")
    return str(parse_address(value, what))


def checked_amount(value: int, what: str = "amount", *, allow_zero: bool = False, bits: int = 256) -> int:
    """A whole number of base units that fits the contract's field (``bits`` wide)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{what} must be a whole number of base units, got {value!r}")
    if value < 0:
        raise InputError(f"{what} must not be negative, got {value}")
    if value == 0 and not allow_zero:
        raise InputError(f"{what} must be positive, got 0")
    if value >= 2**bits:
        raise InputError(f"{what} {value} does not fit in {bits} bits")
    return value


def reason_code(reason: str | bytes) -> bytes:
    """A reason as the contracts store it (``bytes32``): its UTF-8, right-padded with zeros."""
    raw = reason.encode("utf-8") if isinstance(reason, str) else bytes(reason)
    if len(raw) > 32:
        raise InputError(
            f"reason {reason!r} is {len(raw)} bytes of UTF-8, longer than 32 bytes: a reason holds at most 32"
        )
    return raw.ljust(32, b"\0")


def reason_text(code: bytes | str) -> str:
    """A ``bytes32`` reason (or title) back as text."""
    raw = bytes.fromhex(code[2:]) if isinstance(code, str) else code
    return raw.rstrip(b"\0").decode(errors="replace")
