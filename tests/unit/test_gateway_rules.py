"""A bad rules file is refused naming the file, the line and the field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from loyalty_chain.errors import RulesFileError
from loyalty_chain.gateway.rules import load_rules


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    return path


def test_good_rules(tmp_path: Path) -> None:
    rules = load_rules(
        write(tmp_path, "[purchase]\nper_unit = { EUR = 10 }\n[tiers]\nGold = 2\n[signup]\npoints = 5\n")
    )
    assert rules.purchase_points(Decimal("1.55"), "EUR", "Gold") == 31
    assert rules.purchase_points(Decimal("1.55"), "EUR", None) == 15
    assert rules.bonuses["signup"].points == 5
    assert load_rules(None).per_unit == {}


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("[purchase]\nper_unit = { EUR = 10 \n", 2, "(syntax)"),
        ("[signup]\npoints = 5\nbonus = 3\n", 3, "signup.bonus"),
        ("[signup]\npoints = -5\n", 2, "signup.points"),
        ("[cap]\npoints = 10\n\nperiod = 'fortnight'\n", 4, "cap.period"),
        ("[purchase]\nper_unit = { euro = 10 }\n", 2, "purchase.euro"),
        ("[bonus]\nx = 1\n", 1, "bonus"),
        ("[review]\nreason = 'x'\n", 1, "review"),
        ("[perks.one]\ndescription = 'x'\n", 1, "perks.one"),
        ("[tiers]\nGold = 'lots'\n", 2, "tiers.Gold"),
    ],
)
def test_bad_rules_name_file_line_and_field(tmp_path: Path, text: str, line: int, field: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(RulesFileError) as caught:
        load_rules(path)
    assert caught.value.line == line, str(caught.value)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{path}:{line}: {field}: ")


def test_unreadable_rules_file(tmp_path: Path) -> None:
    with pytest.raises(RulesFileError, match="cannot be read"):
        load_rules(tmp_path / "missing.toml")
