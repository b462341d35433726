"""Reading a CSV export as it really is: the delimiter (``,`` ``;`` or tab) detected or chosen, the
columns a file needs found by name anywhere in its header (renamed with a column map), every other
column ignored, and each record kept with the physical line it starts on.

Used by :mod:`loyalty_chain.recipients` for push airdrops and Merkle builds alike.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import CsvValidationError, InputError
from .files import write_csv_atomic

DELIMITERS = {",": ",", ";": ";", "tab": "\t", "\t": "\t", "\\t": "\t"}
"""What ``--delimiter`` accepts, and the character each means."""


@dataclass(frozen=True)
class ColumnMap:
    """Which header names hold the address, the amount, the tier and the reason (case-insensitive);
    ``None`` keeps the standard name (``address``, ``amount``, ``tier``, ``reason``)."""

    address: str | None = None
    amount: str | None = None
    tier: str | None = None
    reason: str | None = None
    delimiter: str | None = None
    """``,``, ``;`` or ``tab``; ``None`` detects it from the header line."""

    def name(self, field: str) -> str:
        chosen = getattr(self, field)
        return (chosen if chosen is not None else field).strip().lower()

    def given(self, field: str) -> bool:
        return getattr(self, field) is not None


@dataclass(frozen=True)
class Reject:
    """A row left out (``skip_invalid``): its line, its fields as read, and why."""

    line: int
    fields: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Table:
    """The records of a file: the header's fields, and every non-blank record after it with its line."""

    delimiter: str
    header_line: int
    header: list[str]
    records: list[tuple[int, list[str]]]


def delimiter_of(text: str, chosen: str | None) -> str:
    """The chosen delimiter, or the one of ``,`` ``;`` tab that the first non-blank line uses most."""
    if chosen is not None:
        if chosen not in DELIMITERS:
            raise InputError(f"delimiter {chosen!r} is not one of ',', ';' or 'tab'")
        return DELIMITERS[chosen]
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def read_table(text: str, delimiter: str, problems: list[tuple[int, str]]) -> Table | None:
    """Every non-blank record with the physical line it starts on; None (problem recorded) if empty.

    A record is blank when every field is empty or whitespace (a spreadsheet writes an empty row as
    ``,,``). A malformed record (e.g. a stray quote) is reported and ends the reading, because where
    the following records start can no longer be trusted.
    """
    reader = csv.reader(
        io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=delimiter, strict=True
    )
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
    if not records:
        return None
    (header_line, header), rest = records[0], records[1:]
    return Table(delimiter, header_line, header, rest)


def locate(
    table: Table,
    required: Sequence[str],
    optional: Sequence[str],
    columns: ColumnMap,
    problems: list[tuple[int, str]],
) -> dict[str, int] | None:
    """``{field: position}`` of the required fields (and the optional ones present), found by name.

    Other columns are ignored. A required column that is missing, or any wanted column named twice,
    is a header problem (recorded; None returned).
    """
    names = [field.strip().lower() for field in table.header]
    found: dict[str, int] = {}
    details = []
    for field in [*required, *optional]:
        wanted = columns.name(field)
        positions = [i for i, name in enumerate(names) if name == wanted]
        if len(positions) > 1:
            details.append(f"column {wanted!r} appears {len(positions)} times")
        elif positions:
            found[field] = positions[0]
        elif field in required or columns.given(field):
            option = f"--{field}-column"
            details.append(f"no column {wanted!r} (name the {field} column with {option})")
    if details:
        shown = ", ".join(repr(f.strip()) for f in table.header)
        hint = (
            " (the first line must be the header, not a recipient)"
            if table.header and table.header[0].strip().lower().startswith("0x")
            else ""
        )
        problems.append((table.header_line, f"header has columns {shown}: {'; '.join(details)}{hint}"))
        return None
    return found


def pick(fields: Sequence[str], positions: Mapping[str, int]) -> dict[str, str] | None:
    """The wanted fields of one record, or None if the record is too short to hold them all."""
    if any(i >= len(fields) for i in positions.values()):
        return None
    return {field: fields[i] for field, i in positions.items()}


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}; check the path") from exc


def decode(data: bytes, source: str) -> str:
    """The text of a UTF-8 file (a byte order mark is dropped), or the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        why = f"is not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8 CSV"
        raise CsvValidationError(source, [(line, why)]) from exc


def write_rejects(path: str | os.PathLike[str], rejects: Sequence[Reject], delimiter: str = ",") -> Path:
    """``line,row,reason`` for every rejected row (the row as it was, fields joined by its delimiter)."""
    rows = [(r.line, delimiter.join(r.fields), r.reason) for r in rejects]
    return write_csv_atomic(path, ("line", "row", "reason"), rows)


def default_rejects_path(csv_path: str | os.PathLike[str]) -> Path:
    """``drop.csv`` → ``drop.rejects.csv``, beside the CSV."""
    path = Path(csv_path)
    return path.with_name(path.stem + ".rejects.csv")
