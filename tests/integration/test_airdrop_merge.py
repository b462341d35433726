"""Duplicate addresses in a points CSV: summed by default, every repeat refused with --no-merge."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from loyalty_chain.chain import Chain
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.program import ProgramOptions, deploy_program

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


@pytest.fixture
def setup(chain: Chain, tmp_path: Path) -> tuple[LoyaltyClient, Path, dict[str, str]]:
    record = deploy_program(
        chain, ProgramOptions("dupes"), chain.dev_account(0), root=tmp_path / "deployments"
    )
    csv = tmp_path / "dupes.csv"
    csv.write_text(f"address,amount\n{ALICE},10\n{BOB},5\n{ALICE.lower()},7\n")
    env = {
        **os.environ,
        "LOYALTY_CHAIN_RPC": chain.rpc_url,
        "LOYALTY_CHAIN_DEPLOYMENTS": str(tmp_path / "deployments"),
    }
    return LoyaltyClient(chain, record, chain.dev_account(0)), csv, env


def airdrop(csv: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "loyalty_chain.cli", "airdrop", "points", "dupes", str(csv), *extra]
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)


def test_no_merge_refuses_each_repeat_and_sends_nothing(
    setup: tuple[LoyaltyClient, Path, dict[str, str]], chain: Chain
) -> None:
    client, csv, env = setup
    block = chain.w3.eth.block_number
    out = airdrop(csv, env, "--no-merge")
    assert out.returncode == 1
    assert "line 4" in out.stderr and "line 2" in out.stderr  # the repeat, naming the first line
    assert chain.w3.eth.block_number == block
    assert client.balance(ALICE) == 0


def test_default_merges_duplicates_by_summing(setup: tuple[LoyaltyClient, Path, dict[str, str]]) -> None:
    client, csv, env = setup
    out = airdrop(csv, env)
    assert out.returncode == 0, out.stderr
    assert client.balance(ALICE) == 17
    assert client.balance(BOB) == 5
