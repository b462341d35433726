"""Partner exchange through the brand's paths: two programs with different admins agree, members convert,
each side pauses and closes; the record is checked on load; the ``exchange`` commands with --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import run_json

from loyalty_chain.chain import Chain
from loyalty_chain.cli import main
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.errors import ContractRevertError, DeploymentError, InputError
from loyalty_chain.mechanics.exchange import Exchange
from loyalty_chain.mechanics.exchange_record import ExchangeTerms, parse_duration, parse_rate
from loyalty_chain.program import ProgramOptions, deploy_program, role

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_two_brands_agree_and_a_member_converts(chain: Chain, tmp_path: Path) -> None:
    cafe_admin, alice, bakery_admin = chain.dev_account(0), chain.dev_account(1), chain.dev_account(5)
    cafe = deploy_program(chain, ProgramOptions("cafe", transfer_policy="locked"), cafe_admin, root=tmp_path)
    bakery = deploy_program(chain, ProgramOptions("bakery"), bakery_admin, root=tmp_path)
    LoyaltyClient(chain, cafe, cafe_admin).issue(alice.address, 2_000, "purchase")
    terms = ExchangeTerms(100, 80, minimum=100, cap=1_000, period=30 * 86_400)

    with pytest.raises(DeploymentError, match="not the admin of program 'cafe'"):
        Exchange.open(chain, cafe, bakery, terms, alice, root=tmp_path)
    with pytest.raises(InputError, match="a cap needs a period"):
        Exchange.open(chain, cafe, bakery, ExchangeTerms(100, 80, cap=5), cafe_admin, root=tmp_path)
    offered = Exchange.open(chain, cafe, bakery, terms, cafe_admin, root=tmp_path)
    assert offered.state().open_a and not offered.state().open_b
    with pytest.raises(DeploymentError, match="already recorded"):
        Exchange.open(chain, cafe, bakery, terms, cafe_admin, root=tmp_path)

    member = Exchange.load(chain, "cafe", "bakery", alice, root=tmp_path)
    with pytest.raises(ContractRevertError, match="ExchangeNotOpen"):
        member.convert(500)
    with pytest.raises(InputError, match="manages neither side"):
        member.open_sides()
    Exchange.load(chain, "cafe", "bakery", bakery_admin, root=tmp_path).open_sides()  # B agrees
    assert member.state().converting

    done = member.convert(500)
    assert (done.amount_in, done.amount_out, done.fee) == (500, 400, 0)
    assert LoyaltyClient(chain, bakery, alice).balance(alice.address) == 400
    assert LoyaltyClient(chain, cafe, alice).balance(alice.address) == 1_500
    left, ends = member.remaining(alice.address)
    assert left == 500 and ends is not None and ends % (30 * 86_400) == 0
    assert member.quote(1_000) == (800, 0)
    with pytest.raises(ContractRevertError, match="ExchangeCapExceeded"):
        member.convert(600)
    with pytest.raises(ContractRevertError, match="ExchangeBelowMinimum"):
        member.convert(99)

    bakery_side = Exchange.load(chain, "cafe", "bakery", bakery_admin, root=tmp_path)
    bakery_side.pause_sides()
    with pytest.raises(ContractRevertError, match="ExchangeNotOpen"):
        member.convert(100)
    bakery_side.pause_sides(False)
    member.convert(100)

    Exchange.load(chain, "cafe", "bakery", cafe_admin, root=tmp_path).close()
    assert member.state().closed
    assert not offered.points_a.functions.hasRole(role("REDEEMER_ROLE"), offered.record.address).call()
    with pytest.raises(ContractRevertError, match="ExchangeIsClosed"):
        member.convert(100)


def test_an_edited_exchange_record_is_refused(chain: Chain, tmp_path: Path) -> None:
    admin = chain.dev_account(0)
    a = deploy_program(chain, ProgramOptions("a"), admin, root=tmp_path)
    b = deploy_program(chain, ProgramOptions("b"), admin, root=tmp_path)
    ex = Exchange.open(chain, a, b, ExchangeTerms(1, 1), admin, root=tmp_path)
    assert ex.state().converting  # one admin of both: both sides opened at once
    data = json.loads(ex.record.path.read_text())
    data["address"] = a.addresses["PerkCatalog"]
    ex.record.path.write_text(json.dumps(data))
    with pytest.raises(DeploymentError, match="is not a PartnerExchange"):
        Exchange.load(chain, "a", "b", admin, root=tmp_path)
    with pytest.raises(DeploymentError, match="no exchange from 'b' to 'a'"):
        Exchange.load(chain, "b", "a", admin, root=tmp_path)


def test_a_record_left_by_a_devnet_that_is_gone_is_set_aside(
    chain: Chain, fresh_anvil: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make demo` twice: the second devnet has the same chain id and addresses; the first one's
    exchange record must not block opening the exchange again (it is kept beside, as stale)."""
    admin = chain.dev_account(0)
    for where in (chain, fresh_anvil):
        a = deploy_program(where, ProgramOptions("a"), admin, root=tmp_path)
        b = deploy_program(where, ProgramOptions("b"), admin, root=tmp_path)
        assert Exchange.open(where, a, b, ExchangeTerms(1, 1), admin, root=tmp_path).state().converting
    folder = tmp_path / "31337" / "exchanges"
    live, kept = sorted(p.name for p in folder.iterdir())
    assert live == "a--b.json" and kept.startswith("a--b.stale-"), (kept, live)
    with pytest.raises(DeploymentError, match="already recorded"):  # a live one still refuses
        Exchange.open(fresh_anvil, a, b, ExchangeTerms(1, 1), admin, root=tmp_path)

    # the same through the CLI, back on `chain`: the a--b record (of fresh_anvil) is stale there
    monkeypatch.setenv("LOYALTY_CHAIN_DEPLOYMENTS", str(tmp_path))
    monkeypatch.setenv("LOYALTY_CHAIN_RPC", chain.rpc_url)
    for name in ("a", "b"):
        deploy_program(chain, ProgramOptions(name), admin, root=tmp_path)
    assert run_json("exchange", "open", "a", "b", "--rate", "1:1")
    assert len(list(folder.glob("a--b.stale-*.json"))) == 2


