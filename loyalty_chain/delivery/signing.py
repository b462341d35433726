"""Signing transactions locally: EIP-1559 bytes and ABI calldata, fast enough for thousands."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import coincurve
import rlp
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, keccak
from web3.contract.contract import ContractFunction

from ..decoding import abi_type
from .fees import Fees


def sign_eip1559(
    key: coincurve.PrivateKey,
    chain_id: int,
    nonce: int,
    to: str | None,
    value: int,
    data: bytes,
    gas: int,
    fees: Fees,
) -> bytes:
    """The raw bytes of a signed EIP-1559 (type 2) transaction, byte for byte what eth-account's
    ``sign_transaction`` produces, about 5x faster: RLP-encoded and signed with coincurve directly
    instead of through eth-account's generic typed-transaction machinery, which dominates the cost
    of sending thousands of transactions. ``to=None`` creates a contract."""
    fields: list[Any] = [
        chain_id,
        nonce,
        fees["maxPriorityFeePerGas"],
        fees["maxFeePerGas"],
        gas,
        bytes.fromhex(to[2:]) if to else b"",
        value,
        data,
        [],
    ]
    signature = key.sign_recoverable(keccak(b"\x02" + rlp.encode(fields)), hasher=None)
    r, s, y_parity = signature[:32], signature[32:64], signature[64]
    signed: bytes = rlp.encode([*fields, y_parity, int.from_bytes(r, "big"), int.from_bytes(s, "big")])
    return b"\x02" + signed


def tx_hash(raw: bytes) -> str:
    """The hash a node will know a signed transaction by (known before it is sent)."""
    return "0x" + keccak(raw).hex()


@cache
def _selector_and_types(abi_json: str) -> tuple[bytes, tuple[str, ...]]:
    entry = json.loads(abi_json)
    types = tuple(abi_type(i) for i in entry["inputs"])
    return function_signature_to_4byte_selector(f"{entry['name']}({','.join(types)})"), types


def calldata(call: ContractFunction) -> bytes:
    """ABI-encode a bound contract call with eth_abi directly.

    web3's ``build_transaction`` re-validates the ABI on every call (~2 ms each), which would
    dominate signing thousands of transactions; the selector and types are cached per function.
    """
    selector, types = _selector_and_types(json.dumps(call.abi, sort_keys=True))
    return selector + abi_encode(types, call.args)


@dataclass(frozen=True)
class Signer:
    """An account that signs locally: its address and its secp256k1 key."""

    address: str
    key: coincurve.PrivateKey

    @classmethod
    def from_account(cls, account: Any) -> Signer:
        """From an eth-account ``LocalAccount`` (anything with ``address`` and ``key``)."""
        return cls(str(account.address), coincurve.PrivateKey(bytes(account.key)))
