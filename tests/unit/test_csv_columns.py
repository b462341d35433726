"""Reading CSV exports: delimiter detection and choice, columns by name."""

from __future__ import annotations

import pytest

from loyalty_chain.csv_columns import ColumnMap, delimiter_of
from loyalty_chain.errors import InputError
from loyalty_chain.recipients import parse_cards, parse_points

A = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
B = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.mark.parametrize(
    ("first_line", "chosen", "expected"),
    [
        ("a,b,c", None, ","),
        ("a;b;c", None, ";"),
        ("a\tb\tc", None, "\t"),
        ("a;b,c;d", None, ";"),
        ("single", None, ","),
        ("a,b", "tab", "\t"),
        ("a,b", ";", ";"),
    ],
)
def test_delimiter(first_line: str, chosen: str | None, expected: str) -> None:
    assert delimiter_of(first_line + "\nx\n", chosen) == expected


def test_unknown_delimiter_is_refused() -> None:
    with pytest.raises(InputError, match=r"delimiter .\|."):
        delimiter_of("a|b", "|")


def test_semicolon_export_with_decimal_comma_free_amounts_and_mapping() -> None:
    text = f"Email;Wallet;Points;Note\nx@y;{A};12;hi\nz@y;{B};3;\nw@y;{A};1;again\n"
    read = parse_points(text, decimals=0, columns=ColumnMap(address="wallet", amount="POINTS"))
    assert [(r.address, r.amount) for r in read.rows] == [(A, 13), (B, 3)]
    assert (read.data_rows, read.merged, read.delimiter) == (3, 1, ";")


def test_skip_invalid_keeps_the_good_rows_and_every_reject() -> None:
    text = f"address,amount\n{A},1\nnope,2\n{B},-1\n{B},4\n"
    read = parse_points(text, decimals=0, skip_invalid=True)
    assert [(r.line, r.amount) for r in read.rows] == [(2, 1), (5, 4)]
    assert [(r.line, r.fields) for r in read.rejects] == [(3, ("nope", "2")), (4, (B, "-1"))]


def test_cards_with_mapped_tier_column() -> None:
    read = parse_cards(
        f"Wallet\tLevel\n{A}\tgold\n",
        tiers=["Bronze", "Gold"],
        columns=ColumnMap(address="wallet", tier="level"),
    )
    assert [(r.address, r.tier) for r in read.rows] == [(A, 1)]
