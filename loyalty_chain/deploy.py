"""Deploying one contract from a shipped artifact, signed locally."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3.contract import Contract

from .artifacts import Artifact, load_artifact
from .chain import Chain
from .errors import DeploymentError
from .signers import SignerLike, as_signer


@dataclass(frozen=True)
class Deployed:
    """A contract just deployed, and the transaction that created it."""

    contract: Contract
    tx_hash: str
    block: int
    gas_used: int


def deploy(chain: Chain, artifact: str | Artifact, *args: Any, sender: SignerLike) -> Deployed:
    """Deploy ``artifact`` (or the shipped artifact of that name) with constructor ``args``."""
    sender = as_signer(sender)
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
    contract = w3.eth.contract(address=receipt["contractAddress"], abi=art.abi)
    assert isinstance(contract, Contract)
    return Deployed(contract, tx_hash.to_0x_hex(), int(receipt["blockNumber"]), int(receipt["gasUsed"]))


def deploy_contract(chain: Chain, artifact: str | Artifact, *args: Any, sender: SignerLike) -> Contract:
    """Deploy and return just the contract (see :func:`deploy` for the transaction too)."""
    return deploy(chain, artifact, *args, sender=sender).contract
