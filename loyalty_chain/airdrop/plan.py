"""Planning a push airdrop: validated recipients, and batches sized by gas. Nothing here talks to a chain.

``load_recipients`` reads and checks a whole CSV; ``gas_plan`` says how many recipients fit in one
transaction; ``plan_batches`` groups recipients by reason and cuts the groups into batches;
``batch_calldata`` encodes a batch as the ``issueBatch`` / ``enrollBatch`` call; ``windows`` groups
sized batches into what may be in flight at once. :mod:`loyalty_chain.airdrop` runs the plan.

Batches are sized by gas, not by count: as many recipients as fit in :data:`BATCH_GAS_SAFETY_MARGIN`
below the smaller of the block gas limit and the EIP-7825 per-transaction cap
(:data:`~loyalty_chain.chain.TX_GAS_CAP`), each counted at a documented upper bound (the constants
below). The runner then estimates every batch on the node and halves it until the estimate fits,
so a network whose gas schedule differs from the bounds still gets batches that mine.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from eth_abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector

from ..chain import TX_GAS_CAP
from ..csv_columns import ColumnMap, Reject
from ..errors import ChainError, CsvValidationError, InputError
from ..recipients import read_cards, read_points
from ..values import reason_code

Kind = Literal["points", "cards"]

# -- gas sizing: named bounds ---------------------------------------------------------------------

POINTS_GAS_PER_RECIPIENT = 25_000
"""Upper bound of one fresh recipient in ``LoyaltyPoints.issueBatch``: a zero→non-zero balance slot
(SSTORE 20,000 + cold access 2,100), the ERC-20 Transfer log (1,756), one 32-byte calldata word
(≤ 512) and the loop (~300): 24,668. Measured: 24,643 marginal (anvil; 24,663 per recipient of a
1,000 batch in BENCHMARKS.md "Gas"). An existing holder costs ~17,000 less."""

POINTS_BATCH_OVERHEAD_GAS = 60_000
"""Upper bound of an ``issueBatch`` transaction beyond its recipients: 21,000 intrinsic, the role and
pause checks (cold reads), the total supply written once (22,100 if it was zero), the PointsIssued log
(~2,000) and the calldata head. Measured: ~50,900 on the token's first issue."""

CARDS_GAS_PER_RECIPIENT = 28_500
"""Upper bound of one new member in ``MembershipCard.enrollBatch``: one fresh record slot (22,100),
the ERC-721 Transfer log (1,875), MemberEnrolled (~2,000), an ERC-5192 Locked log in soulbound mode
(~1,000), calldata and checks. Measured: 27,146 (transferable cards). A wallet whose own card id is
held by another wallet costs ~50,000 more; the per-batch estimate catches that."""

CARDS_BATCH_OVERHEAD_GAS = 45_000
"""Upper bound of an ``enrollBatch`` transaction beyond its members: 21,000 intrinsic, the role check
and the calldata head. Measured: ~24,300."""

BATCH_GAS_SAFETY_MARGIN = 0.10
"""Share of min(block gas limit, EIP-7825 cap) left unused by a batch: room for gas-schedule changes
between networks and for a block gas limit that drops while the airdrop runs."""

GAS_LIMIT_HEADROOM = 0.05
"""A batch's gas limit is its eth_estimateGas plus this share (never above the per-transaction cap):
state may change between estimate and inclusion (for these batches it only gets cheaper)."""

MAX_BATCHES_IN_FLIGHT = 16
"""Most batch transactions broadcast before their receipts are awaited (geth keeps 16 executable
transactions per account in its pool by default)."""


@dataclass(frozen=True)
class KindSpec:
    """What differs between a points and a cards airdrop."""

    name: Kind
    contract: str
    gas_per_recipient: int
    batch_overhead: int
    value_column: str


KINDS: dict[str, KindSpec] = {
    "points": KindSpec(
        "points", "LoyaltyPoints", POINTS_GAS_PER_RECIPIENT, POINTS_BATCH_OVERHEAD_GAS, "amount"
    ),
    "cards": KindSpec("cards", "MembershipCard", CARDS_GAS_PER_RECIPIENT, CARDS_BATCH_OVERHEAD_GAS, "tier"),
}


