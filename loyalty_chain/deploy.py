"""Deploying one contract from a shipped artifact, signed locally."""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from .artifacts import Artifact, load_artifact
from .chain import Chain
from .errors import DeploymentError


def deploy_contract(chain: Chain, artifact: str | Artifact, *args: Any, sender: LocalAccount) -> Contract:
    """Deploy ``artifact`` (or the shipped artifact of that name) with constructor ``args``."""
    art = load_artifact(artifact) if isinstance(artifact, str) else artifact
    w3 = chain.w3
    factory = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    tx = factory.constructor(*args).build_transaction(
        {"from": sender.address, "nonce": w3.eth.get_transaction_count(sender.address, "pending")}
    )
    signed = sender.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    if receipt["status"] != 1 or not receipt.get("contractAddress"):
        raise DeploymentError(f"deploying {art.name} failed in transaction {tx_hash.to_0x_hex()}")
    deployed = w3.eth.contract(address=receipt["contractAddress"], abi=art.abi)
    assert isinstance(deployed, Contract)
    return deployed
