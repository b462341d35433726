"""Expiring points through the brand's paths: deploy with expiry, the client's next expiry, the record
check, `member show`, the report's breakage, and the terms' parsing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from loyalty_chain.chain import Chain
from loyalty_chain.cli import cli, main
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.errors import ContractRevertError, InputError
from loyalty_chain.expiry import ExpiryTerms, expired_points, max_validity, parse_epoch
from loyalty_chain.program import ProgramOptions, ProgramRecord, deploy_program, load_program
from loyalty_chain.reports import program_report

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
EPOCH = 600


def travel(chain: Chain, timestamp: int) -> None:
    chain.w3.provider.make_request("evm_mine", [timestamp])  # type: ignore[arg-type]


def now(chain: Chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


@pytest.fixture
def program(chain: Chain, tmp_path: Path) -> ProgramRecord:
    travel(chain, (now(chain) // EPOCH + 2) * EPOCH)  # the first second of an epoch
    options = ProgramOptions("miles", expiry=ExpiryTerms(EPOCH, 3))
    return deploy_program(chain, options, chain.dev_account(0), root=tmp_path)


def test_parse_epoch_and_terms() -> None:
    assert parse_epoch("30d") == ("time", 30 * 86_400)
    assert parse_epoch("12h") == ("time", 43_200)
    assert parse_epoch("90m") == ("time", 5_400)
    assert parse_epoch("3600") == ("time", 3_600)
    assert parse_epoch("1000blocks") == ("blocks", 1_000)
    assert parse_epoch("7b") == ("blocks", 7)
    for bad in ("", "0d", "-1d", "thirty days", "30y"):
        with pytest.raises(InputError, match="epoch length"):
            parse_epoch(bad)
    assert [max_validity(d) for d in (0, 2, 6, 18, 58, 59)] == [7, 6, 4, 2, 1, 0]
    with pytest.raises(InputError, match=r"validity 8 epochs does not fit: at 0 decimals .* 1\.\.7"):
        ExpiryTerms(86_400, 8).validate(0)
    with pytest.raises(InputError, match="validity 3 epochs does not fit: at 18 decimals"):
        ProgramOptions("x", decimals=18, expiry=ExpiryTerms(86_400, 3)).validate()
    with pytest.raises(InputError, match="validity 0"):
        ExpiryTerms.parse("30d", 0).validate(0)


def test_points_expire_for_the_client_the_record_and_the_report(
    chain: Chain, program: ProgramRecord, tmp_path: Path
) -> None:
    assert program.points_contract == "ExpiringPoints"
    record = load_program(chain, "miles", tmp_path)  # passes the record check with the expiring artifact
    assert record.options["expiry"] == {"epoch_length": EPOCH, "validity": 3, "epoch_type": "time"}
    brand = LoyaltyClient(chain, record, chain.dev_account(0))
    assert brand.expiry == ExpiryTerms(EPOCH, 3)
    epoch = now(chain) // EPOCH
    brand.issue(ALICE, 100, "purchase")
    travel(chain, (epoch + 1) * EPOCH)
    brand.issue(ALICE, 40, "purchase")
    upcoming = brand.next_expiry(ALICE)
    assert upcoming is not None and (upcoming.amount, upcoming.expires_at) == (100, (epoch + 3) * EPOCH)
    assert brand.next_expiry(BOB) is None
    alice = LoyaltyClient(chain, record, chain.dev_account(1))
    alice.transfer(BOB, 30)  # oldest first: 30 of the first 100, which keep their expiry
    assert brand.next_expiry(BOB) == upcoming.__class__(30, (epoch + 3) * EPOCH)
    travel(chain, (epoch + 3) * EPOCH)
    assert (brand.balance(ALICE), brand.balance(BOB), brand.total_supply()) == (40, 0, 40)
    assert expired_points(chain, record) == 100
    with pytest.raises(ContractRevertError, match="ERC20InsufficientBalance"):
        alice.transfer(BOB, 41)
    report = program_report(chain, record, cache=tmp_path / "kpi.sqlite")
    assert (report.issued, report.expired, report.outstanding) == (140, 100, 40)


def test_deploy_and_member_show_on_the_command_line(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOYALTY_CHAIN_RPC", chain.rpc_url)
    monkeypatch.setenv("LOYALTY_CHAIN_DEPLOYMENTS", str(tmp_path / "deployments"))

    def run(*args: str) -> str:
        outcome = CliRunner().invoke(cli, list(args))
        assert outcome.exception is None or isinstance(outcome.exception, SystemExit), outcome.exception
        assert outcome.exit_code == 0, (args, outcome.output)
        return outcome.output

    assert main(["deploy", "air", "--expiry-epoch", "30d", "--validity", "9"]) == 1
    assert "validity 9 epochs does not fit" in capsys.readouterr().err
    assert main(["deploy", "air", "--validity", "4"]) == 1
    assert "--validity needs --expiry-epoch" in capsys.readouterr().err
    assert main(["deploy", "air", "--expiry-epoch", "30 days", "--validity", "4"]) == 1
    assert "epoch length '30 days'" in capsys.readouterr().err
    deployed = json.loads(run("--json", "deploy", "air", "--expiry-epoch", "30d", "--validity", "4"))
    assert deployed["expiry"] == {"epoch_length": 2_592_000, "validity": 4, "epoch_type": "time"}
    run("points", "issue", "air", ALICE, "150", "--reason", "purchase")
    shown = json.loads(run("--json", "member", "show", "air", ALICE))
    assert shown["card"] is None and shown["points"] == 150
    assert shown["next_expiry"]["amount"] == 150 and shown["next_expiry"]["expires_at"] % 2_592_000 == 0
    human = run("member", "show", "air", ALICE)
    assert "150 points, next expiry: 150 on " in human
    plain = json.loads(run("--json", "deploy", "plain"))
    assert "expiry" not in plain
