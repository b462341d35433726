"""The deployments registry: one JSON record per program and chain, tied to the chain instance.

A record lives at ``<root>/<chain-id>/<program>.json`` (root: ``$LOYALTY_CHAIN_DEPLOYMENTS``, else
``./deployments``). A chain id alone does not name a chain: every fresh anvil is chain id 31337 and
hands out the same addresses, so a record left by a devnet that is gone would match an unrelated
program deployed later at those addresses. Each record therefore keeps the chain's genesis block
hash and the hash of the block it was deployed in; a record is *live* only where both are still
there and its deployment transaction created the recorded contract. Any other record is *stale*:
loading it says why, and deploying under its name sets it aside (``<program>.stale-<genesis>.json``)
instead of refusing the name or overwriting the file silently.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .chain import Chain
from .errors import DeploymentError, StaleProgramError, UnknownProgramError
from .files import write_text_atomic
from .record_check import check_program_name, verify_program

log = logging.getLogger("loyalty_chain")

MAX_LISTED = 50
"""Most records checked on chain to list the live programs in a "not found" message."""


def registry_root() -> Path:
    """Where deployment records live: ``$LOYALTY_CHAIN_DEPLOYMENTS`` or ``./deployments``."""
    return Path(os.environ.get("LOYALTY_CHAIN_DEPLOYMENTS", "deployments"))


def record_path(chain_id: int, name: str, root: Path | None = None) -> Path:
    """``<root>/<chain-id>/<name>.json``; a name that is not a plain program name is refused."""
    return (root or registry_root()) / str(int(chain_id)) / f"{check_program_name(name)}.json"


@dataclass(frozen=True)
class ProgramRecord:
    """A deployed program, as stored in the registry."""

    name: str
    chain_id: int
    addresses: dict[str, str]
    tx_hashes: dict[str, str]
    block: int
    """The block of the first deploy: where event scans start."""
    deployer: str
    compiler: str
    artifact_hashes: dict[str, str]
    options: dict[str, Any] = field(default_factory=dict)
    genesis_hash: str = ""
    """Hash of the chain's block 0: tells this chain instance from another with the same id."""
    block_hash: str = ""
    """Hash of ``block`` when deployed: a reorg or another chain instance changes it."""
    root: Path | None = field(default=None, compare=False, repr=False)
    """The registry folder the record was saved to or loaded from (not stored in the file)."""

    @property
    def path(self) -> Path:
        return record_path(self.chain_id, self.name, self.root)

    @property
    def points_contract(self) -> str:
        """The artifact of the points token (recorded as ``LoyaltyPoints`` either way): ``ExpiringPoints``
        when the program's points expire (its options carry ``expiry``), else ``LoyaltyPoints``."""
        return "ExpiringPoints" if isinstance(self.options.get("expiry"), dict) else "LoyaltyPoints"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["root"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], root: Path | None = None) -> ProgramRecord:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "root"}
        return cls(**known, root=root)

    def save(self, root: Path | None = None) -> Path:
        path = record_path(self.chain_id, self.name, root or self.root)
        write_text_atomic(path, json.dumps(self.to_json(), indent=2) + "\n")
        return path


def chain_fingerprint(chain: Chain, block: int) -> tuple[str, str]:
    """(genesis hash, hash of ``block``) of this chain, as a record stores them."""
    genesis = chain.w3.eth.get_block(0)["hash"]
    at = chain.w3.eth.get_block(block)["hash"]
    return genesis.to_0x_hex(), at.to_0x_hex()


def _short(value: str) -> str:
    return value[:10] + "…"


