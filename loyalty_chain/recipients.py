"""Airdrop recipient lists: read a whole CSV export and check every row before anything is sent.

Two kinds (see :mod:`loyalty_chain.csv_columns` for how a file is read):

* points: columns ``address`` and ``amount``, optionally ``reason``. Amounts are written in whole
  points and converted to base units with the token's ``decimals`` ("1.5" with 2 decimals is 150).
* cards: columns ``address`` and ``tier``. A tier is given by name (case-insensitive) or by its index.

Columns are found by name anywhere in the header (case-insensitive, trimmed; a :class:`ColumnMap`
renames them, e.g. ``Email Address``), every other column is ignored, and the delimiter (``,``,
``;`` or tab) is detected from the header line or chosen.

Every bad row is collected, with its line number and a reason that names the offending value. By
default one :class:`~loyalty_chain.errors.CsvValidationError` lists them all, so a file is fixed in
one pass and a half-valid file never sends anything; with ``skip_invalid`` the bad rows are returned
as rejects (line, fields, reason) and the good ones go on. A bad header always stops. Line numbers
are the 1-based physical lines of the file (the header is line 1); blank lines are skipped but
counted. A UTF-8 byte order mark and Windows line ends are accepted.

Addresses: a mixed-case address must carry a valid EIP-55 checksum; an all-lowercase or
all-uppercase one is accepted and checksummed. The zero address is refused. A reason must fit in 32
bytes of UTF-8.

Duplicates: in a points file, rows for the same address are merged by default (amounts summed,
the sum checked against the maximum again, the row keeps the first line number and the distinct
reasons joined by "; "); the count of merged rows is returned. With ``merge=False`` each repeat is
an error naming the first line. In a cards file a repeated address is always an error: one card per
wallet.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeAlias, TypeVar

from eth_typing import ChecksumAddress

from .csv_columns import (
    ColumnMap,
    Reject,
    Table,
    decode,
    delimiter_of,
    locate,
    pick,
    read_bytes,
    read_table,
)
from .errors import CsvValidationError, InputError
from .values import DEFAULT_MAX_AMOUNT, parse_address, parse_amount

StrPath: TypeAlias = str | os.PathLike[str]

POINTS_COLUMNS = ("address", "amount")
"""The required columns of a points file; ``reason`` may be there too."""
POINTS_OPTIONAL_COLUMN = "reason"
CARDS_COLUMNS = ("address", "tier")
"""The columns of a cards file."""
MAX_REASON_BYTES = 32

_INDEX = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class PointsRow:
    """One recipient of points; ``amount`` is in base units, ``line`` its (first) line in the file."""

    line: int
    address: ChecksumAddress
    amount: int
    reason: str | None


@dataclass(frozen=True)
class CardRow:
    """One recipient of a membership card; ``tier`` is the index into the program's tiers."""

    line: int
    address: ChecksumAddress
    tier: int


Row = TypeVar("Row", PointsRow, CardRow)


@dataclass(frozen=True)
class RecipientFile(Generic[Row]):
    """What reading a file gave: the valid rows, and what was merged or left out."""

    rows: list[Row]
    data_rows: int
    """Non-blank rows after the header."""
    merged: int = 0
    """Rows added into an earlier row of the same address (points files)."""
    rejects: list[Reject] = field(default_factory=list)
    delimiter: str = ","


# --- public functions ---------------------------------------------------------------------------


def read_points_csv(
    path: StrPath,
    *,
    decimals: int,
    merge: bool = True,
    max_amount: int = DEFAULT_MAX_AMOUNT,
    columns: ColumnMap | None = None,
) -> list[PointsRow]:
    """The rows of the points file at ``path``, or CsvValidationError listing every bad row."""
    return read_points(path, decimals=decimals, merge=merge, max_amount=max_amount, columns=columns).rows


def read_points(
    path: StrPath,
    *,
    decimals: int,
    merge: bool = True,
    max_amount: int = DEFAULT_MAX_AMOUNT,
    columns: ColumnMap | None = None,
    skip_invalid: bool = False,
) -> RecipientFile[PointsRow]:
    """The points file at ``path`` read whole (see :func:`parse_points`)."""
    return parse_points(
        decode(read_bytes(path), str(path)), source=str(path), decimals=decimals, merge=merge,
        max_amount=max_amount, columns=columns, skip_invalid=skip_invalid,
    )  # fmt: skip


def parse_points_csv(
    text: str,
    *,
    source: str = "<input>",
    decimals: int,
    merge: bool = True,
    max_amount: int = DEFAULT_MAX_AMOUNT,
    columns: ColumnMap | None = None,
) -> list[PointsRow]:
    """The rows of a points CSV given as text (``source`` names it in errors, e.g. ``<stdin>``)."""
    return parse_points(
        text, source=source, decimals=decimals, merge=merge, max_amount=max_amount, columns=columns
    ).rows


