"""Expiring points (ERC-7818, contracts/ExpiringPoints.sol): the terms a program chooses at deploy, a member's
next expiry, and the points that expired unused (breakage).

A program's points expire when its record's options carry ``expiry`` (an :class:`ExpiryTerms`): its points
token is then ``ExpiringPoints`` instead of ``LoyaltyPoints`` (recorded under the same key). Epochs are a
fixed number of seconds (``30d``) or blocks (``1000blocks``) counted from zero; points issued in epoch ``e``
are usable until epoch ``e + validity`` begins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import InputError

if TYPE_CHECKING:
    from web3.contract import Contract

    from .chain import Chain
    from .registry import ProgramRecord

__all__ = [
    "EXPIRING_CONTRACT",
    "ExpiryTerms",
    "NextExpiry",
    "expired_points",
    "max_validity",
    "next_expiry",
    "parse_epoch",
]

EXPIRING_CONTRACT = "ExpiringPoints"

LANE_BITS_TOTAL = 224
"""Bits of a holder's slot that hold its epoch balances (ExpiringPoints.LANE_BITS_TOTAL)."""

MIN_LANE_POINTS = 10**9
"""Whole points one epoch balance must hold (ExpiringPoints.MIN_LANE_POINTS)."""

MAX_EPOCHS_SCANNED = 10_000
"""Most expired epochs :func:`expired_points` reads one by one; a program with more (epochs of seconds
running for hours) is refused with a hint rather than scanned for minutes."""

_UNITS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800}
_EPOCH = re.compile(r"(\d+)\s*(s|m|h|d|w|b|blocks?)?", re.IGNORECASE)


def parse_epoch(text: str) -> tuple[str, int]:
    """``("time", seconds)`` or ``("blocks", count)`` from ``30d``, ``12h``, ``90m``, ``3600`` (seconds),
    ``1000blocks`` or ``1000b``."""
    match = _EPOCH.fullmatch(text.strip())
    if not match or int(match.group(1)) == 0:
        raise InputError(
            f"epoch length {text!r} is not a positive duration; give e.g. 30d, 12h, 90m, 3600 (seconds) "
            "or 1000blocks"
        )
    count, unit = int(match.group(1)), (match.group(2) or "s").lower()
    if unit.startswith("b"):
        return "blocks", count
    return "time", count * _UNITS[unit]


def max_validity(decimals: int) -> int:
    """The longest validity (epochs) a token of ``decimals`` supports (ExpiringPoints.maxValidityFor)."""
    if decimals > 58:
        return 0
    needed = MIN_LANE_POINTS * int(10**decimals)
    return LANE_BITS_TOTAL // needed.bit_length()


@dataclass(frozen=True)
class ExpiryTerms:
    """How a program's points expire: epochs of ``epoch_length`` seconds (``epoch_type`` "time") or blocks
    ("blocks"); a point is usable for ``validity`` epochs, the one it was issued in included."""

    epoch_length: int
    validity: int
    epoch_type: str = "time"

    @classmethod
    def parse(cls, epoch: str, validity: int) -> ExpiryTerms:
        """From the command line's ``--expiry-epoch 30d --validity 4``."""
        epoch_type, length = parse_epoch(epoch)
        return cls(length, validity, epoch_type)

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> ExpiryTerms | None:
        """The terms a record's options carry, or None for points that never expire."""
        raw = options.get("expiry")
        if not isinstance(raw, dict):
            return None
        return cls(int(raw["epoch_length"]), int(raw["validity"]), str(raw.get("epoch_type", "time")))

    @property
    def type_code(self) -> int:
        """The constructor's ``epochType``: 0 blocks, 1 seconds (IERC7818.EPOCH_TYPE)."""
        return 0 if self.epoch_type == "blocks" else 1

    def validate(self, decimals: int) -> None:
        if self.epoch_type not in ("time", "blocks"):
            raise InputError(f"epoch type must be 'time' or 'blocks', got {self.epoch_type!r}")
        if self.epoch_length <= 0:
            raise InputError(f"epoch length must be positive, got {self.epoch_length}")
        longest = max_validity(decimals)
        if not 1 <= self.validity <= longest:
            raise InputError(
                f"validity {self.validity} epochs does not fit: at {decimals} decimals points can be valid "
                f"for 1..{longest} epochs (each member's live epochs share one storage slot); choose a "
                "longer epoch and fewer of them"
            )

    def describe(self) -> str:
        unit = "blocks" if self.epoch_type == "blocks" else "s"
        return f"expire after {self.validity} epochs of {self.epoch_length:,} {unit}"


@dataclass(frozen=True)
class NextExpiry:
    """A member's points closest to expiry: ``amount`` base units, unusable from ``expires_at`` (unix
    seconds, or a block number when epochs are counted in blocks)."""

    amount: int
    expires_at: int
    in_blocks: bool = False


def next_expiry(points: Contract, holder: str, terms: ExpiryTerms) -> NextExpiry | None:
    """What ``holder``'s next expiry is (ERC-7818's optional ``getNearestExpiryOf``), or None if nothing
    it holds can expire."""
    amount, at = points.functions.getNearestExpiryOf(holder).call()
    if int(amount) == 0:
        return None
    return NextExpiry(int(amount), int(at), terms.epoch_type == "blocks")


def expired_points(chain: Chain, record: ProgramRecord) -> int:
    """Points of ``record``'s program that expired unused (breakage), to date: every expired epoch's
    unspent supply since the program was deployed. 0 for a program whose points never expire."""
    terms = ExpiryTerms.from_options(record.options)
    if terms is None:
        return 0
    from .artifacts import contract_at

    points = contract_at(chain.w3, EXPIRING_CONTRACT, record.addresses["LoyaltyPoints"])
    if terms.epoch_type == "blocks":
        first_clock = record.block
    else:
        first_clock = int(chain.w3.eth.get_block(record.block)["timestamp"])
    first = first_clock // terms.epoch_length
    oldest_live = int(points.functions.currentEpoch().call()) - terms.validity + 1
    if oldest_live - first > MAX_EPOCHS_SCANNED:
        raise InputError(
            f"program {record.name!r} has {oldest_live - first:,} expired epochs, more than the "
            f"{MAX_EPOCHS_SCANNED:,} a report reads one by one; use longer epochs for a real program"
        )
    return sum(int(points.functions.epochSupply(e).call()) for e in range(first, oldest_live))
