"""Shared set-up of the gateway tests: a deployed program, a gateway over it, and an HTTP client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from loyalty_chain.chain import Chain
from loyalty_chain.gateway import Gateway, GatewayOptions, SqliteStore, create_app, create_key, load_rules
from loyalty_chain.program import ProgramOptions, ProgramRecord, deploy_program

RULES = """
[purchase]
per_unit = { EUR = 10, USD = 9 }

[tiers]
Silver = 1.5

[signup]
points = 50

[birthday]
points = 100

[referral]
points = 200

[cap]
points = 5000
period = "month"

[perks.1]
description = "A latte of any size"
image = "https://example.com/latte.png"
"""


@pytest.fixture
def program(chain: Chain, tmp_path: Path) -> ProgramRecord:
    return deploy_program(chain, ProgramOptions("cafe"), chain.dev_account(0), root=tmp_path / "deployments")


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(RULES)
    return path


GatewayFactory = Callable[..., Gateway]


@pytest.fixture
def make_gateway(
    chain: Chain, program: ProgramRecord, tmp_path: Path, rules_file: Path
) -> Iterator[GatewayFactory]:
    """Gateways over the program, each with its own database; options as GatewayOptions takes them."""
    made: list[Gateway] = []

    def make(**options: Any) -> Gateway:
        store = SqliteStore(tmp_path / f"gateway-{len(made)}.sqlite")
        gw = Gateway(
            chain, program, chain.dev_account(0), store, load_rules(rules_file), GatewayOptions(**options)
        )
        made.append(gw)
        return gw

    yield make
    for gw in made:
        gw.store.close()


@pytest.fixture
def gateway(make_gateway: GatewayFactory) -> Gateway:
    return make_gateway()


@pytest.fixture
def http(gateway: Gateway) -> Iterator[TestClient]:
    """The app in-process, its worker driven by the test (``gateway.worker.run_once()``)."""
    with TestClient(create_app(gateway, background=False)) as client:
        yield client


@pytest.fixture
def api_key(gateway: Gateway) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(gateway.store, 'shop')}"}
