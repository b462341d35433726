"""Airdrop recipient lists: read a whole CSV and check every row before anything is sent.

Two layouts (header names are case-insensitive and trimmed; the columns come in this order):

* points: ``address,amount`` or ``address,amount,reason``. Amounts are written in whole points
  and converted to base units with the token's ``decimals`` ("1.5" with 2 decimals is 150).
* cards: ``address,tier``. A tier is given by name (case-insensitive) or by its index.

Every bad row is collected, with its line number and a reason that names the offending value,
and one :class:`~loyalty_chain.errors.CsvValidationError` lists them all, so a file is fixed in
one pass and a half-valid file never sends anything. Line numbers are the 1-based physical lines
of the file (the header is line 1); blank lines are skipped but counted. A UTF-8 byte order mark
and Windows line ends are accepted.

Addresses: a mixed-case address must carry a valid EIP-55 checksum; an all-lowercase or
all-uppercase one is accepted and checksummed. The zero address is refused.

Duplicates: in a points file, rows for the same address are merged by default (amounts summed,
the sum checked against the maximum again, the row keeps the first line number and the distinct
reasons joined by "; "); with ``merge=False`` each repeat is an error naming the first line. In a
cards file a repeated address is always an error: one card per wallet.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from eth_typing import ChecksumAddress

from .errors import CsvValidationError, InputError
from .values import DEFAULT_MAX_AMOUNT, parse_address, parse_amount

StrPath: TypeAlias = str | os.PathLike[str]

POINTS_COLUMNS = ("address", "amount")
"""The required columns of a points file; ``reason`` may follow."""
POINTS_OPTIONAL_COLUMN = "reason"
CARDS_COLUMNS = ("address", "tier")
"""The columns of a cards file."""

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


# --- public functions ---------------------------------------------------------------------------


def read_points_csv(
    path: StrPath,
    *,
    decimals: int,
    merge: bool = True,
    max_amount: int = DEFAULT_MAX_AMOUNT,
) -> list[PointsRow]:
    """The rows of the points file at ``path``, or CsvValidationError listing every bad row."""
    return parse_points_csv(
        _decode(_read_bytes(path), str(path)),
        source=str(path),
        decimals=decimals,
        merge=merge,
        max_amount=max_amount,
    )


def parse_points_csv(
    text: str,
    *,
    source: str = "<input>",
    decimals: int,
    merge: bool = True,
    max_amount: int = DEFAULT_MAX_AMOUNT,
) -> list[PointsRow]:
    """The rows of a points CSV given as text (``source`` names it in errors, e.g. ``<stdin>``)."""
    if isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0:
        raise InputError(f"decimals must be a whole number of at least 0, got {decimals!r}")
    if max_amount < 1:
        raise InputError(f"max_amount must be at least 1, got {max_amount!r}")

    problems: list[tuple[int, str]] = []
    records = _records(text, problems)
    columns = _check_header(records, POINTS_COLUMNS, (POINTS_OPTIONAL_COLUMN,), problems)
    if columns is None:
        raise CsvValidationError(source, sorted(problems))

    merged: dict[ChecksumAddress, _Merged] = {}
    for line, fields in records[1:]:
        reasons: list[str] = []
        if len(fields) != len(columns):
            problems.append((line, _column_count_reason(columns, fields)))
            continue
        address = _parse_address(fields[0], reasons)
        amount = _parse_amount(fields[1], decimals, max_amount, reasons)
        reason = (fields[2].strip() or None) if len(columns) == 3 else None
        if address is not None:
            first = merged.get(address)
            if first is None:
                merged[address] = _Merged(line, amount or 0, [reason] if reason else [])
            elif not merge:
                reasons.append(
                    f"address {address} is already listed on line {first.line} "
                    "(duplicates are not allowed here: merge them into one row)"
                )
            elif amount is not None and not first.overflowed:
                first.amount += amount
                if reason and reason not in first.reasons:
                    first.reasons.append(reason)
                if first.amount > max_amount:
                    first.overflowed = True
                    reasons.append(
                        f"address {address} (first on line {first.line}) adds up to {first.amount} "
                        f"base units with this row, more than the maximum {max_amount}"
                    )
        if reasons:
            problems.append((line, "; ".join(reasons)))

    _check_not_empty(records, problems)
    if problems:
        raise CsvValidationError(source, sorted(problems))
    return [
        PointsRow(m.line, address, m.amount, "; ".join(m.reasons) or None) for address, m in merged.items()
    ]


def read_cards_csv(path: StrPath, *, tiers: Sequence[str]) -> list[CardRow]:
    """The rows of the cards file at ``path``, or CsvValidationError listing every bad row.

    ``tiers`` are the program's tier names in index order; a name is matched before an index.
    """
    return parse_cards_csv(_decode(_read_bytes(path), str(path)), source=str(path), tiers=tiers)


def parse_cards_csv(text: str, *, source: str = "<input>", tiers: Sequence[str]) -> list[CardRow]:
    """The rows of a cards CSV given as text (``source`` names it in errors, e.g. ``<stdin>``)."""
    tier_index = _tier_names(tiers)
    problems: list[tuple[int, str]] = []
    records = _records(text, problems)
    columns = _check_header(records, CARDS_COLUMNS, (), problems)
    if columns is None:
        raise CsvValidationError(source, sorted(problems))

    first_line: dict[ChecksumAddress, int] = {}
    rows: list[CardRow] = []
    for line, fields in records[1:]:
        reasons: list[str] = []
        if len(fields) != len(columns):
            problems.append((line, _column_count_reason(columns, fields)))
            continue
        address = _parse_address(fields[0], reasons)
        tier = _parse_tier(fields[1], tiers, tier_index, reasons)
        if address is not None:
            if address in first_line:
                reasons.append(
                    f"address {address} already gets a card on line {first_line[address]} "
                    "(one card per wallet)"
                )
            else:
                first_line[address] = line
        if reasons:
            problems.append((line, "; ".join(reasons)))
        elif address is not None and tier is not None:
            rows.append(CardRow(line, address, tier))

    _check_not_empty(records, problems)
    if problems:
        raise CsvValidationError(source, sorted(problems))
    return rows


def file_digest(path: StrPath) -> str:
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
    overflowed: bool = False


def _read_bytes(path: StrPath) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}; check the path") from exc


def _decode(data: bytes, source: str) -> str:
    """The text of a UTF-8 file (a byte order mark is dropped), or the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        why = f"is not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8 CSV"
        raise CsvValidationError(source, [(line, why)]) from exc