@dataclass(frozen=True)
class Recipient:
    """One validated row: ``value`` is the amount in base units (points) or the tier index (cards)."""

    line: int
    address: str
    value: int
    reason: str = ""


@dataclass(frozen=True)
class Batch:
    """Recipients that go in one transaction; all share one reason."""

    reason: str
    recipients: tuple[Recipient, ...]


@dataclass(frozen=True)
class GasPlan:
    """The gas figures batches are sized by."""

    block_gas_limit: int
    tx_gas_cap: int
    """The most one transaction may use here: min(EIP-7825 cap, block gas limit)."""
    budget: int
    """What a batch is sized to: ``tx_gas_cap`` less the safety margin."""
    per_recipient: int
    overhead: int
    max_recipients: int


@dataclass(frozen=True)
class SizedBatch:
    """A batch with its calldata, its gas estimate and the gas limit it will be signed with."""

    batch: Batch
    data: bytes
    estimate: int
    gas_limit: int


# -- CSV → validated recipients ------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedFile:
    """A CSV read for an airdrop: its recipients, and what was merged or left out (``skip_invalid``)."""

    recipients: list[Recipient]
    data_rows: int
    """Non-blank rows after the header."""
    merged: int
    """Duplicate rows summed into an earlier row of the same address."""
    rejects: list[Reject]
    delimiter: str


def load_recipients(
    kind: Kind,
    csv_path: str | os.PathLike[str],
    *,
    decimals: int = 0,
    tiers: Sequence[str] = (),
    default_reason: str = "",
    merge: bool = True,
    columns: ColumnMap | None = None,
) -> list[Recipient]:
    """Every row of the CSV, validated whole: CsvValidationError lists every bad row, nothing is sent.

    Points amounts are whole points converted with ``decimals``; card tiers are names (or indices)
    of ``tiers``. A points row's reason (or else ``default_reason``) must fit in 32 bytes.
    """
    return load_recipient_file(
        kind,
        csv_path,
        decimals=decimals,
        tiers=tiers,
        default_reason=default_reason,
        merge=merge,
        columns=columns,
    ).recipients


def load_recipient_file(
    kind: Kind,
    csv_path: str | os.PathLike[str],
    *,
    decimals: int = 0,
    tiers: Sequence[str] = (),
    default_reason: str = "",
    merge: bool = True,
    columns: ColumnMap | None = None,
    skip_invalid: bool = False,
) -> LoadedFile:
    """:func:`load_recipients`, keeping the counts; with ``skip_invalid`` bad rows become rejects."""
    if kind == "cards":
        cards = read_cards(csv_path, tiers=tiers, columns=columns, skip_invalid=skip_invalid)
        return LoadedFile([Recipient(row.line, str(row.address), row.tier) for row in cards.rows],
                          cards.data_rows, 0, cards.rejects, cards.delimiter)  # fmt: skip
    reason_code(default_reason)
    read = read_points(csv_path, decimals=decimals, merge=merge, columns=columns, skip_invalid=skip_invalid)
    rejects = list(read.rejects)
    too_long = [(row.line, _reason_problem(row.reason)) for row in read.rows if _reason_problem(row.reason)]
    if too_long and not skip_invalid:  # a merged row's reasons are joined with "; " and may outgrow 32 bytes
        raise CsvValidationError(str(csv_path), _merge_problems(too_long))
    bad_lines = {line for line, _ in too_long}
    rejects += [Reject(line, (), why) for line, why in too_long]
    recipients = [
        Recipient(row.line, str(row.address), row.amount, row.reason or default_reason)
        for row in read.rows
        if row.line not in bad_lines
    ]
    return LoadedFile(
        recipients, read.data_rows, read.merged, sorted(rejects, key=lambda r: r.line), read.delimiter
    )


def _reason_problem(reason: str | None) -> str:
    size = len((reason or "").encode("utf-8"))
    return f"reason {reason!r} is {size} bytes of UTF-8; at most 32 fit in a bytes32" if size > 32 else ""


