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
    """Refuse a record whose contracts are not ours, deployed as recorded and wired to each other.

    Every deployment transaction, its receipt and the wiring views go to the node in one JSON-RPC
    batch (~15 calls, one round trip): every command that names a program checks it first.
    """
    present = recorded_contracts(record)
    creations: list[tuple[str, str, bytes]] = []
    calls: list[tuple[str, list[Any]]] = []
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
        tx_hash = str(record.tx_hashes.get(name, ""))
        creations.append((name, address, bytes.fromhex(artifact.bytecode.removeprefix("0x"))))
        calls += deployment_calls(tx_hash)
    wiring = [
        (name, expected, "0x" + keccak(text=view)[:4].hex())
        for name, views in WIRING.items()
        if name in present
        for view, expected in zip(views, ("LoyaltyPoints", "MembershipCard"), strict=False)
    ]
    calls += [
        ("eth_call", [{"to": _address_of(record, name), "data": data}, "latest"]) for name, _, data in wiring
    ]
    results = [answer.get("result") for answer in chain.batch(calls)]
    for i, (name, address, creation) in enumerate(creations):
        if not deployed_as_recorded(results[2 * i], results[2 * i + 1], address, creation):
            raise DeploymentError(
                f"program {record.name!r}: {address} is not a {name} deployed by its recorded "
                "transaction; the record was edited or belongs to another chain: deploy the program again"
            )
    for (name, expected, _), answer in zip(wiring, results[2 * len(creations) :], strict=True):
        if not names_address(answer, _address_of(record, expected)):
            raise DeploymentError(
                f"program {record.name!r}: its {name} does not use the recorded {expected}; "
                "the record was edited: deploy the program again"
            )


def deployment_calls(tx_hash: str) -> list[tuple[str, list[Any]]]:
    """The two JSON-RPC calls :func:`deployed_as_recorded` reads: the transaction and its receipt."""
    return [("eth_getTransactionByHash", [tx_hash]), ("eth_getTransactionReceipt", [tx_hash])]


def deployed_as_recorded(tx: object, receipt: object, address: str, creation: bytes) -> bool:
    """Whether the node's answers (JSON) show ``address`` created by that transaction, whose input
    starts with the ``creation`` bytecode (the constructor's arguments follow it)."""
    return (
        isinstance(tx, dict)
        and isinstance(receipt, dict)
        and str(receipt.get("contractAddress") or "").lower() == address.lower()
        and _hex_bytes(tx.get("input")).startswith(creation)
    )


def names_address(answer: object, address: str) -> bool:
    """Whether an ``eth_call`` answer (a view returning an address) is ``address``."""
    return _hex_bytes(answer)[-20:].hex() == address[2:].lower()


def _hex_bytes(value: object) -> bytes:
    """A JSON-RPC hex string's bytes; anything else (a missing answer, an error) as no bytes."""
    if not isinstance(value, str):
        return b""
    try:
        return bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        return b""


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