def parse_points(
    text: str,
    *,
    source: str = "<input>",
    decimals: int,
    merge: bool = True,
    max_amount: int = DEFAULT_MAX_AMOUNT,
    columns: ColumnMap | None = None,
    skip_invalid: bool = False,
) -> RecipientFile[PointsRow]:
    """A points CSV given as text: valid rows, merged count and (``skip_invalid``) rejects.

    Without ``skip_invalid`` any bad row raises CsvValidationError listing every one.
    """
    if isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0:
        raise InputError(f"decimals must be a whole number of at least 0, got {decimals!r}")
    if max_amount < 1:
        raise InputError(f"max_amount must be at least 1, got {max_amount!r}")
    cols = columns or ColumnMap()
    problems: list[tuple[int, str]] = []
    table, positions = _open(text, source, cols, POINTS_COLUMNS, (POINTS_OPTIONAL_COLUMN,), problems)

    merged: dict[ChecksumAddress, _Merged] = {}
    rejects: list[Reject] = []
    merges = 0
    for line, fields in table.records:
        reasons: list[str] = []
        values = _fields(table, fields, positions, reasons)
        if values is None:
            _bad(problems, rejects, line, fields, reasons)
            continue
        address = _parse_address(values["address"], reasons)
        amount = _parse_amount(values["amount"], decimals, max_amount, reasons)
        reason = values.get("reason", "").strip() or None
        if reason and len(reason.encode("utf-8")) > MAX_REASON_BYTES:
            size = len(reason.encode("utf-8"))
            reasons.append(
                f"reason {reason!r} is {size} bytes of UTF-8; at most {MAX_REASON_BYTES} fit in a bytes32"
            )
        first = merged.get(address) if address is not None else None
        if first is not None and not merge:
            reasons.append(
                f"address {address} is already listed on line {first.line} "
                "(duplicates are not allowed here: merge them into one row)"
            )
        elif first is not None and amount is not None and not reasons:
            if first.amount + amount > max_amount:
                reasons.append(
                    f"address {address} (first on line {first.line}) adds up to {first.amount + amount} "
                    f"base units with this row, more than the maximum {max_amount}"
                )
            else:
                first.amount += amount
                merges += 1
                if reason and reason not in first.reasons:
                    first.reasons.append(reason)
        elif address is not None and first is None and not reasons:
            merged[address] = _Merged(line, amount or 0, [reason] if reason else [])
        if reasons:
            _bad(problems, rejects, line, fields, reasons)

    _check_not_empty(table, problems)
    if problems and not skip_invalid:
        raise CsvValidationError(source, sorted(problems))
    rows = [PointsRow(m.line, a, m.amount, "; ".join(m.reasons) or None) for a, m in merged.items()]
    return RecipientFile(rows, len(table.records), merges, rejects, table.delimiter)


def read_cards_csv(path: StrPath, *, tiers: Sequence[str], columns: ColumnMap | None = None) -> list[CardRow]:
    """The rows of the cards file at ``path``, or CsvValidationError listing every bad row.

    ``tiers`` are the program's tier names in index order; a name is matched before an index.
    """
    return read_cards(path, tiers=tiers, columns=columns).rows


def read_cards(
    path: StrPath, *, tiers: Sequence[str], columns: ColumnMap | None = None, skip_invalid: bool = False
) -> RecipientFile[CardRow]:
    """The cards file at ``path`` read whole (see :func:`parse_cards`)."""
    text = decode(read_bytes(path), str(path))
    return parse_cards(text, source=str(path), tiers=tiers, columns=columns, skip_invalid=skip_invalid)


def parse_cards_csv(
    text: str, *, source: str = "<input>", tiers: Sequence[str], columns: ColumnMap | None = None
) -> list[CardRow]:
    """The rows of a cards CSV given as text (``source`` names it in errors, e.g. ``<stdin>``)."""
    return parse_cards(text, source=source, tiers=tiers, columns=columns).rows


