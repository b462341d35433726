"""Every CLI command through click's runner and as a subprocess, against the managed devnet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support.cli import run, run_json

from loyalty_chain.chain import Chain, free_port
from loyalty_chain.cli import cli

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


def test_program_commands_end_to_end(cli_env: dict[str, str]) -> None:
    deployed = run_json("deploy", "cafe", "--symbol", "CAFE", "--tiers", "Green,Gold")
    assert isinstance(deployed, dict) and set(deployed["addresses"]) >= {"LoyaltyPoints", "PerkCatalog"}
    assert Path(deployed["record"]).is_file()

    run("points", "issue", "cafe", ALICE, "150", "--reason", "purchase")
    assert run_json("points", "balance", "cafe", ALICE) == {"address": ALICE, "balance": 150, "decimals": 0}
    run("--account", "dev:1", "points", "transfer", "cafe", BOB, "20")
    assert run_json("points", "balance", "cafe", BOB)["balance"] == 20  # type: ignore[index]

    enrolled = run_json("member", "enroll", "cafe", ALICE, "--tier", "Gold", "--valid-until", "2031-05-01")
    assert enrolled["tier"] == "Gold"  # type: ignore[index]
    shown = run_json("member", "show", "cafe", ALICE)
    assert shown["card"]["tier"] == "Gold" and shown["card"]["active"] is True  # type: ignore[index]
    assert run_json("member", "show", "cafe", BOB) == {"address": BOB, "card": None}

    added = run_json("perk", "add", "cafe", "--title", "Croissant", "--price", "40", "--per-wallet", "2")
    assert added == {"perk_id": 1, "title": "Croissant"}
    listed = run_json("perk", "list", "cafe")
    assert isinstance(listed, list) and listed[0]["title"] == "Croissant" and listed[0]["stock"] is None

    redeemed = run_json("perk", "redeem", "cafe", "1", "--account", "dev:1")
    assert redeemed["redemption_id"] == 1 and redeemed["points_burned"] == 40  # type: ignore[index]
    gasless = run_json("perk", "redeem", "cafe", "1", "--account", "dev:1", "--gasless")  # dev:0 relays
    assert gasless["redemption_id"] == 2 and gasless["gasless"] is True  # type: ignore[index]
    assert run_json("points", "balance", "cafe", ALICE)["balance"] == 50  # type: ignore[index]


def test_request_and_relay_with_a_wallet_signature(
    cli_env: dict[str, str], tmp_path: Path, chain: Chain
) -> None:
    from loyalty_chain.gasless import sign_typed_data

    run("deploy", "cafe")
    run("points", "issue", "cafe", ALICE, "100")
    run("member", "enroll", "cafe", ALICE)
    run("perk", "add", "cafe", "--title", "Tea", "--price", "30")
    relayer = chain.dev_account(2).address  # the only account that may submit it
    typed = json.loads(run("perk", "request", "cafe", "1", "--member", ALICE, "--relayer", relayer, "--json"))
    assert typed["primaryType"] == "Redemption" and typed["message"]["member"] == ALICE
    assert (typed["message"]["relayer"], typed["message"]["maxCost"]) == (relayer, "30")
    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps(typed))
    signature = sign_typed_data(chain.dev_account(1), typed)  # the member's wallet
    relayed = run_json("perk", "relay", "cafe", str(request_file), signature, "--account", "dev:2")
    assert relayed["member"] == ALICE and relayed["points_burned"] == 30  # type: ignore[index]


def test_accounts_new_import_list(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOYALTY_CHAIN_PASSWORD", "correct horse")
    created = run_json("accounts", "new", "brand")
    assert isinstance(created, dict) and created["address"].startswith("0x")
    listed = run_json("accounts", "list")
    assert [a["name"] for a in listed] == ["brand"]  # type: ignore[union-attr,index]
    assert oct(Path(created["path"]).stat().st_mode & 0o777) == "0o600"


def test_keystore_account_signs_a_deploy(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, chain: Chain
) -> None:
    from loyalty_chain.accounts import new_account

    monkeypatch.setenv("LOYALTY_CHAIN_PASSWORD", "pw-123456")
    info = new_account("ops", "pw-123456", iterations=2)
    # fund the keystore account from a dev account
    dev = chain.dev_account(0)
    tx = {
        "to": info.address,
        "value": 10**18,
        "gas": 21000,
        "chainId": chain.chain_id,
        "nonce": chain.w3.eth.get_transaction_count(dev.address),
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 1,
    }
    chain.w3.eth.wait_for_transaction_receipt(
        chain.w3.eth.send_raw_transaction(dev.sign_transaction(tx).raw_transaction)
    )
    deployed = run_json("--account", "ops", "deploy", "opsprog")
    assert isinstance(deployed, dict)
    record = json.loads(Path(deployed["record"]).read_text())
    assert record["deployer"] == info.address


FAILURES = [
    (("points", "balance", "nope", ALICE), "no program named 'nope'"),
    (("points", "issue", "cafe", ALICE.lower()[:-1] + "C", "5"), "bad checksum"),
    (("points", "issue", "cafe", ALICE, "--", "-5"), "negative"),
    (("points", "issue", "cafe", ALICE, "1.5"), "has a fractional part"),
    (("points", "transfer", "cafe", BOB, "5", "--account", "dev:3"), "ERC20InsufficientBalance"),
    (("member", "enroll", "cafe", ALICE, "--tier", "Platinum"), "unknown tier 'Platinum'"),
    (("perk", "redeem", "cafe", "9", "--account", "dev:1"), "CatalogUnknownPerk"),
    (("perk", "redeem", "cafe", "1", "--gasless", "--relayer", "dev:99"), "out of range"),
    (("--account", "nobody", "points", "issue", "cafe", ALICE, "1"), "nobody"),
]
"""Each: the arguments and what the one-line reason must say."""

AS_A_PROCESS = (0, 1, 4)
"""The cases also run as a real process (no traceback on stderr, exit status 1): an unknown
program, bad input, a decoded revert. The rest run in-process: a process each costs ~1.5 s of CPU."""


def test_failures_exit_non_zero_with_one_line_reason(
    cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from loyalty_chain.cli import main

    run("deploy", "cafe")
    for args, message in FAILURES:
        assert main(list(args)) == 1, args
        err = capsys.readouterr().err
        assert message in err and err.startswith("error: ") and err.count("\n") == 1, (args, err)
    for args, message in (FAILURES[i] for i in AS_A_PROCESS):
        out = subprocess.run(
            [sys.executable, "-m", "loyalty_chain.cli", *args],
            capture_output=True,
            text=True,
            env={**os.environ, **cli_env},
        )
        assert out.returncode == 1, out.stdout + out.stderr
        assert message in out.stderr
        assert out.stderr.startswith("error: ") and out.stderr.count("\n") == 1


def test_rpc_down_is_reported(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    out = subprocess.run(
        [sys.executable, "-m", "loyalty_chain.cli", "--rpc", url, "points", "balance", "x", ALICE],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 1
    assert f"no JSON-RPC node answers at {url}" in out.stderr


def test_every_program_command_as_a_subprocess(
    cli_env: dict[str, str], tmp_path: Path, chain: Chain, capsys: pytest.CaptureFixture[str]
) -> None:
    """The installed entry point, end to end, --json after the command as the issue writes it.

    A write, a read and the relay of a wallet's signature run as processes of the installed
    ``loyalty-chain``; the other commands go through the same ``main`` in this process (a
    process each costs ~1.5 s of CPU, mostly importing web3)."""
    from loyalty_chain.cli import main
    from loyalty_chain.gasless import sign_typed_data

    def cmd(*args: str, process: bool = False) -> Any:
        if not process:
            assert main([*args, "--json"]) == 0, (args, capsys.readouterr().err)
            return json.loads(capsys.readouterr().out)
        out = subprocess.run(
            [str(Path(sys.executable).parent / "loyalty-chain"), *args, "--json"],
            capture_output=True,
            text=True,
            env={**os.environ, **cli_env},
        )
        assert out.returncode == 0, (args, out.stderr)
        return json.loads(out.stdout)

    assert cmd("deploy", "sub", "--soulbound", "--cap", "1000", process=True)["program"] == "sub"
    assert cmd("points", "issue", "sub", ALICE, "70", "--reason", "referral")["amount"] == 70
    assert cmd("points", "transfer", "sub", BOB, "5", "--account", "dev:1")["tx_hash"].startswith("0x")
    assert cmd("points", "balance", "sub", BOB, process=True)["balance"] == 5
    assert cmd("member", "enroll", "sub", ALICE, "--tier", "Silver")["tier"] == "Silver"
    assert cmd("member", "show", "sub", ALICE)["card"]["tier"] == "Silver"
    assert cmd("perk", "add", "sub", "--title", "Mug", "--price", "20", "--stock", "3")["perk_id"] == 1
    assert cmd("perk", "list", "sub")[0]["stock"] == 3
    assert cmd("perk", "redeem", "sub", "1", "--account", "dev:1")["points_burned"] == 20
    typed = cmd("perk", "request", "sub", "1", "--member", ALICE)
    request = tmp_path / "request.json"
    request.write_text(json.dumps(typed))
    signature = sign_typed_data(chain.dev_account(1), typed)
    assert cmd("perk", "relay", "sub", str(request), signature, process=True)["points_burned"] == 20
    assert cmd("accounts", "list") == []


def test_accounts_import_keystore_and_private_key_from_stdin(cli_env: dict[str, str], tmp_path: Path) -> None:
    from eth_account import Account

    key = Account.create()
    source = tmp_path / "exported.json"
    source.write_text(json.dumps(Account.encrypt(key.key, "export-pw", iterations=2)))
    base = [sys.executable, "-m", "loyalty_chain.cli", "--json", "accounts", "import"]
    out = subprocess.run([*base, "from-file", "--keystore", str(source)], capture_output=True, text=True,
                         env={**os.environ, **cli_env, "LOYALTY_CHAIN_PASSWORD": "export-pw"})  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["address"] == key.address

    other = Account.create()
    out = subprocess.run([*base, "from-key", "--private-key-stdin"], input="0x" + other.key.hex() + "\n",
                         capture_output=True, text=True,
                         env={**os.environ, **cli_env, "LOYALTY_CHAIN_PASSWORD": "pw-654321"})  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["address"] == other.address
    assert other.key.hex() not in out.stdout + out.stderr

    wrong = subprocess.run([*base, "again", "--keystore", str(source)], capture_output=True, text=True,
                           env={**os.environ, **cli_env, "LOYALTY_CHAIN_PASSWORD": "not-it"})  # fmt: skip
    assert wrong.returncode == 1 and "password" in wrong.stderr


def test_admin_commands_policy_allowlist_pause_tier_renew_revoke(cli_env: dict[str, str]) -> None:
    run("deploy", "cafe")
    run("points", "issue", "cafe", ALICE, "50")
    run("member", "enroll", "cafe", ALICE)

    run("points", "policy", "cafe", "allowlist")
    charity = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
    run("points", "allow", "cafe", charity)
    run("--account", "dev:1", "points", "transfer", "cafe", charity, "5")
    assert run_json("points", "balance", "cafe", charity)["balance"] == 5  # type: ignore[index]
    outcome = CliRunner().invoke(cli, ["--account", "dev:1", "points", "transfer", "cafe", BOB, "5"])
    assert "PointsRecipientNotAllowed" in str(outcome.exception)

    run("points", "pause", "cafe")
    outcome = CliRunner().invoke(cli, ["points", "issue", "cafe", ALICE, "1"])
    assert "EnforcedPause" in str(outcome.exception)
    run("points", "pause", "cafe", "--resume")
    run("points", "issue", "cafe", ALICE, "1")

    assert run_json("member", "tier", "cafe", ALICE, "Gold")["tier"] == "Gold"  # type: ignore[index]
    run("member", "renew", "cafe", ALICE, "--valid-until", "2032-02-02")
    shown = run_json("member", "show", "cafe", ALICE)
    assert shown["card"]["tier"] == "Gold" and shown["card"]["valid_until"] == 1959292800  # type: ignore[index]
    run("member", "revoke", "cafe", ALICE)
    assert run_json("member", "show", "cafe", ALICE)["card"] is None  # type: ignore[index]


def test_report_summarises_the_program_from_its_events(cli_env: dict[str, str], tmp_path: Path) -> None:
    run("deploy", "cafe")
    run("member", "enroll", "cafe", ALICE, "--tier", "Gold")
    run("member", "enroll", "cafe", BOB)
    run("points", "issue", "cafe", ALICE, "100", "--reason", "purchase")
    run("points", "issue", "cafe", BOB, "30", "--reason", "referral")
    run("perk", "add", "cafe", "--title", "Scone", "--price", "25")
    run("perk", "redeem", "cafe", "1", "--account", "dev:1", "--quantity", "2")
    run("--account", "dev:2", "points", "transfer", "cafe", ALICE, "5")
    summary: Any = run_json("report", "cafe", "--value-per-point", "0.1")
    assert summary["program"] == "cafe"
    assert summary["members"] == 2 and summary["members_per_tier"] == {"Bronze": 1, "Silver": 0, "Gold": 1}
    assert (summary["issued"], summary["redeemed"], summary["burned_other"]) == (130, 50, 0)
    assert (summary["outstanding"], summary["liability"]) == (80, "8")
    assert summary["issued_by_reason"] == {"purchase": 100, "referral": 30}
    assert [(p["title"], p["redemptions"], p["units"]) for p in summary["perks"]] == [("Scone", 1, 2)]
    assert (summary["p2p_transfers"], summary["p2p_volume"]) == (1, 5)
    assert "points outstanding" in run("report", "cafe")
    # a date range, the CSV files and the dashboard, as a manager asks for them
    csv_dir, page = tmp_path / "csv", tmp_path / "dashboard.html"
    ranged: Any = run_json(
        "report",
        "cafe",
        "--since",
        "2000-01-01",
        "--until",
        "2999-12-31",
        "--csv",
        str(csv_dir),
        "--html",
        str(page),
    )
    assert (ranged["issued"], ranged["redeemed"]) == (130, 50)
    assert str(page) in ranged["written"] and page.read_text().lstrip().lower().startswith("<!doctype html")
    assert [p for p in ranged["written"] if p.endswith(".csv")] and all(
        Path(p).parent == csv_dir for p in ranged["written"][:-1]
    )
    before: Any = run_json("report", "cafe", "--until", "2000-01-01")  # the end of that day: nothing yet
    assert (before["issued"], before["redeemed"]) == (0, 0)
