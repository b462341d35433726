"""Contracts a program adds after it is deployed (its mechanics): deployed, wired by roles, recorded.

An add-on (the charity registry, …) joins the program's deployment record under its contract name,
with its deploy transaction and artifact hash, and is checked on every load like the four contracts
(:func:`loyalty_chain.record_check.verify_program`). Loading a record without it still works: the
mechanic is simply not enabled, which :func:`addon_contract` says with the command that enables it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from web3.contract import Contract
from web3.contract.contract import ContractFunction

from ..artifacts import contract_at, load_artifact
from ..decoding import ErrorDecoder
from ..delivery import Sender
from ..deploy import deploy
from ..errors import DeploymentError, MechanicNotEnabledError
from ..program import role
from ..record_check import OPTIONAL_CONTRACTS

if TYPE_CHECKING:
    from ..client import LoyaltyClient
    from ..registry import ProgramRecord

Wiring = Callable[[Contract], Sequence[ContractFunction]]
"""The role grants (and settings) that connect a freshly deployed add-on to the program."""


def addon_contract(client: LoyaltyClient, name: str, enable_hint: str) -> Contract:
    """The program's add-on ``name`` as a web3 contract; :class:`MechanicNotEnabledError` if it has none."""
    address = client.record.addresses.get(name)
    if address is None:
        raise MechanicNotEnabledError(client.record.name, name, enable_hint)
    return contract_at(client.chain.w3, name, address)


def addon_sender(client: LoyaltyClient, contracts: dict[str, Contract]) -> Sender:
    """A sender for the client's account whose decoder also knows the add-ons' errors (the nonce
    sequence is shared with the client's own sender)."""
    named = {
        "LoyaltyPoints": client.points,
        "MembershipCard": client.card,
        "PerkCatalog": client.catalog,
        "AirdropDistributor": client.airdrop,
        **contracts,
    }
    sender = Sender(client.chain, client.account, ErrorDecoder(named), client.sender.options)
    sender.key_prefix = client.sender.key_prefix
    return sender


def attach(client: LoyaltyClient, name: str, args: Sequence[Any], wiring: Wiring) -> ProgramRecord:
    """Deploy add-on ``name`` with constructor ``args``, send its ``wiring``, save it in the record.

    The client's account must be the points token's admin (it grants the add-on its role); that is
    checked before anything is sent. The client's ``record`` is replaced by the updated one.
    """
    record = client.record
    if name not in OPTIONAL_CONTRACTS:
        raise DeploymentError(
            f"{name} is not a contract a program can add; choose one of {OPTIONAL_CONTRACTS}"
        )
    if name in record.addresses:
        raise DeploymentError(
            f"program {record.name!r} already has its {name} at {record.addresses[name]}; it is enabled"
        )
    admin = bool(client.points.functions.hasRole(role("DEFAULT_ADMIN_ROLE"), client.address).call())
    if not admin:
        raise DeploymentError(
            f"{client.address} is not the admin of program {record.name!r}'s points token, so it cannot "
            f"wire a {name} to it; sign with the program's admin account (--account)"
        )
    deployed = deploy(client.chain, name, *args, sender=client.sender)
    sender = addon_sender(client, {name: deployed.contract})
    for call in wiring(deployed.contract):
        sender.send(call)
    updated = dataclasses.replace(
        record,
        addresses={**record.addresses, name: str(deployed.contract.address)},
        tx_hashes={**record.tx_hashes, name: deployed.tx_hash},
        artifact_hashes={**record.artifact_hashes, name: load_artifact(name).bytecode_hash},
    )
    updated.save()
    client.record = updated
    return updated