def _merge_problems(*lists: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
    """One (line, reasons) per line, in line order."""
    by_line: dict[int, list[str]] = {}
    for problems in lists:
        for line, why in problems:
            if why not in by_line.setdefault(line, []):
                by_line[line].append(why)
    return [(line, "; ".join(whys)) for line, whys in sorted(by_line.items())]


# -- recipients → batches -------------------------------------------------------------------------


def gas_plan(kind: KindSpec, block_gas_limit: int, batch_size: int | None = None) -> GasPlan:
    """How many recipients fit in one transaction under this block gas limit and the EIP-7825 cap."""
    if batch_size is not None and batch_size < 1:
        raise InputError(f"batch size must be at least 1, got {batch_size}")
    cap = min(TX_GAS_CAP, block_gas_limit)
    budget = int(cap * (1 - BATCH_GAS_SAFETY_MARGIN))
    fit = (budget - kind.batch_overhead) // kind.gas_per_recipient
    if fit < 1:
        raise ChainError(
            f"a block gas limit of {block_gas_limit:,} leaves no room for even one recipient per batch"
        )
    count = fit if batch_size is None else min(fit, batch_size)
    return GasPlan(block_gas_limit, cap, budget, kind.gas_per_recipient, kind.batch_overhead, count)


def plan_batches(recipients: Sequence[Recipient], max_recipients: int) -> list[Batch]:
    """Group recipients by reason (in order of first appearance) and cut each group into batches."""
    if max_recipients < 1:
        raise InputError(f"max_recipients must be at least 1, got {max_recipients}")
    groups: dict[str, list[Recipient]] = {}
    for recipient in recipients:
        groups.setdefault(recipient.reason, []).append(recipient)
    return [
        Batch(reason, tuple(group[start : start + max_recipients]))
        for reason, group in groups.items()
        for start in range(0, len(group), max_recipients)
    ]


def split_batch(batch: Batch) -> tuple[Batch, Batch]:
    """Two halves of a batch that did not fit (the first half gets the extra recipient)."""
    if len(batch.recipients) < 2:
        raise ValueError("a batch of one recipient cannot be split")
    middle = (len(batch.recipients) + 1) // 2
    return replace(batch, recipients=batch.recipients[:middle]), replace(
        batch, recipients=batch.recipients[middle:]
    )


def pack_word(kind: Kind, recipient: Recipient, valid_until: int = 0) -> int:
    """A recipient as one uint256 of ``issueBatch`` (to << 96 | amount) or ``enrollBatch``
    (member | tier << 160 | validUntil << 168)."""
    address = int(recipient.address, 16)
    if kind == "points":
        if not 0 < recipient.value < 2**96:
            raise InputError(f"line {recipient.line}: amount {recipient.value} must be 1..2**96-1 base units")
        return (address << 96) | recipient.value
    if not 0 <= recipient.value < 256 or not 0 <= valid_until < 2**64:
        raise InputError(f"line {recipient.line}: tier {recipient.value} / expiry {valid_until} out of range")
    return address | (recipient.value << 160) | (valid_until << 168)


_ISSUE_BATCH = function_signature_to_4byte_selector("issueBatch(uint256[],bytes32)")
_ENROLL_BATCH = function_signature_to_4byte_selector("enrollBatch(uint256[])")


def batch_calldata(kind: Kind, batch: Batch, valid_until: int = 0) -> bytes:
    """The calldata that pays one batch (encoded by eth_abi directly: web3's contract-function encoder
    spends ~0.2 s on one 600-word array)."""
    words = [pack_word(kind, r, valid_until) for r in batch.recipients]
    if kind == "points":
        return _ISSUE_BATCH + abi_encode(["uint256[]", "bytes32"], [words, reason_code(batch.reason)])
    return _ENROLL_BATCH + abi_encode(["uint256[]"], [words])


def gas_limit_for(estimate: int, plan: GasPlan) -> int:
    """The gas limit a batch is signed with: its estimate plus headroom, never above the cap."""
    return min(plan.tx_gas_cap, math.ceil(estimate * (1 + GAS_LIMIT_HEADROOM)))


def windows(sized: Iterator[SizedBatch], block_gas_limit: int) -> Iterator[list[SizedBatch]]:
    """Consecutive groups of batches whose gas limits add up to at most one block (at least one each)."""
    window: list[SizedBatch] = []
    gas = 0
    for item in sized:
        if window and (gas + item.gas_limit > block_gas_limit or len(window) >= MAX_BATCHES_IN_FLIGHT):
            yield window
            window, gas = [], 0
        window.append(item)
        gas += item.gas_limit
    if window:
        yield window