def _records(text: str, problems: list[tuple[int, str]]) -> list[tuple[int, list[str]]]:
    """Every non-blank CSV record with the physical line it starts on.

    A record is blank when every field is empty or whitespace (a spreadsheet writes an empty
    row as ``,,``). A malformed record (e.g. a stray quote) is reported and ends the reading,
    because where the following records start can no longer be trusted.
    """
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append((start, f"is not valid CSV ({exc}); the rows after it were not read"))
            break
        if any(field.strip() for field in fields):
            records.append((start, fields))
        start = reader.line_num + 1
    return records


def _check_header(
    records: list[tuple[int, list[str]]],
    required: Sequence[str],
    optional: Sequence[str],
    problems: list[tuple[int, str]],
) -> list[str] | None:
    """The file's column names if its header is right, else None with the problem recorded."""
    layout = ",".join(required) + "".join(f"[,{name}]" for name in optional)
    if not records:
        if not problems:
            problems.append((1, f"the file is empty; the first line must be the header '{layout}'"))
        return None
    line, fields = records[0]
    names = [field.strip().lower() for field in fields]
    allowed = [*required, *optional]
    if (
        names[: len(required)] == list(required)
        and names[len(required) :] == list(optional)[: len(names) - len(required)]
    ):
        return names
    missing = [name for name in required if name not in names]
    extra = [field.strip() or "(unnamed)" for field in fields if field.strip().lower() not in allowed]
    details = []
    if missing:
        details.append("missing column(s) " + ", ".join(repr(name) for name in missing))
    if extra:
        details.append("unexpected column(s) " + ", ".join(repr(name) for name in extra))
    repeated = sorted({name for name in names if name in allowed and names.count(name) > 1})
    if repeated:
        details.append("repeated column(s) " + ", ".join(repr(name) for name in repeated))
    if not details:
        details.append("the columns are out of order")
    hint = (
        " (the first line must be the header, not a recipient)"
        if fields and fields[0].strip().lower().startswith("0x")
        else ""
    )
    problems.append((line, f"header {','.join(fields)!r} is not '{layout}': {'; '.join(details)}{hint}"))
    return None


def _check_not_empty(records: list[tuple[int, list[str]]], problems: list[tuple[int, str]]) -> None:
    if len(records) == 1 and not problems:
        problems.append((records[0][0], "the file has a header but no recipients"))


def _column_count_reason(columns: Sequence[str], fields: Sequence[str]) -> str:
    return f"expected {len(columns)} columns ({','.join(columns)}), got {len(fields)}: {','.join(fields)!r}"


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
