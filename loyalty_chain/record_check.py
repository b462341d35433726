"""A deployment record is a file anyone may have edited: what is checked before it is trusted.

* its name, matched in full (it becomes a file name: no path, no trailing newline);
* its four contracts, and the optional ones it names (a program's mechanics, e.g. the charity
  registry): each recorded artifact hash is the one this package ships, each address was created by
  its recorded deploy transaction, whose input starts with the shipped creation bytecode (the
  constructor arguments follow it), and the catalog, the distributor and the add-ons name the
  recorded points token (and card). A record pointing the catalog at an attacker's contract is refused.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from eth_utils import keccak
from eth_utils.address import is_hex_address
from web3.exceptions import TransactionNotFound

from .artifacts import load_artifact
from .errors import DeploymentError, InputError

if TYPE_CHECKING:
    from .chain import Chain
    from .registry import ProgramRecord

RECORDED_CONTRACTS = ("LoyaltyPoints", "MembershipCard", "PerkCatalog", "AirdropDistributor")

OPTIONAL_CONTRACTS = ("CharityRegistry",)
"""Contracts a program may add later (its mechanics, see :mod:`loyalty_chain.mechanics`); checked as the
four are when the record names them."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""A program name, matched in full (``fullmatch``)."""

WIRING = {
    "PerkCatalog": ("points()", "card()"),
    "AirdropDistributor": ("points()", "card()"),
    "CharityRegistry": ("points()",),
}
"""Views through which the catalog and the distributor name the points token and the card."""


def check_program_name(name: object) -> str:
    """``name`` if it is a valid program name, else :class:`InputError` (it becomes a file name)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InputError(
            f"program name {name!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit (it names a file)"
        )
    return name


def verify_program(chain: Chain, record: ProgramRecord) -> None:
    """Refuse a record whose contracts are not ours, deployed as recorded and wired to each other."""
    w3 = chain.w3
    present = recorded_contracts(record)
    for name in present:
        artifact = load_artifact(record.points_contract if name == "LoyaltyPoints" else name)
        address = _address_of(record, name)
        if record.artifact_hashes.get(name) != artifact.bytecode_hash:
            raise DeploymentError(
                f"program {record.name!r}: its {name} was recorded with another build of the contracts "
                f"(artifact sha256 {str(record.artifact_hashes.get(name))[:12]}…, this package ships "
                f"{artifact.bytecode_hash[:12]}…); use the loyalty_chain version that deployed it, "
                "or redeploy"
            )
        try:
            tx: Any = w3.eth.get_transaction(record.tx_hashes[name])  # type: ignore[arg-type]
            receipt: Any = w3.eth.get_transaction_receipt(record.tx_hashes[name])  # type: ignore[arg-type]
        except (KeyError, ValueError, TransactionNotFound):
            tx = receipt = None
        creation = bytes.fromhex(artifact.bytecode.removeprefix("0x"))
        if (
            tx is None
            or receipt is None
            or str(receipt.get("contractAddress") or "").lower() != address.lower()
            or not bytes(tx["input"]).startswith(creation)
        ):
            raise DeploymentError(
                f"program {record.name!r}: {address} is not a {name} deployed by its recorded "
                "transaction; the record was edited or belongs to another chain: deploy the program again"
            )
    for name, views in WIRING.items():
        if name not in present:
            continue
        for view, expected in zip(views, ("LoyaltyPoints", "MembershipCard"), strict=False):
            selector = "0x" + keccak(text=view)[:4].hex()
            answer = bytes(w3.eth.call({"to": _address_of(record, name), "data": selector}))  # type: ignore[typeddict-item]
            if answer[-20:].hex() != _address_of(record, expected)[2:].lower():
                raise DeploymentError(
                    f"program {record.name!r}: its {name} does not use the recorded {expected}; "
                    "the record was edited: deploy the program again"
                )


def recorded_contracts(record: ProgramRecord) -> tuple[str, ...]:
    """The four contracts every program has, then the optional ones its record names."""
    return RECORDED_CONTRACTS + tuple(n for n in OPTIONAL_CONTRACTS if n in record.addresses)


def _address_of(record: ProgramRecord, name: str) -> str:
    address = record.addresses.get(name)
    if not isinstance(address, str) or not is_hex_address(address):
        raise DeploymentError(
            f"program {record.name!r}: no valid address recorded for {name}; deploy it again"
        )
    return address
