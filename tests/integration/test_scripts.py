"""The scripts run both ways an ape user expects, and the demo runs whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from loyalty_chain.chain import Chain, free_port

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
                "LOYALTY_CHAIN_DEPLOYMENTS": str(tmp_path / "deployments"), **env}  # fmt: skip
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=full_env, timeout=300)


def test_deploy_script_with_python_on_a_given_rpc(chain: Chain, tmp_path: Path) -> None:
    out = run([sys.executable, "scripts/deploy.py", "scripted"], tmp_path, LOYALTY_CHAIN_RPC=chain.rpc_url)
    assert out.returncode == 0, out.stderr
    record = json.loads((tmp_path / "deployments" / "31337" / "scripted.json").read_text())
    assert chain.w3.eth.get_code(record["addresses"]["LoyaltyPoints"])
    assert "LoyaltyPoints" in out.stdout


def test_redeem_script_with_python_on_its_own_devnet(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LOYALTY_CHAIN_RPC"}
    out = subprocess.run([sys.executable, "scripts/redeem.py"], capture_output=True, text=True, cwd=ROOT,
                         env={**env, "LOYALTY_CHAIN_DEPLOYMENTS": str(tmp_path)}, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "for 120 points without paying gas; 30 points left" in out.stdout


@pytest.mark.parametrize("script", ["deploy", "redeem", "airdrop"])
def test_scripts_under_ape_run(script: str, tmp_path: Path) -> None:
    # ape-foundry's anvil listens on 8545 unless told otherwise, and connects to whatever already
    # listens there: two scripts run by parallel test workers then share one chain and one deployer
    # nonce ("nonce 1 was used by another transaction"). Each run gets its own port.
    host = f"http://127.0.0.1:{free_port()}"
    out = run([str(VENV_BIN / "ape"), "run", script], tmp_path, APE_FOUNDRY_HOST=host)
    assert out.returncode == 0, out.stdout + out.stderr
    expected = {"deploy": "recorded in", "redeem": "without paying gas", "airdrop": "1000 paid now"}
    assert expected[script] in out.stdout


def test_demo_command_runs_the_whole_program(tmp_path: Path) -> None:
    out = run([str(VENV_BIN / "loyalty-chain"), "--json", "demo"], tmp_path)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert sum(summary["members_per_tier"].values()) == 1000
    assert set(summary["members_per_tier"]) == {"Bronze", "Silver", "Gold"}
    assert sum(summary["redemptions_per_perk"].values()) == 101  # 100 members, and one early-access perk
    assert summary["redemptions_per_perk"]["Harvest preview"] == 1
    mechanics = summary["mechanics"]
    assert (mechanics["donations"], mechanics["donated"]) == (3, 60)
    assert (mechanics["early_redemptions"], mechanics["early_refused"]) == (1, 1)
    assert (mechanics["converted_in"], mechanics["converted_out"]) == (100, 80)
    expiry = summary["expiry"]  # a second program: 100 then 40 points, the first 100 expire
    assert (expiry["earned"], expiry["expired"], expiry["balance_after"], expiry["breakage"]) == (
        140,
        100,
        40,
        100,
    )
    tiers = summary["tiers"]  # a Silver member crosses into Gold by its third purchase
    assert (tiers["start_tier"], tiers["end_tier"], tiers["crossing_purchase"]) == ("Silver", "Gold", 3)
    burned = summary["points_redeemed"] + summary["points_burned_other"]
    assert summary["points_burned_other"] == 60 + 100  # the donations and the conversion burn
    assert summary["points_outstanding"] == summary["points_issued"] - burned
    assert summary["points_redeemed"] > 0 and summary["gas_used"] > 0
    assert Path(tmp_path / "deployments" / "31337" / "bean-there.json").is_file()
