"""Every file the toolkit writes besides the airdrop report (issue 9, items 10 and 12, for the writers
the campaign management, indexer and reports brought in): no fixed-name ``*.tmp`` file that a planted
symlink could redirect, and no CSV cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from loyalty_chain.campaigns.admin import CampaignStatus, _write_leaves
from loyalty_chain.campaigns.campaign import Leaf
from loyalty_chain.campaigns.records import CampaignRecord, records_path, save_record
from loyalty_chain.csv_columns import Reject, write_rejects
from loyalty_chain.files import FORMULA_PREFIXES
from loyalty_chain.registry import ProgramRecord
from loyalty_chain.reports.dashboard import write_html
from loyalty_chain.reports.export import write_csv_dir
from loyalty_chain.reports.model import PerkStats, ProgramReport, Series

A = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
FORMULAS = ('=HYPERLINK("http://x","y")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd")


def report(title: str = "Latte", reason: str = "welcome") -> ProgramReport:
    return ProgramReport(
        program="cafe", chain_id=31337, since=0, until=86_400, first_block=1, last_block=2, indexed_to=2,
        decimals=0, symbol="PTS", members=1, members_per_tier={"Bronze": 1}, expired_cards=0,
        point_holders=1, active_30d=1, active_90d=1, issued=10, issued_by_reason={reason: 10}, redeemed=0,
        redemptions=0, burned_other=0, expired=0, outstanding=10, value_per_point="0.01", liability="0.1",
        redemption_rate=0.0, avg_days_earn_to_redeem=None, new_members=1, cards_ended=0, tier_moves={},
        p2p_transfers=0, p2p_volume=0, p2p_share=None, velocity=None, top_earners=[(A, 10)],
        perks=[PerkStats(1, title, 0, 0, 0, 0)], campaigns=[], cohorts=[],
        series=Series("day", ("1970-01-01",), {reason: (10,)}, (0,), (1,)),
    )  # fmt: skip


def program_record(root: Path) -> ProgramRecord:
    return ProgramRecord(
        name="cafe", chain_id=31337, addresses={}, tx_hashes={}, block=1, deployer=A, compiler="0.8.28",
        artifact_hashes={}, root=root,
    )  # fmt: skip


def status(unclaimed: tuple[Leaf, ...]) -> CampaignStatus:
    return CampaignStatus(
        campaign_id=1, kind="points", reason="r", root="0x" + "00" * 32, start=0, end=1, state="ended",
        claims=0, claimed=0, leaves=len(unclaimed), total=None, unclaimed=unclaimed, tree=None,
    )  # fmt: skip


def campaign_record(campaign_id: int = 1) -> CampaignRecord:
    return CampaignRecord(campaign_id, "points", "0x" + "00" * 32, 1, 1, "/t.json")


def sweep_leaves(path: Path) -> Path:
    _write_leaves(path, status((Leaf(0, A, 5, ()),)), 0)
    return path


WRITERS: dict[str, Callable[[Path], Path]] = {
    "rejects": lambda path: write_rejects(path, [Reject(2, ("nope", "1"), "not an address")]),
    "sweep": lambda path: sweep_leaves(path),
    "dashboard": lambda path: write_html(report(), path),
    "report csv": lambda path: next(p for p in write_csv_dir(report(), path.parent) if p.name == path.name),
}
"""Each writer, writing the file named ``path`` (the report's CSVs have fixed names in a folder)."""


def target_of(name: str, folder: Path) -> Path:
    if name == "report csv":
        return folder / "perks.csv"
    return folder / {"rejects": "drop.rejects.csv", "sweep": "left.csv", "dashboard": "d.html"}[name]


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_writers_never_follow_a_planted_symlink(name: str, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = tmp_path / "out"
    folder.mkdir()
    target = target_of(name, folder)
    planted = [target.with_name(target.name + ".tmp"), target.with_suffix(".tmp")]
    for link in planted:
        link.symlink_to(victim)
    written = WRITERS[name](target)
    assert written == target and target.is_file() and not target.is_symlink()
    assert victim.read_text() == "precious"
    # a symlink at the target itself is replaced, never written through
    target.unlink()
    target.symlink_to(victim)
    WRITERS[name](target)
    assert not target.is_symlink() and victim.read_text() == "precious"
    left = sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))
    assert left == sorted(p.name for p in planted)  # only what was planted: no temporary file left behind


def test_campaign_records_never_follow_a_planted_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    record = program_record(tmp_path / "deployments")
    path = records_path(record)
    path.parent.mkdir(parents=True)
    path.with_name(path.name + ".tmp").symlink_to(victim)
    assert save_record(record, campaign_record(1)) == path
    assert save_record(record, campaign_record(2)) == path
    assert victim.read_text() == "precious" and '"2"' in path.read_text()


def rows_of(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


@pytest.mark.parametrize("formula", FORMULAS)
def test_rejects_csv_cells_are_never_formulas(formula: str, tmp_path: Path) -> None:
    path = write_rejects(
        tmp_path / "r.csv", [Reject(3, (formula, "1"), formula), Reject(4, ("a", "b"), "ok")], ";"
    )
    assert rows_of(path) == [
        ["line", "row", "reason"],
        ["3", "'" + formula + ";1", "'" + formula],
        ["4", "a;b", "ok"],
    ]


@pytest.mark.parametrize("formula", FORMULAS)
def test_report_csv_cells_are_never_formulas(formula: str, tmp_path: Path) -> None:
    files = {p.name: p for p in write_csv_dir(report(title=formula, reason=formula), tmp_path)}
    assert rows_of(files["perks.csv"])[1][1] == "'" + formula
    assert rows_of(files["issued_by_reason.csv"])[1] == ["'" + formula, "10"]
    for path in files.values():
        for row in rows_of(path):
            assert not any(cell.startswith(FORMULA_PREFIXES) for cell in row), (path.name, row)
