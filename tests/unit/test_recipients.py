"""loyalty_chain.recipients: every rule, each bad row caught with its line number."""

from __future__ import annotations

import dataclasses
import hashlib
import random
from pathlib import Path
from typing import cast

import pytest
from eth_typing import ChecksumAddress

from loyalty_chain.errors import CsvValidationError, InputError
from loyalty_chain.recipients import (
    CardRow,
    PointsRow,
    file_digest,
    parse_cards_csv,
    parse_points_csv,
    read_cards_csv,
    read_points_csv,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "csv"

# anvil's first dev accounts, checksummed and lowercase
A = cast(ChecksumAddress, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
B = cast(ChecksumAddress, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
C = cast(ChecksumAddress, "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC")
A_LOWER = A.lower()
A_BAD_CHECKSUM = "0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # first letter's case flipped
TIERS = ("Bronze", "Silver", "Gold")


def points_problems(text: str, *, decimals: int = 0, **kwargs: object) -> list[tuple[int, str]]:
    with pytest.raises(CsvValidationError) as info:
        parse_points_csv(text, decimals=decimals, **kwargs)  # type: ignore[arg-type]
    return info.value.problems


def cards_problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(CsvValidationError) as info:
        parse_cards_csv(text, tiers=TIERS)
    return info.value.problems


def only_problem(problems: list[tuple[int, str]]) -> tuple[int, str]:
    assert len(problems) == 1, problems
    return problems[0]


# --- valid points files -------------------------------------------------------------------------


def test_points_rows_in_base_units() -> None:
    rows = parse_points_csv(f"address,amount\n{A},1.5\n{B},2\n{C},0.01\n", decimals=2)
    assert rows == [PointsRow(2, A, 150, None), PointsRow(3, B, 200, None), PointsRow(4, C, 1, None)]


def test_points_with_reason_column() -> None:
    rows = parse_points_csv(f'address,amount,reason\n{A},10,"Welcome, friend"\n{B},5,\n', decimals=0)
    assert rows == [PointsRow(2, A, 10, "Welcome, friend"), PointsRow(3, B, 5, None)]


@pytest.mark.parametrize(
    ("amount", "decimals", "units"),
    [
        ("1", 0, 1),
        ("1.0", 0, 1),
        ("007", 0, 7),
        ("1.50", 1, 15),
        ("1.", 2, 100),
        (".5", 2, 50),
        (" 3 ", 18, 3 * 10**18),
        ("0.000000000000000001", 18, 1),
    ],
)
def test_amount_forms(amount: str, decimals: int, units: int) -> None:
    (row,) = parse_points_csv(f"address,amount\n{A},{amount}\n", decimals=decimals)
    assert row.amount == units


def test_header_is_case_insensitive_and_trimmed() -> None:
    rows = parse_points_csv(f" Address , AMOUNT ,Reason\n{A},1,x\n", decimals=0)
    assert rows == [PointsRow(2, A, 1, "x")]


def test_fields_are_trimmed() -> None:
    (row,) = parse_points_csv(f"address,amount,reason\n  {A}  , 4 ,  hi  \n", decimals=0)
    assert row == PointsRow(2, A, 4, "hi")


def test_lowercase_and_uppercase_addresses_are_checksummed() -> None:
    rows = parse_points_csv(f"address,amount\n{A_LOWER},1\n0x{B[2:].upper()},1\n", decimals=0)
    assert [row.address for row in rows] == [A, B]


def test_our_checksum_is_eip55_as_eth_utils_writes_it() -> None:
    from eth_utils import to_checksum_address

    from loyalty_chain.values import checksum_address

    rng = random.Random(55)
    for _ in range(500):
        raw = "0x" + rng.randbytes(20).hex()
        for form in (raw, "0x" + raw[2:].upper(), to_checksum_address(raw)):
            assert checksum_address(form) == to_checksum_address(raw), form


def test_blank_lines_are_skipped_but_counted() -> None:
    rows = parse_points_csv(f"address,amount\n\n{A},1\n   \n,,\n{B},2\n\n", decimals=0)
    assert [row.line for row in rows] == [3, 6]


def test_bom_and_crlf_are_accepted() -> None:
    rows = parse_points_csv(f"\ufeffaddress,amount\r\n{A},1\r\n\r\n{B},2\r\n", decimals=0)
    assert rows == [PointsRow(2, A, 1, None), PointsRow(4, B, 2, None)]


def test_excel_file_from_disk() -> None:
    rows = read_points_csv(DATA / "points-excel.csv", decimals=2)
    assert rows == [
        PointsRow(2, A, 200000, "Welcome bonus; Birthday"),  # lines 2 and 6 merged
        PointsRow(3, B, 250, "Referral, March"),
        PointsRow(5, C, 1, None),
    ]


def test_quoted_field_spanning_lines_keeps_physical_line_numbers() -> None:
    text = f'address,amount,reason\n{A},1,"two\nlines"\n{B},x,\n'
    assert only_problem(points_problems(text))[0] == 4
    rows = parse_points_csv(text.replace(",x,", ",2,"), decimals=0)
    assert [(row.line, row.reason) for row in rows] == [(2, "two\nlines"), (4, None)]


# --- header problems (line 1) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("address", "no column 'amount' (name the amount column with --amount-column)"),
        ("addr,amount", "no column 'address' (name the address column with --address-column)"),
        ("address,amount,amount", "column 'amount' appears 2 times"),
        ("Address,Address,amount", "column 'address' appears 2 times"),
        (f"{A},5", "the first line must be the header, not a recipient"),
    ],
)
def test_bad_points_header_is_line_1(header: str, message: str) -> None:
    line, why = only_problem(points_problems(f"{header}\n{B},1\n"))
    assert line == 1
    assert message in why
    assert why.startswith("header has columns ")


@pytest.mark.parametrize(
    "header", ["address,amount,reason,note", "address,amount,memo", "amount,address", "Email,Amount,Address,"]
)
def test_columns_are_found_by_name_and_others_ignored(header: str) -> None:
    names = [h.strip().lower() for h in header.split(",")]
    fields = {"address": B, "amount": "7", "reason": "r"}
    row = ",".join(fields.get(name, "x") for name in names)
    (parsed,) = parse_points_csv(f"{header}\n{row}\n", decimals=0)
    assert (parsed.address, parsed.amount) == (B, 7)


def test_bad_cards_header_is_line_1() -> None:
    (row,) = parse_cards_csv(f"address,tier,reason\n{A},gold,x\n", tiers=["Bronze", "Gold"])
    assert row.tier == 1  # the extra column is ignored
    line, why = only_problem(cards_problems(f"address,amount\n{A},1\n"))
    assert line == 1 and "no column 'tier'" in why


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff", " \r\n"])
def test_empty_file_is_an_error(text: str) -> None:
    line, why = only_problem(points_problems(text))
    assert line == 1 and "the file is empty" in why


@pytest.mark.parametrize("text", ["address,amount\n", "address,amount\n\n,\n", "address,amount"])
def test_header_only_is_an_error(text: str) -> None:
    assert only_problem(points_problems(text)) == (1, "the file has a header but no recipients")


def test_header_only_cards_is_an_error() -> None:
    assert only_problem(cards_problems("address,tier\n")) == (1, "the file has a header but no recipients")


# --- address problems --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "message"),
    [
        (
            A_BAD_CHECKSUM,
            f"address '{A_BAD_CHECKSUM}' has a bad checksum (did you mean {A}?",
        ),
        ("0x0000000000000000000000000000000000000000", "is the zero address"),
        ("0x1234", "address '0x1234' has 4 hex digits, not 40"),
        (A + "0", "has 41 hex digits, not 40"),
        (A[2:], f"address '{A[2:]}' must start with 0x"),
        ("0X" + A[2:], "must start with a lowercase 0x"),
        ("0x" + "g" * 40, "is not an address (0x followed by 40 hex digits)"),
        ("alice.eth", "address 'alice.eth' is not an address"),
        ("", "address is empty"),
    ],
)
def test_bad_address(address: str, message: str) -> None:
    line, why = only_problem(points_problems(f"address,amount\n{B},1\n{address},1\n"))
    assert line == 3
    assert message in why


