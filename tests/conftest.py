"""Fixtures shared by every test level: one managed anvil devnet per session, isolated per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account.signers.local import LocalAccount

from loyalty_chain.chain import Chain, launch_devnet

# fault_proxy, proxied_chain, fresh_anvil, anvil_factory (tests/support/fixtures.py)
pytest_plugins = ["support.fixtures"]


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


@pytest.fixture
def dev_accounts(devnet: Chain) -> list[LocalAccount]:
    return devnet.dev_accounts


def pytest_ignore_collect(collection_path, config):  # type: ignore[no-untyped-def]
    """tests/ape needs ape's pytest plugin (`ape test tests/ape`); plain pytest skips the folder."""
    if collection_path.name == "ape" and not config.pluginmanager.has_plugin("ape_test"):
        return True
    return None
