"""Gasless perk redemption: the member signs an EIP-712 request, anyone relays it to the catalog.

The flow as it happens with a real wallet:

1. the back office builds the request with :func:`build_redemption` (or
   :func:`redemption_typed_data`), reading the member's current ``catalog.nonces(member)``;
2. the member's wallet signs that very JSON: it is what ``eth_signTypedData_v4`` takes
   (MetaMask), and ``Wallet.signTypedData(domain, types minus EIP712Domain, message)`` in ethers
   gives the same signature (checked live by ``tests/integration/test_gasless_interop.py``);
   :func:`sign_typed_data` does it with a local key;
3. a relayer checks it with :func:`parse_request` / :func:`recover_signer` and submits
   ``redeemWithSignature(member, relayer, perkId, quantity, maxCost, deadline, signature)``
   (:func:`loyalty_chain.relay_policy.relay_call`, once the relay policy there took it on);
   the catalog recomputes the digest with the nonce it holds, so a request is good exactly once.

The request names its ``relayer`` (the only account that may submit it; the zero address lets
anyone, which a copy taken from the mempool could then use first) and ``maxCost``, the most
points it may burn: a wallet shows the member what will be burned, and a price edit after
signing makes the request fail instead of burning more. A member cancels a request not yet
relayed by using up its nonce (``PerkCatalog.invalidateNonce``).

The JSON: ``chainId`` is a JSON number (wallets compare it with the chain they are on); the
message's uint256 values are decimal strings, because JavaScript's ``JSON.parse`` rounds numbers
above 2**53 and MetaMask and ethers both read decimal strings. :func:`parse_request` accepts
either form for every number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import coincurve
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from eth_utils.address import is_hex_address, to_checksum_address
from web3.contract import Contract

from .errors import InputError
from .signers import SignerLike, as_signer
from .values import checksum_address

DOMAIN_NAME = "LoyaltyPerkCatalog"
DOMAIN_VERSION = "1"
PRIMARY_TYPE = "Redemption"
REDEMPTION_TYPE = (
    "Redemption(address member,address relayer,uint256 perkId,uint256 quantity,uint256 maxCost,"
    "uint256 nonce,uint256 deadline)"
)
"""The struct as PerkCatalog hashes it: ``REDEMPTION_TYPEHASH = keccak256(REDEMPTION_TYPE)``."""

EIP712_DOMAIN_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
)
REDEMPTION_FIELDS: tuple[tuple[str, str], ...] = (
    ("member", "address"),
    ("relayer", "address"),
    ("perkId", "uint256"),
    ("quantity", "uint256"),
    ("maxCost", "uint256"),
    ("nonce", "uint256"),
    ("deadline", "uint256"),
)
_TOP_KEYS = ("types", "primaryType", "domain", "message")
ZERO_ADDRESS = "0x" + "00" * 20
"""As a request's relayer: anyone may submit it."""
DELEGATION_PREFIX = bytes.fromhex("ef0100")
"""EIP-7702: the code of a delegated EOA is this prefix and the 20-byte delegate address."""
_UINT256_MAX = 2**256 - 1
_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_DECIMAL = re.compile(r"[0-9]{1,78}")  # 2**256 has 78 digits
_DOMAIN_TYPEHASH = keccak(text="EIP712Domain(" + ",".join(f"{t} {n}" for n, t in EIP712_DOMAIN_FIELDS) + ")")
_REDEMPTION_TYPEHASH = keccak(text=REDEMPTION_TYPE)
_SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
"""OpenZeppelin's ECDSA refuses s above this (malleable signatures)."""


@dataclass(frozen=True)
class RedemptionRequest:
    """A validated gasless redemption request: what the member signs, and where it is valid."""

    chain_id: int
    catalog: str
    member: str
    relayer: str
    """The only account that may submit it; the zero address: anyone."""
    perk_id: int
    quantity: int
    max_cost: int
    """The most points the redemption may burn."""
    nonce: int
    deadline: int

    def digest(self) -> bytes:
        """The EIP-712 hash a wallet signs for this request (``encode_typed_data`` of
        :meth:`typed_data`, hashed), computed field by field: the types are fixed, so the
        generic encoder's type walking is not needed."""
        struct = keccak(
            _REDEMPTION_TYPEHASH
            + _word_address(self.member)
            + _word_address(self.relayer)
            + b"".join(
                n.to_bytes(32, "big")
                for n in (self.perk_id, self.quantity, self.max_cost, self.nonce, self.deadline)
            )
        )
        return keccak(b"\x19\x01" + _domain_separator(self.chain_id, self.catalog) + struct)

    def typed_data(self) -> dict[str, Any]:
        return redemption_typed_data(
            chain_id=self.chain_id,
            catalog=self.catalog,
            member=self.member,
            relayer=self.relayer,
            perk_id=self.perk_id,
            quantity=self.quantity,
            max_cost=self.max_cost,
            nonce=self.nonce,
            deadline=self.deadline,
        )