# --- amount problems ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "decimals", "message"),
    [
        ("", 0, "amount is empty"),
        ("   ", 0, "amount is empty"),
        ("abc", 0, "amount 'abc' is not a number"),
        ("1e3", 0, "amount '1e3' is not a number"),
        ("+5", 0, "amount '+5' is not a number"),
        ("0x10", 0, "amount '0x10' is not a number"),
        (".", 2, "amount '.' is not a number"),
        ("1.2.3", 2, "amount '1.2.3' is not a number"),
        ("-5", 0, "amount '-5' is negative"),
        ("-0.5", 2, "amount '-0.5' is negative"),
        ("1.5", 0, "amount '1.5' has a fractional part, but points have no decimals"),
        ("1.234", 2, "amount '1.234' has more than 2 decimal place(s)"),
        ("0", 0, "amount '0' is zero"),
        ("0.00", 2, "amount '0.00' is zero"),
        ("000", 2, "amount '000' is zero"),
    ],
)
def test_bad_amount(amount: str, decimals: int, message: str) -> None:
    line, why = only_problem(points_problems(f"address,amount\n{B},1\n{A},{amount}\n", decimals=decimals))
    assert line == 3
    assert why == message


def test_amount_overflow() -> None:
    ok = parse_points_csv(f"address,amount\n{A},10\n", decimals=1, max_amount=100)
    assert ok[0].amount == 100
    line, why = only_problem(points_problems(f"address,amount\n{A},10.1\n", decimals=1, max_amount=100))
    assert line == 2
    assert why == "amount '10.1' is 101 base units, more than the maximum 100"


