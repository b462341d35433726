"""A CRM export as it really is, sent by the CLI: mapped columns, extra columns ignored, ``;`` and tab
delimiters, bad rows rejected to FILE.rejects.csv while the rest is paid, merged duplicates reported,
and next month's file paying only its new rows (``--once-per-reason``, checked on chain)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak, to_checksum_address

from loyalty_chain.chain import Chain
from loyalty_chain.cli import main
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.program import ProgramOptions, ProgramRecord, deploy_program


def customer(i: int) -> str:
    return to_checksum_address(keccak(b"crm-%d" % i)[-20:])


@pytest.fixture
def program(chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProgramRecord:
    monkeypatch.setenv("LOYALTY_CHAIN_DEPLOYMENTS", str(tmp_path / "deployments"))
    return deploy_program(chain, ProgramOptions("crm"), chain.dev_account(0))


@pytest.fixture
def cli(chain: Chain, capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*args: str) -> tuple[int, Any, str]:
        code = main(["--rpc", chain.rpc_url, "--json", *args])
        out, err = capsys.readouterr()
        return code, json.loads(out) if out.strip() else None, err

    return run


def export(path: Path, rows: list[list[str]], delimiter: str = ";") -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(["Email", "Signup Date", "Wallet Address", "Points", "Campaign"])
        writer.writerows(rows)
    return path


def month(n: int) -> list[list[str]]:
    return [[f"c{i}@example.com", "2026-01-02", customer(i), str(10 + i), "month-bonus"] for i in range(n)]


MAPPING = ("--address-column", "Wallet Address", "--amount-column", "Points", "--reason-column", "Campaign")


def test_a_real_export_is_sent_minus_its_bad_rows(
    chain: Chain, program: ProgramRecord, cli: Any, tmp_path: Path
) -> None:
    rows = month(20)
    rows[3][2] = "0x123"  # bad address
    rows[7][3] = "-5"  # bad amount
    rows.append([*rows[0][:3], "1", "month-bonus"])  # a duplicate: merged into row 0's total
    path = export(tmp_path / "crm.csv", rows)

    code, refused, _ = cli("airdrop", "points", "crm", str(path), *MAPPING, "--dry-run")
    assert code == 1 and [p["line"] for p in refused["problems"]] == [5, 9]  # refused whole by default

    code, plan, _ = cli("airdrop", "points", "crm", str(path), *MAPPING, "--skip-invalid", "--dry-run")
    assert code == 0
    assert (plan["rows"], plan["recipients"], plan["merged_duplicates"], plan["rejected"]) == (21, 18, 1, 2)
    assert plan["to_send"] == 18
    rejects = list(csv.reader((tmp_path / "crm.rejects.csv").read_text().splitlines()))
    assert rejects[0] == ["line", "row", "reason"]
    assert [(r[0], r[1].split(";")[2]) for r in rejects[1:]] == [("5", "0x123"), ("9", customer(7))]
    assert "amount '-5'" in rejects[2][2]

    code, report, _ = cli("airdrop", "points", "crm", str(path), *MAPPING, "--skip-invalid")
    assert code == 0 and report["sent"] == 18 and report["rejected"] == 2 and report["merged_duplicates"] == 1
    brand = LoyaltyClient(chain, program, chain.dev_account(0))
    assert brand.balance(customer(0)) == 11 and brand.balance(customer(3)) == 0


def test_tab_delimited_cards_with_mapped_columns(
    chain: Chain, program: ProgramRecord, cli: Any, tmp_path: Path
) -> None:
    path = tmp_path / "members.tsv"
    path.write_text("Name\tWallet\tLevel\nann\t" + customer(1) + "\tGold\nbob\t" + customer(2) + "\t0\n")
    code, report, _ = cli("airdrop", "cards", "crm", str(path), "--address-column", "wallet", "--tier-column",
                          "LEVEL")  # fmt: skip
    assert code == 0 and report["sent"] == 2
    brand = LoyaltyClient(chain, program, chain.dev_account(0))
    card = brand.card_of(customer(1))
    assert card is not None and card.tier == 2


def test_next_months_file_pays_only_the_new_rows(
    chain: Chain, program: ProgramRecord, cli: Any, tmp_path: Path
) -> None:
    first = export(tmp_path / "january.csv", month(30))
    code, report, _ = cli("airdrop", "points", "crm", str(first), *MAPPING, "--once-per-reason")
    assert code == 0 and report["sent"] == 30

    second = export(tmp_path / "february.csv", month(32))  # the same customers and two new ones
    code, plan, _ = cli("airdrop", "points", "crm", str(second), *MAPPING, "--once-per-reason", "--dry-run")
    assert code == 0 and (plan["to_send"], plan["skipped_already_received"]) == (2, 30)
    code, report, _ = cli("airdrop", "points", "crm", str(second), *MAPPING, "--once-per-reason")
    assert code == 0 and report["sent"] == 2 and len(report["skipped"]) == 30
    assert "already received 'month-bonus' from this program" in report["skipped"][0]["reason"]
    brand = LoyaltyClient(chain, program, chain.dev_account(0))
    assert brand.balance(customer(0)) == 10 and brand.balance(customer(31)) == 41
    # another reason is not skipped
    code, plan, _ = cli("airdrop", "points", "crm", str(second), "--address-column", "Wallet Address",
                        "--amount-column", "Points", "--reason", "spring", "--once-per-reason", "--dry-run",
                        "--journal", str(tmp_path / "spring.journal.sqlite"))  # fmt: skip
    assert code == 0 and plan["to_send"] == 32


def test_merkle_build_reads_the_same_exports(cli: Any, tmp_path: Path) -> None:
    rows = month(5)
    rows[2][2] = "nope"
    path = export(tmp_path / "crm.csv", rows)
    code, built, _ = cli("merkle", "build", str(path), "--out", str(tmp_path / "t.json"), "--address-column",
                         "Wallet Address", "--amount-column", "Points", "--skip-invalid")  # fmt: skip
    assert code == 0 and (built["kind"], built["leaves"], built["rejected"]) == ("points", 4, 1)
    assert (tmp_path / "crm.rejects.csv").read_text().count("\n") == 2