def _types() -> dict[str, list[dict[str, str]]]:
    return {
        "EIP712Domain": [{"name": n, "type": t} for n, t in EIP712_DOMAIN_FIELDS],
        PRIMARY_TYPE: [{"name": n, "type": t} for n, t in REDEMPTION_FIELDS],
    }


def redemption_typed_data(
    *,
    chain_id: int,
    catalog: str,
    member: str,
    relayer: str,
    perk_id: int,
    quantity: int,
    max_cost: int,
    nonce: int,
    deadline: int,
) -> dict[str, Any]:
    """The ``eth_signTypedData_v4`` JSON of a redemption request (checked by :func:`parse_request`)."""
    typed = {
        "types": _types(),
        "primaryType": PRIMARY_TYPE,
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": int(chain_id),
            "verifyingContract": checksummed(catalog, "catalog"),
        },
        "message": {
            "member": checksummed(member, "member"),
            "relayer": checksummed(relayer, "relayer"),
            "perkId": str(int(perk_id)),
            "quantity": str(int(quantity)),
            "maxCost": str(int(max_cost)),
            "nonce": str(int(nonce)),
            "deadline": str(int(deadline)),
        },
    }
    parse_request(typed)  # the same checks a relayer makes: ranges, addresses
    return typed


def build_redemption(
    catalog: Contract,
    member: str,
    perk_id: int,
    quantity: int,
    *,
    deadline: int,
    relayer: str,
    max_cost: int | None = None,
) -> dict[str, Any]:
    """The typed data for ``member`` on this ``catalog``, with its chain id and current nonce.

    ``max_cost`` defaults to the perk's price now times ``quantity``: what the wallet shows.
    """
    member = checksummed(member, "member")
    if max_cost is None:
        max_cost = int(catalog.functions.perk(perk_id).call()[1]) * quantity
    return redemption_typed_data(
        chain_id=int(catalog.w3.eth.chain_id),
        catalog=str(catalog.address),
        member=member,
        relayer=relayer,
        perk_id=perk_id,
        quantity=quantity,
        max_cost=max_cost,
        nonce=int(catalog.functions.nonces(member).call()),
        deadline=deadline,
    )


def parse_request(typed: Mapping[str, Any]) -> RedemptionRequest:
    """Validate ``typed`` as a PerkCatalog redemption request, naming the first thing wrong.

    Checks the keys, ``primaryType``, the ``types`` (exactly the catalog's, field for field), the
    domain's name and version, every address (EIP-55 checksummed) and number (0..2**256-1).
    """
    if not isinstance(typed, Mapping):
        raise InputError(f"typed data must be a JSON object, got {type(typed).__name__}")
    _exact_keys(typed, _TOP_KEYS, "typed data")
    if typed["primaryType"] != PRIMARY_TYPE:
        raise InputError(f"primaryType must be {PRIMARY_TYPE!r}, got {typed['primaryType']!r}")
    types = typed["types"]
    if not isinstance(types, Mapping):
        raise InputError("types must be a JSON object")
    expected = _types()
    _exact_keys(types, tuple(expected), "types")
    for name, fields in expected.items():
        if _plain_fields(types[name]) != fields:
            want = ",".join(f"{f['type']} {f['name']}" for f in fields)
            raise InputError(f"types.{name} must be exactly ({want}), in this order; got {types[name]!r}")

    domain = typed["domain"]
    if not isinstance(domain, Mapping):
        raise InputError("domain must be a JSON object")
    _exact_keys(domain, tuple(n for n, _ in EIP712_DOMAIN_FIELDS), "domain")
    if domain["name"] != DOMAIN_NAME:
        raise InputError(f"domain.name must be {DOMAIN_NAME!r}, got {domain['name']!r}")
    if domain["version"] != DOMAIN_VERSION:
        raise InputError(f"domain.version must be {DOMAIN_VERSION!r}, got {domain['version']!r}")
    chain_id = _uint(domain["chainId"], "domain.chainId")
    if chain_id == 0:
        raise InputError("domain.chainId must not be 0")
    catalog = _address(domain["verifyingContract"], "domain.verifyingContract")

    message = typed["message"]
    if not isinstance(message, Mapping):
        raise InputError("message must be a JSON object")
    _exact_keys(message, tuple(n for n, _ in REDEMPTION_FIELDS), "message")
    return RedemptionRequest(
        chain_id=chain_id,
        catalog=catalog,
        member=_address(message["member"], "message.member"),
        relayer=_address(message["relayer"], "message.relayer"),
        perk_id=_uint(message["perkId"], "message.perkId"),
        quantity=_uint(message["quantity"], "message.quantity"),
        max_cost=_uint(message["maxCost"], "message.maxCost"),
        nonce=_uint(message["nonce"], "message.nonce"),
        deadline=_uint(message["deadline"], "message.deadline"),
    )


def sign_typed_data(account: SignerLike, typed: Mapping[str, Any]) -> str:
    """``account``'s EIP-712 signature of the request ``typed`` (validated first): 0x + 65 bytes.

    The signer need not be the request's member: an ERC-1271 wallet's owner signs for the wallet.
    """
    parse_request(typed)
    signed = as_signer(account).sign_message(encode_typed_data(full_message=dict(typed)))
    return "0x" + bytes(signed.signature).hex()


