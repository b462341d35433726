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
from web3.contract import Contract

from loyalty_chain.artifacts import Artifact
from loyalty_chain.chain import Chain
from loyalty_chain.compile import compile_contracts
from loyalty_chain.deploy import deploy_contract

TIERS = ["Bronze", "Silver", "Gold"]
BASE_URI = "ipfs://cards/"


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

    def _deploy(
        name: str = "Loyalty Points",
        symbol: str = "LP",
        decimals: int = 0,
        cap: int = 0,
        policy: int = 0,
        owner: str | None = None,
    ) -> Contract:
        return deploy_contract(
            chain,
            loyalty_artifacts["LoyaltyPoints"],
            name,
            symbol,
            decimals,
            cap,
            policy,
            owner or admin.address,
            sender=admin,
        )

    return _deploy


@pytest.fixture
def deploy_card(chain: Chain, loyalty_artifacts: dict[str, Artifact], admin: LocalAccount) -> Any:
    """``deploy_card(tiers=..., soulbound=..., base_uri=...)`` with the fixture's defaults."""

    def _deploy(
        tiers: list[str] | None = None,
        soulbound: bool = False,
        base_uri: str = BASE_URI,
        owner: str | None = None,
    ) -> Contract:
        return deploy_contract(
            chain,
            loyalty_artifacts["MembershipCard"],
            "Loyalty Card",
            "LC",
            TIERS if tiers is None else tiers,
            soulbound,
            base_uri,
            owner or admin.address,
            sender=admin,
        )

    return _deploy


@pytest.fixture
def points(deploy_points: Any) -> Contract:
    return deploy_points()  # type: ignore[no-any-return]


@pytest.fixture
def card(deploy_card: Any) -> Contract:
    return deploy_card()  # type: ignore[no-any-return]


@pytest.fixture
def soulbound_card(deploy_card: Any) -> Contract:
    return deploy_card(soulbound=True)  # type: ignore[no-any-return]
