"""Compiled contracts shipped inside the package: ABI and bytecode, no compiler needed."""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .errors import DeploymentError
from .files import write_text_atomic

if TYPE_CHECKING:
    from web3 import Web3
    from web3.contract import Contract

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
"""Where ``loyalty-chain compile`` writes, and where deploys read from."""


@dataclass(frozen=True)
class Artifact:
    """One compiled contract."""

    name: str
    source: str
    abi: list[dict[str, Any]] = field(repr=False)
    bytecode: str = field(repr=False)
    deployed_bytecode: str = field(repr=False, default="")
    compiler: str = ""

    @property
    def bytecode_hash(self) -> str:
        """sha256 of the creation bytecode, recorded in deployment records."""
        return hashlib.sha256(bytes.fromhex(self.bytecode.removeprefix("0x"))).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "contractName": self.name,
            "sourceName": self.source,
            "compiler": self.compiler,
            "abi": self.abi,
            "bytecode": self.bytecode,
            "deployedBytecode": self.deployed_bytecode,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Artifact:
        return cls(
            name=data["contractName"],
            source=data["sourceName"],
            abi=data["abi"],
            bytecode=data["bytecode"],
            deployed_bytecode=data.get("deployedBytecode", ""),
            compiler=data.get("compiler", ""),
        )


def artifact_path(name: str, directory: Path = ARTIFACTS_DIR) -> Path:
    return directory / f"{name}.json"


@cache
def load_artifact(name: str) -> Artifact:
    """The shipped artifact of contract ``name`` (e.g. ``"LoyaltyPoints"``)."""
    path = artifact_path(name)
    if not path.is_file():
        known = sorted(p.stem for p in ARTIFACTS_DIR.glob("*.json"))
        raise DeploymentError(
            f"no compiled artifact for {name!r} in {ARTIFACTS_DIR} (have: {', '.join(known) or 'none'}); "
            "run `loyalty-chain compile`"
        )
    return Artifact.from_json(json.loads(path.read_text()))


_Key = tuple[str, str, str | None]  # artifact name, creation bytecode, address (None: the class)
_contracts: weakref.WeakKeyDictionary[Web3, dict[_Key, Any]] = weakref.WeakKeyDictionary()
_contracts_lock = threading.Lock()


def contract_at(w3: Web3, name: str, address: str) -> Contract:
    """The shipped contract ``name`` at ``address`` over ``w3`` (see :func:`contract_of`)."""
    return contract_of(w3, load_artifact(name), address)


def contract_of(w3: Web3, artifact: Artifact, address: str) -> Contract:
    """``artifact``'s contract at ``address`` over ``w3``, made once per connection, artifact and address.

    web3 builds a class for an ABI (~10 ms of CPU for our larger contracts), then for each address
    an object per function and event (~7 ms): four contracts per
    :class:`~loyalty_chain.client.LoyaltyClient`, two per deploy. The class is made once per
    artifact (:func:`contract_class`) and serves every address; the objects hold no state of their
    own, so one serves every caller (and thread) of the same connection.
    """
    key = (artifact.name, artifact.bytecode, address)
    made: Contract = _made(w3, key, lambda: contract_class(w3, artifact)(cast(Any, address)))
    return made


def contract_class(w3: Web3, artifact: Artifact) -> type[Contract]:
    """web3's contract class for ``artifact`` over ``w3`` (with its bytecode: it deploys too), made once."""
    key = (artifact.name, artifact.bytecode, None)
    return _made(w3, key, lambda: w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode))  # type: ignore[no-any-return]


def _made(w3: Web3, key: _Key, make: Callable[[], Any]) -> Any:
    with _contracts_lock:
        made = _contracts.setdefault(w3, {}).get(key)
    if made is None:
        new = make()  # outside the lock: ~10 ms; two threads may both make it, the first one kept
        with _contracts_lock:
            made = _contracts.setdefault(w3, {}).setdefault(key, new)
    return made


def write_artifacts(artifacts: dict[str, Artifact], directory: Path = ARTIFACTS_DIR) -> list[Path]:
    """Write each artifact as stable, diff-friendly JSON; remove ones no longer built."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, artifact in sorted(artifacts.items()):
        path = artifact_path(name, directory)
        write_text_atomic(path, json.dumps(artifact.to_json(), indent=1, sort_keys=True) + "\n")
        written.append(path)
    for stale in directory.glob("*.json"):
        if stale.stem not in artifacts:
            stale.unlink()
    load_artifact.cache_clear()
    with _contracts_lock:
        _contracts.clear()  # made from the ABIs just replaced
    return written
