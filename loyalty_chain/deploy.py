"""Deploying one contract from a shipped artifact, signed locally."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3.contract import Contract

from .artifacts import Artifact, contract_class, contract_of, load_artifact
from .chain import TX_GAS_CAP, Chain
from .decoding import ErrorDecoder, hex_int
from .delivery import Sender, Tx
from .errors import DeploymentError
from .signers import SignerLike, as_signer


@dataclass(frozen=True)
class Deployed:
    """A contract just deployed, and the transaction that created it."""

    contract: Contract
    tx_hash: str
    block: int
    gas_used: int


GAS_MARGIN = 1.2


def deploy(
    chain: Chain,
    artifact: str | Artifact,
    *args: Any,
    sender: SignerLike | Sender,
    key: str | None = None,
) -> Deployed:
    """Deploy ``artifact`` (or the shipped artifact of that name) with constructor ``args``,
    delivered like every other write (fee policy, retries, idempotency ``key``)."""
    art = load_artifact(artifact) if isinstance(artifact, str) else artifact
    w3 = chain.w3
    factory = contract_class(w3, art)
    data = bytes(HexBytes(factory.constructor(*args).data_in_transaction))
    delivery = sender if isinstance(sender, Sender) else Sender(chain, as_signer(sender), ErrorDecoder({}))
    estimate = int(w3.eth.estimate_gas({"from": cast(Any, delivery.address), "data": HexBytes(data)}))
    (receipt,) = delivery.send_txs(
        [Tx(None, data, min(int(estimate * GAS_MARGIN), TX_GAS_CAP))], key=key, what=f"deploy {art.name}"
    )
    if isinstance(receipt, Exception):
        raise DeploymentError(f"deploying {art.name} failed: {receipt}")
    tx_hash = str(receipt["transactionHash"])
    if hex_int(receipt["status"]) != 1 or not receipt.get("contractAddress"):
        raise DeploymentError(f"deploying {art.name} failed in transaction {tx_hash}")
    contract = contract_of(w3, art, to_checksum_address(receipt["contractAddress"]))
    return Deployed(contract, tx_hash, hex_int(receipt["blockNumber"]), hex_int(receipt["gasUsed"]))


def deploy_contract(chain: Chain, artifact: str | Artifact, *args: Any, sender: SignerLike) -> Contract:
    """Deploy and return just the contract (see :func:`deploy` for the transaction too)."""
    return deploy(chain, artifact, *args, sender=sender).contract
