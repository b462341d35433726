"""Fixtures shared by every test level: one managed anvil devnet per session, isolated per test.

The suite runs in parallel (pytest-xdist, ``make pytest``): a session is one worker, so each worker
has its own devnet on a free port, and every test writes deployment records under its own tmp dir.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from loyalty_chain.chain import Chain, launch_devnet

# fault_proxy, proxied_chain, fresh_anvil, anvil_factory (tests/support/fixtures.py); cli_env
pytest_plugins = ["support.fixtures", "support.cli"]


@pytest.fixture(scope="session")
def devnet() -> Iterator[Chain]:
    """A managed anvil with the EIP-7825 per-transaction gas cap enforced."""
    chain = launch_devnet(enforce_tx_gas_limit=True)
    try:
        yield chain
    finally:
        chain.close()


@pytest.fixture
def chain(devnet: Chain) -> Iterator[Chain]:
    """The session devnet, rolled back to a snapshot after the test."""
    snapshot = devnet.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    try:
        yield devnet
    finally:
        devnet.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _own_deployments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's deployment records go to its tmp dir: never the checkout's ./deployments, and
    never a folder another worker's devnet (same chain id, same addresses) writes to."""
    root = tmp_path / "deployments"
    monkeypatch.setenv("LOYALTY_CHAIN_DEPLOYMENTS", str(root))
    return root


@pytest.fixture
def dev_accounts(devnet: Chain) -> list[LocalAccount]:
    return devnet.dev_accounts


APE_TESTS = Path(__file__).resolve().parent / "ape"


def pytest_ignore_collect(collection_path, config):  # type: ignore[no-untyped-def]
    """tests/ape needs ape's pytest plugin (`ape test`); plain pytest skips that folder.

    A bare ``ape test`` (no path given) runs tests/ape only, which is what an ape user expects;
    the rest of the suite is plain pytest (`make pytest`), and runs under ape only when named.
    """
    under_ape = config.pluginmanager.has_plugin("ape_test")
    if not under_ape:
        return True if collection_path.name == "ape" else None
    if config.args_source == pytest.Config.ArgsSource.TESTPATHS:
        inside = collection_path == APE_TESTS or APE_TESTS in collection_path.parents
        above = collection_path in APE_TESTS.parents
        return None if inside or above else True
    return None


KNOWN_SLOW = (
    "tests/integration/test_cli.py::test_every_program_command_as_a_subprocess",
    "tests/integration/test_cli.py::test_accounts_import_keystore_and_private_key_from_stdin",
    "tests/integration/test_push_airdrop.py::test_resume_after_an_interruption",
    "tests/integration/test_push_airdrop.py::test_2000_recipients_under_the_enforced_tx_gas_cap",
    "tests/integration/test_push_airdrop.py::test_kill_9_of_the_cli_then_rerun",
    "tests/integration/test_push_airdrop.py::test_ctrl_c_in_the_cli_says_how_to_resume",
    "tests/integration/test_push_airdrop.py::test_resume_after_the_node_went_down",
    "tests/integration/test_scripts.py::test_scripts_under_ape_run",
    "tests/integration/test_scripts.py::test_demo_command_runs_the_whole_program",
)
"""Tests that take 10 s or more (``pytest --durations=30``), marked slow here rather than in
files other work is changing; a test can also say ``@pytest.mark.slow`` itself."""


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """Slow tests first, so that under xdist they start at once and run beside the rest instead of
    being left at the end of some worker's queue (the whole run then waits for them)."""
    for item in items:
        if item.nodeid.startswith(KNOWN_SLOW):
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