def stale_reason(chain: Chain, record: ProgramRecord) -> str | None:
    """Why ``record`` does not describe a program on this chain instance, or None if it does.

    What it reads (the genesis block, the deployment block, the points token's deployment receipt
    and code) goes to the node in one JSON-RPC batch: one round trip, not four.
    """
    if record.chain_id != chain.chain_id:
        return f"it is for chain id {record.chain_id}, this chain is {chain.chain_id}"
    points = record.addresses.get("LoyaltyPoints", "")
    tx_hash = record.tx_hashes.get("LoyaltyPoints", "")
    genesis, at, receipt, code = (
        answer.get("result")
        for answer in chain.batch(
            [
                ("eth_getBlockByNumber", ["0x0", False]),
                ("eth_getBlockByNumber", [hex(record.block), False]),
                ("eth_getTransactionReceipt", [tx_hash]),
                ("eth_getCode", [points, "latest"]),
            ]
        )
    )
    if record.genesis_hash:
        here = str((genesis or {}).get("hash"))
        if here != record.genesis_hash:
            return (
                f"it was made on another chain with this id (genesis {_short(record.genesis_hash)}, "
                f"here {_short(here)}): the devnet it came from is gone"
            )
    if record.block_hash:
        if not at:
            return f"its deployment block {record.block} is not on this chain (it was reset or reorged)"
        if at.get("hash") != record.block_hash:
            return f"its deployment block {record.block} is not on this chain any more (a reorg or reset)"
    if not isinstance(receipt, dict):
        return f"its deployment transaction {_short(tx_hash)} is not on this chain"
    if str(receipt.get("contractAddress") or "").lower() != points.lower():
        return f"its deployment transaction {_short(tx_hash)} did not create {points}"
    if not isinstance(code, str) or code in ("0x", ""):
        return f"there is no contract at {points} any more"
    return None


def _read(path: Path, root: Path) -> ProgramRecord:
    return ProgramRecord.from_json(json.loads(path.read_text()), root)


def list_programs(chain_id: int, root: Path | None = None) -> list[str]:
    """The names recorded for ``chain_id`` (live or not; see :func:`live_programs`)."""
    folder = (root or registry_root()) / str(chain_id)
    return sorted(p.stem for p in folder.glob("*.json") if ".stale-" not in p.name)


def live_programs(chain: Chain, root: Path | None = None) -> tuple[list[str], list[str]]:
    """(live, stale) program names recorded for this chain, checked on chain (at most MAX_LISTED)."""
    base = root or registry_root()
    live: list[str] = []
    stale: list[str] = []
    for name in list_programs(chain.chain_id, base)[:MAX_LISTED]:
        try:
            record = _read(record_path(chain.chain_id, name, base), base)
        except (OSError, ValueError, TypeError):
            stale.append(name)
            continue
        (stale if stale_reason(chain, record) else live).append(name)
    return live, stale


def load_program(chain: Chain, name: str, root: Path | None = None) -> ProgramRecord:
    """The recorded program ``name``, checked to be on this very chain instance.

    Raises :class:`UnknownProgramError` (naming the folder searched and the live programs there)
    when there is no record, :class:`StaleProgramError` when the record is of a chain that is
    gone or was reset, and :class:`DeploymentError` when it names contracts that are not ours,
    deployed as recorded and wired together (:func:`~loyalty_chain.record_check.verify_program`).
    """
    base = root or registry_root()
    path = record_path(chain.chain_id, name, base)
    if not path.is_file():
        live, stale = live_programs(chain, base)
        raise UnknownProgramError(name, chain.chain_id, live, folder=str(path.parent), stale=stale)
    try:
        record = _read(path, base)
    except (ValueError, TypeError) as exc:
        raise DeploymentError(
            f"{path} is not a deployment record ({exc}); deploy the program again"
        ) from None
    if record.name != name:
        raise DeploymentError(f"{path} records program {record.name!r}; it was moved or edited")
    reason = stale_reason(chain, record)
    if reason is not None:
        raise StaleProgramError(name, chain.chain_id, str(path), reason)
    verify_program(chain, record)
    return record


def set_aside_if_stale(chain: Chain, name: str, root: Path | None = None) -> Path | None:
    """Move a stale record of ``name`` out of the way (kept beside it); the new path, or None.

    A live record is left alone (the caller refuses the name); a stale one is renamed to
    ``<name>.stale-<genesis>.json`` and a warning is logged, so that a rerun never replaces a record
    without saying so.
    """
    base = root or registry_root()
    path = record_path(chain.chain_id, name, base)
    if not path.is_file():
        return None
    try:
        record = _read(path, base)
        reason = stale_reason(chain, record)
    except (ValueError, TypeError, KeyError) as exc:
        record, reason = None, f"it cannot be read ({exc})"
    if reason is None:
        return None
    tag = (record.genesis_hash[2:10] if record and record.genesis_hash else "") or str(
        int(path.stat().st_mtime)
    )
    aside = path.with_name(f"{name}.stale-{tag}.json")
    path.replace(aside)
    log.warning("deployment record %s was stale (%s); moved it to %s", path, reason, aside)
    return aside