def parse_cards(
    text: str,
    *,
    source: str = "<input>",
    tiers: Sequence[str],
    columns: ColumnMap | None = None,
    skip_invalid: bool = False,
) -> RecipientFile[CardRow]:
    """A cards CSV given as text: valid rows and (``skip_invalid``) rejects."""
    tier_index = _tier_names(tiers)
    problems: list[tuple[int, str]] = []
    table, positions = _open(text, source, columns or ColumnMap(), CARDS_COLUMNS, (), problems)

    first_line: dict[ChecksumAddress, int] = {}
    rows: list[CardRow] = []
    rejects: list[Reject] = []
    for line, fields in table.records:
        reasons: list[str] = []
        values = _fields(table, fields, positions, reasons)
        if values is None:
            _bad(problems, rejects, line, fields, reasons)
            continue
        address = _parse_address(values["address"], reasons)
        tier = _parse_tier(values["tier"], tiers, tier_index, reasons)
        if address is not None:
            if address in first_line:
                first = first_line[address]
                reasons.append(f"address {address} already gets a card on line {first} (one card per wallet)")
            elif not reasons:
                first_line[address] = line
        if reasons:
            _bad(problems, rejects, line, fields, reasons)
        elif address is not None and tier is not None:
            rows.append(CardRow(line, address, tier))

    _check_not_empty(table, problems)
    if problems and not skip_invalid:
        raise CsvValidationError(source, sorted(problems))
    return RecipientFile(rows, len(table.records), 0, rejects, table.delimiter)


def file_digest(path: str | os.PathLike[str]) -> str:
    """The sha256 of the file's bytes, as 64 lowercase hex digits (the journal's fingerprint)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as file:
            for chunk in iter(lambda: file.read(1 << 16), b""):
                digest.update(chunk)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}; check the path") from exc
    return digest.hexdigest()


# --- reading the file ---------------------------------------------------------------------------


@dataclass
class _Merged:
    """The running total of one address while a points file is read."""

    line: int
    amount: int
    reasons: list[str]


def _open(
    text: str,
    source: str,
    columns: ColumnMap,
    required: Sequence[str],
    optional: Sequence[str],
    problems: list[tuple[int, str]],
) -> tuple[Table, dict[str, int]]:
    """The file's records and where its wanted columns are; a bad header (or none) raises at once."""
    table = read_table(text, delimiter_of(text, columns.delimiter), problems)
    if table is None:
        layout = ",".join(columns.name(f) for f in required)
        if not problems:
            problems.append((1, f"the file is empty; the first line must be a header with columns {layout}"))
        raise CsvValidationError(source, sorted(problems))
    positions = locate(table, required, optional, columns, problems)
    if positions is None:
        raise CsvValidationError(source, sorted(problems))
    return table, positions


def _fields(
    table: Table, fields: list[str], positions: dict[str, int], reasons: list[str]
) -> dict[str, str] | None:
    """The wanted fields of a record whose length matches the header (trailing empty fields allowed)."""
    width = len(table.header)
    extra = fields[width:]
    values = pick(fields, positions)
    if values is None or any(f.strip() for f in extra):
        shown = table.delimiter.join(fields)
        header = table.delimiter.join(f.strip() for f in table.header)
        reasons.append(f"expected {width} columns ({header}), got {len(fields)}: {shown!r}")
        return None
    return values


def _bad(
    problems: list[tuple[int, str]], rejects: list[Reject], line: int, fields: list[str], reasons: list[str]
) -> None:
    why = "; ".join(reasons)
    problems.append((line, why))
    rejects.append(Reject(line, tuple(fields), why))


def _check_not_empty(table: Table, problems: list[tuple[int, str]]) -> None:
    if not table.records and not problems:
        problems.append((table.header_line, "the file has a header but no recipients"))


# --- checking one field -------------------------------------------------------------------------


def _parse_address(raw: str, reasons: list[str]) -> ChecksumAddress | None:
    try:
        return parse_address(raw)
    except InputError as exc:
        reasons.append(str(exc))
        return None


def _parse_amount(raw: str, decimals: int, max_amount: int, reasons: list[str]) -> int | None:
    try:
        return parse_amount(raw, decimals, max_amount)
    except InputError as exc:
        reasons.append(str(exc))
        return None


def _tier_names(tiers: Sequence[str]) -> dict[str, int]:
    if isinstance(tiers, str) or not tiers:
        raise InputError(f"tiers must be a non-empty list of tier names, got {tiers!r}")
    index: dict[str, int] = {}
    for i, name in enumerate(tiers):
        key = name.strip().lower()
        if not key or key in index:
            raise InputError(
                f"tier names must be non-empty and distinct (ignoring case), got {list(tiers)!r}"
            )
        index[key] = i
    return index


def _parse_tier(raw: str, tiers: Sequence[str], index: dict[str, int], reasons: list[str]) -> int | None:
    value = raw.strip()
    if not value:
        reasons.append("tier is empty")
        return None
    if value.lower() in index:
        return index[value.lower()]
    if _INDEX.fullmatch(value) and len(value) <= 6 and int(value) < len(tiers):
        return int(value)
    reasons.append(
        f"tier '{value}' is unknown (expected one of {', '.join(tiers)}, or an index 0-{len(tiers) - 1})"
    )
    return None
