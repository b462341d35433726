"""Giving through the brand's paths: the client (Giving), the record check, the report and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import run_json

from loyalty_chain.chain import Chain
from loyalty_chain.cli import main
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.errors import ContractRevertError, DeploymentError, InputError, MechanicNotEnabledError
from loyalty_chain.mechanics import Giving
from loyalty_chain.program import ProgramOptions, ProgramRecord, deploy_program, load_program
from loyalty_chain.reports import program_report

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
CHARITY_WALLET = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


@pytest.fixture
def program(chain: Chain, tmp_path: Path) -> ProgramRecord:
    return deploy_program(
        chain, ProgramOptions("givers", transfer_policy="locked"), chain.dev_account(0), root=tmp_path
    )


@pytest.fixture
def brand(chain: Chain, program: ProgramRecord) -> LoyaltyClient:
    return LoyaltyClient(chain, program, chain.dev_account(0))


def test_members_donate_under_a_locked_policy_and_the_report_counts_it(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient, tmp_path: Path
) -> None:
    with pytest.raises(MechanicNotEnabledError, match="loyalty-chain giving enable"):
        Giving(brand)
    with pytest.raises(DeploymentError, match="not the admin"):
        Giving.enable(LoyaltyClient(chain, program, chain.dev_account(1)))
    giving = Giving.enable(brand)
    with pytest.raises(DeploymentError, match="already has its CharityRegistry"):
        Giving.enable(brand)
    record = load_program(chain, "givers", tmp_path)  # the add-on is recorded and passes the record check
    assert record.addresses["CharityRegistry"] == giving.address

    bank = giving.add_charity(CHARITY_WALLET, "Food Bank")
    shelter = giving.add_charity(CHARITY_WALLET, "Shelter")
    assert (bank.charity_id, bank.name, bank.active, bank.donated) == (1, "Food Bank", True, 0)
    with pytest.raises(InputError, match="charity name"):
        giving.add_charity(CHARITY_WALLET, "x" * 33)

    alice = chain.dev_account(1)
    brand.issue(alice.address, 100, "purchase")
    member = Giving(LoyaltyClient(chain, record, alice))
    donation = member.donate(bank.charity_id, 30)
    assert (donation.member, donation.amount, donation.charity_total) == (alice.address, 30, 30)
    member.donate(shelter.charity_id, 5)
    assert brand.balance(alice.address) == 65
    assert [c.donated for c in giving.charities()] == [30, 5]
    assert member.find("food bank") == giving.charity(1)
    with pytest.raises(InputError, match="no charity named 'Zoo'"):
        member.find("Zoo")
    with pytest.raises(ContractRevertError, match="ERC20InsufficientBalance"):
        member.donate(1, 66)
    giving.set_active(2, False)
    with pytest.raises(ContractRevertError, match="GivingCharityInactive"):
        member.donate(2, 1)
    with pytest.raises(ContractRevertError, match="AccessControlUnauthorizedAccount"):
        member.set_active(1, False)

    report = program_report(chain, record, cache=tmp_path / "kpi.sqlite")
    assert (report.donated, report.donations) == (35, 2)
    assert report.donated_per_charity == {"Food Bank": 30, "Shelter": 5}
    assert report.burned_other == 0 and report.outstanding == 65


def test_a_record_pointing_giving_elsewhere_is_refused(
    chain: Chain, program: ProgramRecord, brand: LoyaltyClient, tmp_path: Path
) -> None:
    Giving.enable(brand)
    path = program.path
    data = json.loads(path.read_text())
    data["addresses"]["CharityRegistry"] = data["addresses"]["PerkCatalog"]
    path.write_text(json.dumps(data))
    with pytest.raises(DeploymentError, match="CharityRegistry"):
        load_program(chain, "givers", tmp_path)


def test_giving_commands(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOYALTY_CHAIN_RPC", chain.rpc_url)
    monkeypatch.setenv("LOYALTY_CHAIN_DEPLOYMENTS", str(tmp_path / "deployments"))
    run_json("deploy", "cafe", "--transfer-policy", "locked")
    assert main(["giving", "list", "cafe"]) == 1
    assert "giving enable" in capsys.readouterr().err
    assert main(["--account", "dev:1", "giving", "enable", "cafe"]) == 1
    assert "not the admin" in capsys.readouterr().err
    enabled = run_json("giving", "enable", "cafe")
    assert str(enabled["charity_registry"]).startswith("0x")
    added = run_json("giving", "add", "cafe", CHARITY_WALLET, "Food Bank")
    assert (added["charity_id"], added["active"], added["donated"]) == (1, True, 0)
    run_json("points", "issue", "cafe", ALICE, "50")
    donated = run_json("--account", "dev:1", "giving", "donate", "cafe", "Food Bank", "20")
    assert (donated["charity_id"], donated["amount"], donated["charity_total"]) == (1, 20, 20)
    listed = run_json("giving", "list", "cafe")
    assert listed["charities"] == [{**added, "donated": 20, "donated_points": "20"}]
    assert run_json("giving", "close", "cafe", "1")["active"] is False
    assert main(["--account", "dev:1", "giving", "donate", "cafe", "1", "5"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "GivingCharityInactive" in err
    assert run_json("giving", "close", "cafe", "Food Bank", "--reopen")["active"] is True
    assert main(["--account", "dev:1", "giving", "donate", "cafe", "9", "5"]) == 1
    assert "GivingUnknownCharity" in capsys.readouterr().err