def recover_signer(typed: Mapping[str, Any], signature: str | bytes) -> str:
    """The address whose key made ``signature`` over ``typed``, checksummed.

    Refuses what the catalog (OpenZeppelin ECDSA) would refuse: a length other than 65 bytes,
    ``v`` other than 27/28, or a high ``s``.
    """
    return request_signer(parse_request(typed), signature_bytes(signature))


def request_signer(request: RedemptionRequest, signature: bytes) -> str:
    """:func:`recover_signer` for a request already parsed and a signature already checked by
    :func:`signature_bytes`: the digest computed directly, the key recovered with coincurve."""
    recoverable = signature[:64] + bytes([signature[64] - 27])
    try:
        key = coincurve.PublicKey.from_signature_and_message(recoverable, request.digest(), hasher=None)
    except ValueError:  # r is not a point's x coordinate (or out of range): no key made it
        raise InputError("the signature is not a valid secp256k1 signature (no key made it)") from None
    return checksum_address("0x" + keccak(key.format(compressed=False)[1:])[-20:].hex())


def is_delegated_eoa(code: bytes) -> bool:
    """Whether ``code`` is an EIP-7702 delegation designator (an EOA that delegated to a contract)."""
    return len(code) == 23 and bytes(code[:3]) == DELEGATION_PREFIX


def signed_by_member(typed: Mapping[str, Any], signature: str | bytes) -> bool:
    """Whether ``signature`` is an ECDSA signature of the request's member's own key (what the catalog
    accepts first, for an EOA and for an EIP-7702 delegated account alike)."""
    return signed_by(parse_request(typed), signature)


def signed_by(request: RedemptionRequest, signature: str | bytes) -> bool:
    """:func:`signed_by_member` for a request already parsed."""
    try:
        return request_signer(request, signature_bytes(signature)) == request.member
    except (InputError, ValueError):
        return False


# ---------------------------------------------------------------------------- checks


def _exact_keys(obj: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if k not in obj]
    extra = sorted(str(k) for k in obj if k not in keys)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected {', '.join(extra)}")
        raise InputError(f"{where}: {'; '.join(parts)} (expected exactly {', '.join(keys)})")


def _plain_fields(value: Any) -> list[dict[str, str]] | None:
    if not isinstance(value, list) or not all(isinstance(f, Mapping) for f in value):
        return None
    return [dict(f) for f in value]


def _uint(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InputError(f"{where} must be an integer or a decimal string, got {value!r}")
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise InputError(f"{where} must be an integer or a decimal string, got {value!r}")
    number = int(value)
    if not 0 <= number <= _UINT256_MAX:
        raise InputError(f"{where} must be within 0..2**256-1, got {number}")
    return number


def _address(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _HEX_ADDRESS.fullmatch(value):
        raise InputError(f"{where} must be a 0x-prefixed 20-byte hex address, got {value!r}")
    fixed = checksum_address(value)
    if value != fixed:
        if value[2:] in (value[2:].lower(), value[2:].upper()):
            raise InputError(f"{where} {value} is not EIP-55 checksummed; write it as {fixed}")
        raise InputError(f"{where} {value} has a wrong EIP-55 checksum (a typo?); check the address")
    return value


def _word_address(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


@lru_cache(maxsize=64)
def _domain_separator(chain_id: int, catalog: str) -> bytes:
    return keccak(
        _DOMAIN_TYPEHASH
        + keccak(text=DOMAIN_NAME)
        + keccak(text=DOMAIN_VERSION)
        + chain_id.to_bytes(32, "big")
        + _word_address(catalog)
    )


def checksummed(value: str, what: str) -> str:
    if isinstance(value, str) and _HEX_ADDRESS.fullmatch(value):
        return checksum_address(value)
    if not isinstance(value, str) or not is_hex_address(value):
        raise InputError(f"{what} must be a 20-byte hex address, got {value!r}")
    return to_checksum_address(value)


def signature_bytes(signature: str | bytes) -> bytes:
    """The 65 bytes of a hex or raw signature, refused as the catalog would refuse them."""
    if isinstance(signature, str):
        text = signature[2:] if signature[:2].lower() == "0x" else signature
        if not re.fullmatch(r"(?:[0-9a-fA-F]{2})*", text):
            raise InputError("the signature must be hex")
        raw = bytes.fromhex(text)
    else:
        raw = bytes(signature)
    if len(raw) != 65:
        raise InputError(f"a signature is 65 bytes (r, s, v), got {len(raw)}")
    if raw[64] not in (27, 28):
        raise InputError(f"signature v must be 27 or 28, got {raw[64]} (a wallet giving 0/1: add 27)")
    if int.from_bytes(raw[32:64], "big") > _SECP256K1_HALF_N:
        raise InputError("the signature's s is in the upper half (malleable); the catalog refuses it")
    return raw
