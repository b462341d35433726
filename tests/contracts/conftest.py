"""Deploy fixtures for the points token and the membership card (each test gets fresh contracts).

``points``: LoyaltyPoints "Loyalty Points"/"LP", decimals 0, no cap, open transfer policy.
``card``: MembershipCard "Loyalty Card"/"LC", tiers Bronze, Silver, Gold, transferable.
``soulbound_card``: the same card in soulbound mode.
All are deployed by dev account 0 (``admin``), which is their admin (and issuer / pauser);
``alice``, ``bob``, ``carol`` are dev accounts 1-3.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from helpers import new_card, new_points
from web3.contract import Contract

from loyalty_chain.artifacts import Artifact
from loyalty_chain.chain import Chain
from loyalty_chain.compile import compile_contracts


@pytest.fixture(scope="session")
def loyalty_artifacts() -> dict[str, Artifact]:
    """Every contract under contracts/, compiled once per session (cached by source hash)."""
    return compile_contracts()


@pytest.fixture
def admin(dev_accounts: list[LocalAccount]) -> LocalAccount:
    return dev_accounts[0]


@pytest.fixture
def alice(dev_accounts: list[LocalAccount]) -> LocalAccount:
    return dev_accounts[1]


@pytest.fixture
def bob(dev_accounts: list[LocalAccount]) -> LocalAccount:
    return dev_accounts[2]


@pytest.fixture
def carol(dev_accounts: list[LocalAccount]) -> LocalAccount:
    return dev_accounts[3]


@pytest.fixture
def deploy_points(chain: Chain, loyalty_artifacts: dict[str, Artifact], admin: LocalAccount) -> Any:
    """``deploy_points(name=..., decimals=..., cap=..., policy=...)`` with the fixture's defaults."""
    return lambda **kwargs: new_points(chain, loyalty_artifacts, admin, **kwargs)


@pytest.fixture
def deploy_card(chain: Chain, loyalty_artifacts: dict[str, Artifact], admin: LocalAccount) -> Any:
    """``deploy_card(tiers=..., soulbound=..., base_uri=...)`` with the fixture's defaults."""
    return lambda **kwargs: new_card(chain, loyalty_artifacts, admin, **kwargs)


@pytest.fixture(scope="session")
def pristine(devnet: Chain, loyalty_artifacts: dict[str, Artifact]) -> dict[str, Contract]:
    """The default points token and cards, deployed once per worker, before any test's snapshot.

    ``points``, ``card`` and ``soulbound_card`` hand them out; the ``chain`` snapshot each of those
    tests runs in puts their state back afterwards, so every test still starts from a contract
    as deployed. (Deploying them for every test was most of the contract tests' CPU.) A session
    fixture is set up before any function fixture of the test that first asks for it, so it is
    never inside a snapshot that would take it away again.
    """
    admin = devnet.dev_accounts[0]
    return {
        "points": new_points(devnet, loyalty_artifacts, admin),
        "card": new_card(devnet, loyalty_artifacts, admin),
        "soulbound_card": new_card(devnet, loyalty_artifacts, admin, soulbound=True),
    }


@pytest.fixture
def points(chain: Chain, pristine: dict[str, Contract]) -> Contract:
    return pristine["points"]


@pytest.fixture
def card(chain: Chain, pristine: dict[str, Contract]) -> Contract:
    return pristine["card"]


@pytest.fixture
def soulbound_card(chain: Chain, pristine: dict[str, Contract]) -> Contract:
    return pristine["soulbound_card"]
