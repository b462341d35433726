"""Pytest fixtures for fault injection and a second node (a plugin named in tests/conftest.py).

- ``anvil_factory``: start extra anvils (``anvil_factory(block_time=1.0)``), stopped after the test.
- ``fresh_anvil``: a FRESH anvil for one test (reorgs, drops and automine changes stay in it).
- ``fault_proxy``: a :class:`~support.faultproxy.FaultProxy` in front of ``fresh_anvil``, all
  faults off and counters at zero; switch faults on in the test
  (``fault_proxy.faults.update(lose_send_answers=0.3)`` or ``fault_proxy.faults = profile("hostile")``).
- ``proxied_chain``: a :class:`~loyalty_chain.chain.Chain` connected through ``fault_proxy``.
- ``node``: the same test on two independently built nodes, ``[anvil]`` (the session devnet,
  automine) and ``[hardhat]`` (one EDR node per session, ``hardhat_node``, 0.1 s blocks), each
  rolled back after the test; ``node_kind`` says which. Use it in place of ``chain``.
  ``hardhat_automining``: the EDR node in its default automine mode for one test. What differs
  on EDR is written down in ``support.hardhat_node``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from loyalty_chain.chain import Chain, connect, launch_devnet

from .faultproxy import FaultProxy
from .hardhat_node import launch_hardhat, set_mining

AnvilFactory = Callable[..., Chain]


@pytest.fixture
def anvil_factory() -> Iterator[AnvilFactory]:
    """``anvil_factory(**launch_devnet_options)`` -> a new anvil (chain id 31337), closed after the test."""
    started: list[Chain] = []

    def start(**options: Any) -> Chain:
        options.setdefault("enforce_tx_gas_limit", True)
        chain = launch_devnet(**options)
        started.append(chain)
        return chain

    try:
        yield start
    finally:
        for chain in reversed(started):
            chain.close()


@pytest.fixture
def fresh_anvil(anvil_factory: AnvilFactory) -> Chain:
    """An anvil of this test's own, automining, with the EIP-7825 gas cap enforced."""
    return anvil_factory()


@pytest.fixture
def fault_proxy(fresh_anvil: Chain) -> Iterator[FaultProxy]:
    """A fault proxy in front of ``fresh_anvil``; no fault on until the test switches one on."""
    with FaultProxy(fresh_anvil.rpc_url, seed=8) as proxy:
        yield proxy


@pytest.fixture
def proxied_chain(fault_proxy: FaultProxy) -> Iterator[Chain]:
    """A Chain whose every request goes through ``fault_proxy`` (counters reset after connecting)."""
    chain = connect(fault_proxy.url, expected_chain_id=31337)
    fault_proxy.reset_counters()
    try:
        yield chain
    finally:
        chain.close()


NODE_KINDS = ("anvil", "hardhat")
HARDHAT_BLOCK_TIME = 0.1
"""``node[hardhat]`` is interval-mined: EDR answers a JSON-RPC batch's calls concurrently, and
while automining it refuses the resulting nonce gaps (see ``support.hardhat_node``)."""


@pytest.fixture(scope="session")
def hardhat_node() -> Iterator[Chain]:
    """One EDR node (``hardhat node``) for the session, mining every 0.1 s; started on first use."""
    chain = launch_hardhat(block_time=HARDHAT_BLOCK_TIME)
    try:
        yield chain
    finally:
        chain.close()


@pytest.fixture
def hardhat_automining(hardhat_node: Chain) -> Iterator[Chain]:
    """The session's EDR node switched to automine (EDR's default) for one test, rolled back after."""
    with _rolled_back(hardhat_node):
        set_mining(hardhat_node.w3, None)
        try:
            yield hardhat_node
        finally:
            set_mining(hardhat_node.w3, HARDHAT_BLOCK_TIME)


@pytest.fixture(params=NODE_KINDS)
def node_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def node(request: pytest.FixtureRequest, node_kind: str) -> Iterator[Chain]:
    """The session's anvil (automine) or EDR node (0.1 s blocks), rolled back after the test."""
    chain: Chain = request.getfixturevalue("devnet" if node_kind == "anvil" else "hardhat_node")
    with _rolled_back(chain):
        yield chain


@contextlib.contextmanager
def _rolled_back(chain: Chain) -> Iterator[None]:
    provider: Any = chain.w3.provider
    snapshot = provider.make_request("evm_snapshot", [])["result"]
    try:
        yield
    finally:
        provider.make_request("evm_revert", [snapshot])
