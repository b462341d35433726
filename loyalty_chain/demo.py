"""The README's main job: a loyalty program on a managed devnet, start to finish."""

from __future__ import annotations

from collections.abc import Callable

from .chain import start_devnet
from .deploy import deploy_contract

Say = Callable[[str], None]


def run_demo(say: Say = print) -> dict[str, str]:
    """Start a devnet, deploy the points token of a coffee brand and print its address."""
    with start_devnet() as chain:
        admin = chain.dev_account(0)
        say(f"devnet at {chain.rpc_url} (chain id {chain.chain_id})")
        points = deploy_contract(chain, "LoyaltyPoints", "Bean Points", "BEAN", 0, 0, 0, admin.address,
                                 sender=admin)  # fmt: skip
        say(f"LoyaltyPoints deployed at {points.address}")
        return {"rpc_url": chain.rpc_url, "points": points.address}
