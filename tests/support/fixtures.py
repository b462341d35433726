"""Pytest fixtures for fault injection (registered by tests/conftest.py as a plugin).

- ``anvil_factory``: start extra anvils (``anvil_factory(block_time=1.0)``), stopped after the test.
- ``fresh_anvil``: a FRESH anvil for one test (reorgs, drops and automine changes stay in it).
- ``fault_proxy``: a :class:`~support.faultproxy.FaultProxy` in front of ``fresh_anvil``, all
  faults off and counters at zero; switch faults on in the test
  (``fault_proxy.faults.update(lose_send_answers=0.3)`` or ``fault_proxy.faults = profile("hostile")``).
- ``proxied_chain``: a :class:`~loyalty_chain.chain.Chain` connected through ``fault_proxy``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from loyalty_chain.chain import Chain, connect, launch_devnet

from .faultproxy import FaultProxy

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
