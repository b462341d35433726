"""The CLI run in-process for tests: the environment it reads, and a command's text or JSON answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from loyalty_chain.chain import Chain
from loyalty_chain.cli import cli


@pytest.fixture
def cli_env(chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The session devnet, and this test's own deployments folder and keystore, for the CLI."""
    values = {
        "LOYALTY_CHAIN_RPC": chain.rpc_url,
        "LOYALTY_CHAIN_DEPLOYMENTS": str(tmp_path / "deployments"),
        "LOYALTY_CHAIN_KEYSTORE": str(tmp_path / "keystore"),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def run(*args: str) -> str:
    """Run in-process through click's runner; our errors must not escape as tracebacks."""
    outcome = CliRunner().invoke(cli, list(args))
    assert outcome.exception is None or isinstance(outcome.exception, SystemExit), outcome.exception
    assert outcome.exit_code == 0, (args, outcome.output)
    return outcome.output


def run_json(*args: str) -> Any:
    """The command's ``--json`` answer."""
    return json.loads(run("--json", *args))