def test_default_max_amount_is_uint96() -> None:
    whole = str(2**96 - 1)
    assert parse_points_csv(f"address,amount\n{A},{whole}\n", decimals=0)[0].amount == 2**96 - 1
    line, why = only_problem(points_problems(f"address,amount\n{A},{2**96}\n"))
    assert line == 2 and "more than the maximum 79228162514264337593543950335" in why
    line, why = only_problem(points_problems(f"address,amount\n{A},{'9' * 5000}\n"))
    assert line == 2 and "more than the maximum" in why


def test_bad_arguments_are_input_errors() -> None:
    with pytest.raises(InputError, match="decimals"):
        parse_points_csv(f"address,amount\n{A},1\n", decimals=-1)
    with pytest.raises(InputError, match="max_amount"):
        parse_points_csv(f"address,amount\n{A},1\n", decimals=0, max_amount=0)
    with pytest.raises(InputError, match="tiers"):
        parse_cards_csv(f"address,tier\n{A},1\n", tiers=[])
    with pytest.raises(InputError, match="distinct"):
        parse_cards_csv(f"address,tier\n{A},1\n", tiers=["gold", "Gold"])


# --- rows of the wrong shape --------------------------------------------------------------------


def test_wrong_number_of_fields() -> None:
    problems = points_problems(f"address,amount,reason\n{A},1\n{B},1,x,y\n{C},1,ok\n")
    assert problems == [
        (2, f"expected 3 columns (address,amount,reason), got 2: '{A},1'"),
        (3, f"expected 3 columns (address,amount,reason), got 4: '{B},1,x,y'"),
    ]


def test_unclosed_quote_stops_reading_at_its_line() -> None:
    line, why = only_problem(points_problems(f'address,amount\n{A},1\n"{B},1\n{C},1\n'))
    assert line == 3 and "is not valid CSV" in why


def test_not_utf8_reports_the_line() -> None:
    with pytest.raises(CsvValidationError) as info:
        read_points_csv(DATA / "points-latin1.csv", decimals=0)
    ((line, why),) = info.value.problems
    assert line == 3 and "not UTF-8" in why and "0xe9" in why


# --- duplicates ---------------------------------------------------------------------------------


def test_duplicates_are_merged_by_default() -> None:
    rows = parse_points_csv(
        f"address,amount,reason\n{A},1,signup\n{B},2,\n{A_LOWER},3,referral\n{A},4,signup\n",
        decimals=0,
    )
    assert rows == [PointsRow(2, A, 8, "signup; referral"), PointsRow(3, B, 2, None)]


def test_merged_sum_is_checked_against_the_maximum() -> None:
    problems = points_problems(f"address,amount\n{A},60\n{B},1\n{A},30\n{A},20\n{A},50\n", max_amount=100)
    assert problems == [  # each row that would push the total over is a bad row (the total stays 90)
        (
            5,
            f"address {A} (first on line 2) adds up to 110 base units with this row, "
            "more than the maximum 100",
        ),
        (
            6,
            f"address {A} (first on line 2) adds up to 140 base units with this row, "
            "more than the maximum 100",
        ),
    ]


def test_duplicates_rejected_without_merge() -> None:
    problems = points_problems(f"address,amount\n{A},1\n{B},2\n{A_LOWER},3\n\n{A},4\n", merge=False)
    assert [line for line, _ in problems] == [4, 6]
    for _, why in problems:
        assert why.startswith(f"address {A} is already listed on line 2")


