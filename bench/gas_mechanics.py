"""Gas of issue 12's mechanics, each beside the plain operation it builds on, measured in the same run.

Called by ``bench/gas.py`` (its ``send``, ``Row`` and contracts); not run on its own.

* Giving: a donation (points burned through the charity registry, the charity's total updated)
  beside a holder's plain ``burn`` of the same amount on the same token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.contract import Contract

from loyalty_chain.artifacts import Artifact
from loyalty_chain.chain import Chain
from loyalty_chain.deploy import deploy_contract

REDEEMER_ROLE = keccak(text="REDEEMER_ROLE")
PURCHASE = b"purchase".ljust(32, b"\0")
CHARITY = b"Food Bank".ljust(32, b"\0")
AMOUNT = 10

Send = Callable[[Any, LocalAccount], int]
RowFactory = Callable[..., Any]


def measure_giving(
    chain: Chain,
    ours: dict[str, Artifact],
    points: Contract,
    admin: LocalAccount,
    members: list[LocalAccount],
    send: Send,
    row: RowFactory,
) -> list[Any]:
    """The donation row (needs contracts/CharityRegistry.sol). Both members hold points and have burned
    before (so neither side writes a fresh slot for the holder). A charity's first donation costs what
    later ones do: its slot already holds the active flag, so its total is never a zero -> non-zero write.
    The difference is the registry's part: the call into the token, its REDEEMER_ROLE lookup (2,100) and
    the charity's slot (5,000), the Donated event."""
    donor, burner = members
    registry = deploy_contract(chain, ours["CharityRegistry"], points.address, admin.address, sender=admin)
    send(points.functions.grantRole(REDEEMER_ROLE, registry.address), admin)
    send(registry.functions.addCharity(admin.address, CHARITY), admin)
    for m in members:
        send(points.functions.issue(m.address, 1_000, PURCHASE), admin)
        send(points.functions.burn(1), m)
    send(registry.functions.donate(1, AMOUNT), donor)  # the measured donation is the charity's second
    g_donate = send(registry.functions.donate(1, AMOUNT), donor)
    g_burn = send(points.functions.burn(AMOUNT), burner)
    return [row("donate to a charity (baseline: the holder's own burn)", g_donate, g_burn)]
