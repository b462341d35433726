"""Tiers that follow activity through the brand's paths: the client (Tiers) and the CLI (`tiers …`,
`member progress`, `member show`, `member review`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.cli import run_json

from loyalty_chain.chain import Chain
from loyalty_chain.cli import main
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.errors import ContractRevertError, InputError
from loyalty_chain.mechanics import TierPeriod, Tiers
from loyalty_chain.mechanics.tiers import PeriodKind
from loyalty_chain.program import ProgramOptions, ProgramRecord, deploy_program

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


def _jump_to(chain: Chain, moment: int) -> None:
    chain.w3.provider.make_request("evm_setNextBlockTimestamp", [moment])  # type: ignore[arg-type]
    chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def _year(chain: Chain) -> int:
    return datetime.fromtimestamp(int(chain.w3.eth.get_block("latest")["timestamp"]), UTC).year


def _jan(year: int, day: int = 1) -> int:
    return int(datetime(year, 1, day, tzinfo=UTC).timestamp())


@pytest.fixture
def program(chain: Chain, tmp_path: Path) -> ProgramRecord:
    return deploy_program(chain, ProgramOptions("climbers"), chain.dev_account(0), root=tmp_path)


@pytest.fixture
def brand(chain: Chain, program: ProgramRecord) -> LoyaltyClient:
    client = LoyaltyClient(chain, program, chain.dev_account(0))
    client.enroll_many([(ALICE, "Bronze"), (BOB, "Bronze")])
    return client


def test_period_parsing() -> None:
    assert TierPeriod.parse("year") == TierPeriod(PeriodKind.CALENDAR, 12)
    assert TierPeriod.parse(" Quarter ") == TierPeriod(PeriodKind.CALENDAR, 3)
    assert TierPeriod.parse("calendar:2") == TierPeriod(PeriodKind.CALENDAR, 2)
    assert TierPeriod.parse("rolling:365d") == TierPeriod(PeriodKind.ROLLING, 365 * 86_400)
    assert TierPeriod.parse("rolling:365d").describe() == "rolling 365 days"
    for bad in ("decade", "calendar:5", "calendar:", "rolling:", "rolling:0"):
        with pytest.raises(InputError, match="is not one"):
            TierPeriod.parse(bad)
    with pytest.raises(InputError, match="duration 'x' must be a number"):
        TierPeriod.parse("rolling:x")


def test_members_climb_by_purchases_and_the_review_lowers_them(chain: Chain, brand: LoyaltyClient) -> None:
    tiers = Tiers(brand)
    assert not tiers.rules().enabled
    with pytest.raises(InputError, match="tiers enable climbers"):
        tiers.progress(ALICE)
    with pytest.raises(InputError, match="Bronze is the base tier"):
        tiers.enable({"Bronze": 10, "Silver": 1_000}, TierPeriod.parse("year"), ["purchase"])
    with pytest.raises(InputError, match="missing \\['Silver'\\]"):
        tiers.enable({"Gold": 5_000}, TierPeriod.parse("year"), ["purchase"])
    with pytest.raises(InputError, match="threshold of Gold"):
        tiers.enable([1_000, 1_000], TierPeriod.parse("year"), ["purchase"])
    with pytest.raises(InputError, match="1 to 2 thresholds"):
        tiers.enable([1, 2, 3], TierPeriod.parse("year"), ["purchase"])
    with pytest.raises(InputError, match="distinct, non-empty"):
        tiers.enable([1_000], TierPeriod.parse("year"), ["purchase", "purchase"])
    with pytest.raises(ContractRevertError, match="AccessControlUnauthorizedAccount"):
        Tiers(LoyaltyClient(chain, brand.record, chain.dev_account(1))).enable(
            [1_000], TierPeriod.parse("year"), ["purchase"]
        )

    year = _year(chain) + 1
    _jump_to(chain, _jan(year, 10))
    tiers.enable({"Silver": 1_000, "Gold": 5_000}, TierPeriod.parse("year"), ["purchase"])
    rules = tiers.rules()
    assert (rules.enabled, rules.card, rules.thresholds, rules.reasons) == (
        True,
        brand.card.address,
        (1_000, 5_000),
        ("purchase",),
    )
    brand.issue(ALICE, 800, "purchase")
    brand.issue(ALICE, 5_000, "welcome")  # not a qualifying reason
    progress = tiers.progress(ALICE)
    assert (progress.qualifying, progress.tier_name, progress.next_tier_name, progress.points_needed) == (
        800,
        "Bronze",
        "Silver",
        200,
    )
    assert (progress.period_end, progress.card_tier_name) == (_jan(year + 1), "Bronze")
    moved = brand.issue(ALICE, 200, "purchase")
    assert [ev.name for ev in moved.events if ev.name in ("TierChanged", "TierStatusChanged")] == [
        "TierStatusChanged",
        "TierChanged",
    ]
    assert brand.card_of(ALICE).tier_name == "Silver"  # type: ignore[union-attr]
    brand.issue_many([(BOB, 3_000), (BOB, 2_000)], "purchase")  # one batch, two entries: Gold
    assert tiers.progress(BOB).tier_name == "Gold" and tiers.progress(BOB).at_top

    assert tiers.review().due == 0  # nothing is due within the period
    _jump_to(chain, _jan(year + 2, 2))  # a year with no purchases: both drop to Bronze
    assert set(tiers.issued_to()) == {ALICE, BOB}
    assert set(tiers.due([ALICE, BOB])) == {ALICE, BOB}
    assert tiers.review(dry_run=True).transactions == ()
    result = tiers.review(batch_size=1)
    assert (result.checked, result.due, len(result.transactions)) == (2, 2, 2)
    assert sorted(result.changes) == sorted([(ALICE, 1, 0), (BOB, 2, 0)])
    assert brand.card_of(BOB).tier_name == "Bronze"  # type: ignore[union-attr]
    again = tiers.review()
    assert (again.due, again.changes, again.gas_used) == (0, (), 0)

    tiers.set_thresholds({"Silver": 500, "Gold": 900})
    tiers.set_reason("stay")
    assert tiers.rules().thresholds == (500, 900) and tiers.rules().reasons == ("purchase", "stay")
    brand.issue(ALICE, 600, "stay")
    assert brand.card_of(ALICE).tier_name == "Silver"  # type: ignore[union-attr]
    tiers.disable()
    assert not tiers.rules().enabled
    with pytest.raises(InputError, match="batch size"):
        tiers.review(batch_size=0)


def test_tier_commands(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOYALTY_CHAIN_RPC", chain.rpc_url)
    monkeypatch.setenv("LOYALTY_CHAIN_DEPLOYMENTS", str(tmp_path / "deployments"))
    run_json("deploy", "cafe")
    run_json("member", "enroll", "cafe", ALICE)
    assert main(["member", "progress", "cafe", ALICE]) == 1
    assert "tiers enable cafe" in capsys.readouterr().err
    assert main(["tiers", "enable", "cafe", "--threshold", "Silver"]) == 1
    assert "TIER=POINTS" in capsys.readouterr().err
    assert main(["tiers", "enable", "cafe", "--threshold", "Silver=10", "--period", "fortnight"]) == 1
    assert "is not one" in capsys.readouterr().err
    assert main(["--account", "dev:1", "tiers", "enable", "cafe", "--threshold", "Silver=10"]) == 1
    assert capsys.readouterr().err.startswith("error: ")

    year = _year(chain) + 1
    _jump_to(chain, _jan(year, 5))
    enabled = run_json("tiers", "enable", "cafe", "--threshold", "Silver=1000", "--threshold", "Gold=3000")
    assert enabled["thresholds"] == {"Silver": 1000, "Gold": 3000}
    assert (enabled["period_text"], enabled["reasons"]) == ("calendar year", ["purchase"])
    assert run_json("tiers", "show", "cafe")["enabled"] is True
    run_json("points", "issue", "cafe", ALICE, "1200", "--reason", "purchase")
    progress = run_json("member", "progress", "cafe", ALICE)
    assert (progress["qualifying_points"], progress["tier"], progress["next_tier"]) == (
        "1200",
        "Silver",
        "Gold",
    )
    assert (progress["points_needed"], progress["card_tier"]) == ("1800", "Silver")
    assert progress["period_ends"] == datetime(year + 1, 1, 1, tzinfo=UTC).isoformat()
    shown = run_json("member", "show", "cafe", ALICE)
    assert shown["card"]["tier"] == "Silver" and shown["progress"]["next_tier"] == "Gold"  # type: ignore[index]
    assert main(["member", "progress", "cafe", ALICE]) == 0
    assert "1,800 more to Gold" in capsys.readouterr().out

    assert run_json("member", "review", "cafe")["due"] == 0
    _jump_to(chain, _jan(year + 2, 3))
    assert run_json("member", "review", "cafe", "--dry-run")["due"] == 1
    reviewed = run_json("member", "review", "cafe")
    assert (reviewed["checked"], reviewed["due"]) == (1, 1)
    assert reviewed["changes"] == [{"member": ALICE, "from": "Silver", "to": "Bronze"}]
    assert run_json("member", "review", "cafe")["due"] == 0
    assert run_json("member", "show", "cafe", ALICE)["card"]["tier"] == "Bronze"  # type: ignore[index]
    assert run_json("tiers", "thresholds", "cafe", "--threshold", "Silver=10")["thresholds"] == {"Silver": 10}
    assert run_json("tiers", "reason", "cafe", "stay")["reasons"] == ["purchase", "stay"]
    assert run_json("tiers", "reason", "cafe", "purchase", "--remove")["reasons"] == ["stay"]
    assert run_json("tiers", "disable", "cafe")["enabled"] is False
    assert "progress" not in run_json("member", "show", "cafe", ALICE)