def test_duplicate_with_a_bad_amount_reports_both() -> None:
    (_, why) = only_problem(points_problems(f"address,amount\n{A},1\n{A},-1\n", merge=False))
    assert "amount '-1' is negative" in why and "already listed on line 2" in why


# --- cards --------------------------------------------------------------------------------------


def test_cards_by_name_or_index() -> None:
    rows = read_cards_csv(DATA / "cards.csv", tiers=TIERS)
    assert rows == [CardRow(2, A, 2), CardRow(3, B, 0), CardRow(4, C, 1)]


@pytest.mark.parametrize(
    ("tier", "message"),
    [
        ("platinum", "tier 'platinum' is unknown (expected one of Bronze, Silver, Gold, or an index 0-2)"),
        ("3", "tier '3' is unknown"),
        ("-1", "tier '-1' is unknown"),
        ("1.0", "tier '1.0' is unknown"),
        ("", "tier is empty"),
    ],
)
def test_bad_tier(tier: str, message: str) -> None:
    line, why = only_problem(cards_problems(f"address,tier\n{B},gold\n{A},{tier}\n"))
    assert line == 3
    assert why.startswith(message)


def test_duplicate_card_is_always_an_error() -> None:
    problems = cards_problems(f"address,tier\n{A},gold\n{B},silver\n{A_LOWER},bronze\n")
    assert problems == [(4, f"address {A} already gets a card on line 2 (one card per wallet)")]


def test_bad_card_address() -> None:
    line, why = only_problem(cards_problems(f"address,tier\n{A_BAD_CHECKSUM},gold\n"))
    assert line == 2 and "bad checksum" in why


# --- every bad row, one error -------------------------------------------------------------------


def test_every_bad_row_is_reported_with_its_line() -> None:
    with pytest.raises(CsvValidationError) as info:
        read_points_csv(DATA / "points-bad.csv", decimals=2)
    error = info.value
    assert error.path == str(DATA / "points-bad.csv")
    assert [line for line, _ in error.problems] == [3, 4, 6, 7, 8, 9, 10, 11, 12]
    reasons = dict(error.problems)
    assert "bad checksum" in reasons[3]
    assert "zero address" in reasons[4]
    assert reasons[6] == "amount '-5' is negative"
    assert reasons[7] == "amount '1.234' has more than 2 decimal place(s)"
    assert reasons[8] == "amount is empty"
    assert reasons[9] == "amount 'lots' is not a number"
    assert reasons[10] == "amount '0' is zero"
    assert reasons[11] == "amount '1e3' is not a number"
    assert reasons[12].startswith("expected 3 columns")
    message = str(error)
    assert message.startswith(f"{DATA / 'points-bad.csv'}: 9 bad row(s), nothing was sent:")
    assert "  line 6: amount '-5' is negative" in message
    assert message.endswith("Fix these rows and run again.")


def test_problems_are_in_line_order_and_one_per_row() -> None:
    problems = points_problems(f"address,amount\n0x12,-1\n{A},x\n{A_BAD_CHECKSUM},0\n")
    assert [line for line, _ in problems] == [2, 3, 4]
    assert problems[0][1] == "address '0x12' has 2 hex digits, not 40; amount '-1' is negative"


def test_text_source_names_the_error() -> None:
    with pytest.raises(CsvValidationError, match=r"^<stdin>: 1 bad row"):
        parse_points_csv(f"address,amount\n{A},0\n", decimals=0, source="<stdin>")


# --- files --------------------------------------------------------------------------------------


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_points_csv(tmp_path / "nope.csv", decimals=0)
    with pytest.raises(InputError, match="cannot read"):
        read_cards_csv(tmp_path / "nope.csv", tiers=TIERS)
    with pytest.raises(InputError, match="cannot read"):
        file_digest(tmp_path / "nope.csv")


def test_file_digest_is_sha256_of_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_bytes(f"address,amount\r\n{A},1\r\n".encode())
    digest = file_digest(path)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(digest) == 64
    path.write_bytes(f"address,amount\n{A},1\n".encode())  # same rows, other line ends
    assert file_digest(str(path)) != digest


def test_rows_are_frozen() -> None:
    (row,) = parse_points_csv(f"address,amount\n{A},1\n", decimals=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.amount = 2  # type: ignore[misc]