def test_parsing_terms() -> None:
    assert parse_rate("100:80") == (100, 80)
    assert [parse_duration(t) for t in ("30d", "12h", "90", "2w")] == [2_592_000, 43_200, 90, 1_209_600]
    for bad in ("100", "a:b", "1:2:3"):
        with pytest.raises(InputError, match="must be A:B"):
            parse_rate(bad)
    with pytest.raises(InputError, match="duration"):
        parse_duration("30 days")


def test_exchange_commands(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOYALTY_CHAIN_RPC", chain.rpc_url)
    monkeypatch.setenv("LOYALTY_CHAIN_DEPLOYMENTS", str(tmp_path / "deployments"))
    run_json("deploy", "cafe")
    run_json("deploy", "bakery")
    run_json("points", "issue", "cafe", ALICE, "1000")
    assert main(["exchange", "open", "cafe", "bakery"]) == 1
    assert "give its --rate" in capsys.readouterr().err
    opened = run_json("exchange", "open", "cafe", "bakery", "--rate", "100:80", "--minimum", "100",
                      "--cap", "500", "--period", "30d")  # fmt: skip
    assert opened["converting"] is True
    assert opened["terms"] == {"rate_from": 100, "rate_to": 80, "minimum": 100, "cap": 500,
                               "period": 2_592_000, "fee_bps": 0}  # fmt: skip
    done = run_json("--account", "dev:1", "exchange", "convert", "cafe", "bakery", "250")
    assert (done["amount_in"], done["amount_out"], done["fee"]) == (250, 200, 0)
    shown = run_json("exchange", "show", "cafe", "bakery", "--member", ALICE, "--amount", "99")
    assert shown["member"]["cap_left"] == 250  # type: ignore[index]
    assert shown["quote"] == {"amount_in": 99, "amount_out": 79, "fee": 0}
    assert main(["--account", "dev:1", "exchange", "convert", "cafe", "bakery", "50"]) == 1
    assert "ExchangeBelowMinimum" in capsys.readouterr().err
    assert run_json("exchange", "close", "cafe", "bakery", "--pause")["converting"] is False
    assert main(["--account", "dev:1", "exchange", "convert", "cafe", "bakery", "100"]) == 1
    assert "ExchangeNotOpen" in capsys.readouterr().err
    assert run_json("exchange", "close", "cafe", "bakery", "--resume")["converting"] is True
    assert main(["exchange", "open", "cafe", "bakery", "--rate", "1:1"]) == 1
    assert "already recorded" in capsys.readouterr().err
    assert run_json("exchange", "close", "cafe", "bakery")["closed"] is True

    run_json("points", "issue", "bakery", ALICE, "1000")
    run_json("exchange", "open", "bakery", "cafe", "--rate", "100:1")
    assert main(["--account", "dev:1", "exchange", "convert", "bakery", "cafe", "99"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "ExchangeRoundsToZero" in err and "amountIn=99" in err
