"""Where an exchange agreement between two programs is recorded, and what is checked when it is loaded.

``<registry root>/<chain-id>/exchanges/<A>--<B>.json``: the agreement's address and deploy transaction,
the two programs, the terms. On load the agreement must be the shipped ``PartnerExchange`` created by
the recorded transaction and name the two programs' recorded points tokens.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak

from ..artifacts import load_artifact
from ..chain import Chain
from ..errors import DeploymentError, InputError
from ..files import write_text_atomic
from ..record_check import check_program_name, deployed_as_recorded, deployment_calls, names_address
from ..registry import ProgramRecord, registry_root

CONTRACT = "PartnerExchange"

log = logging.getLogger(__name__)

_DURATION_UNITS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 7 * 86_400}


@dataclass(frozen=True)
class ExchangeTerms:
    """What two programs agree: ``rate_from`` points of A give ``rate_to`` of B (less ``fee_bps``)."""

    rate_from: int
    rate_to: int
    minimum: int = 0
    """The fewest points of A one conversion takes."""
    cap: int = 0
    """The most points of A one wallet converts per ``period``; 0 = no cap."""
    period: int = 0
    """The cap's period in seconds (counted from the unix epoch)."""
    fee_bps: int = 0
    """The share of the converted amount not issued, in basis points."""

    def validate(self) -> None:
        for name in ("rate_from", "rate_to", "minimum", "cap", "period", "fee_bps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError(f"exchange {name} must be a whole number of at least 0, got {value!r}")
        if not 0 < self.rate_from < 2**96 or not 0 < self.rate_to < 2**96:
            raise InputError(f"rate {self.rate_from}:{self.rate_to} needs both sides between 1 and 2**96 - 1")
        if self.fee_bps >= 10_000:
            raise InputError(f"fee must be below 10,000 basis points (100%), got {self.fee_bps}")
        if self.cap >= 2**192:
            raise InputError(f"cap {self.cap} is too large (at most 2**192 - 1)")
        if self.cap and not self.period:
            raise InputError("a cap needs a period (e.g. --period 30d)")

    def as_list(self) -> list[int]:
        return [self.rate_from, self.rate_to, self.minimum, self.cap, self.period, self.fee_bps]


def parse_rate(text: str) -> tuple[int, int]:
    """``"100:80"`` → (100, 80)."""
    parts = text.replace(" ", "").split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise InputError(f"rate {text!r} must be A:B in whole points, e.g. 100:80 (100 of A give 80 of B)")
    return int(parts[0]), int(parts[1])


def parse_duration(text: str) -> int:
    """``"30d"``, ``"12h"``, ``"3600"`` → seconds."""
    raw = text.strip().lower()
    if raw.isdigit():
        return int(raw)
    unit, number = _DURATION_UNITS.get(raw[-1:]), raw[:-1]
    if unit is None or not number.isdigit():
        raise InputError(f"duration {text!r} must be a number with s, m, h, d or w, e.g. 30d")
    return int(number) * unit


@dataclass(frozen=True)
class ExchangeRecord:
    program_a: str
    program_b: str
    chain_id: int
    address: str
    tx_hash: str
    block: int
    terms: dict[str, int]
    artifact_hash: str
    root: Path | None = field(default=None, compare=False, repr=False)

    @property
    def path(self) -> Path:
        return exchange_path(self.chain_id, self.program_a, self.program_b, self.root)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["root"]
        return data

    def save(self) -> Path:
        write_text_atomic(self.path, json.dumps(self.to_json(), indent=2) + "\n")
        return self.path


def exchange_path(chain_id: int, program_a: str, program_b: str, root: Path | None = None) -> Path:
    a, b = check_program_name(program_a), check_program_name(program_b)
    return (root or registry_root()) / str(int(chain_id)) / "exchanges" / f"{a}--{b}.json"


def load_exchange_record(
    chain: Chain, program_a: ProgramRecord, program_b: ProgramRecord, root: Path | None = None
) -> ExchangeRecord:
    """The recorded agreement from A to B, checked against the chain and the two programs."""
    path = exchange_path(chain.chain_id, program_a.name, program_b.name, root)
    if not path.is_file():
        raise DeploymentError(
            f"no exchange from {program_a.name!r} to {program_b.name!r} is recorded on chain id "
            f"{chain.chain_id} ({path}); open one: loyalty-chain exchange open {program_a.name} "
            f"{program_b.name} --rate A:B"
        )
    try:
        data = json.loads(path.read_text())
        known = {k: v for k, v in data.items() if k in ExchangeRecord.__dataclass_fields__ and k != "root"}
        record = ExchangeRecord(**known, root=root)
    except (ValueError, TypeError) as exc:
        raise DeploymentError(f"{path} is not an exchange record ({exc}); open the exchange again") from None
    verify_exchange(chain, record, program_a, program_b)
    return record


def verify_exchange(
    chain: Chain, record: ExchangeRecord, program_a: ProgramRecord, program_b: ProgramRecord
) -> None:
    """Refuse a record whose agreement is not the shipped contract, deployed as recorded, between A and B."""
    where = f"exchange {record.program_a}--{record.program_b}"
    if record.artifact_hash != load_artifact(CONTRACT).bytecode_hash:
        raise DeploymentError(
            f"{where} was recorded with another build of {CONTRACT}; use the loyalty_chain version that "
            "opened it, or open a new agreement"
        )
    reason = exchange_stale_reason(chain, record, program_a, program_b)
    if reason is not None:
        raise DeploymentError(f"{where}: {reason}: open the exchange again")


def exchange_stale_reason(
    chain: Chain, record: ExchangeRecord, program_a: ProgramRecord, program_b: ProgramRecord
) -> str | None:
    """Why ``record`` is not an agreement between A and B on this chain instance, or None if it is
    (its transaction, receipt and two views read in one JSON-RPC batch)."""
    views = (("pointsA()", program_a), ("pointsB()", program_b))
    calls = deployment_calls(record.tx_hash) + [
        ("eth_call", [{"to": record.address, "data": "0x" + keccak(text=view)[:4].hex()}, "latest"])
        for view, _ in views
    ]
    tx, receipt, *answers = (answer.get("result") for answer in chain.batch(calls))
    creation = bytes.fromhex(load_artifact(CONTRACT).bytecode.removeprefix("0x"))
    if not deployed_as_recorded(tx, receipt, record.address, creation):
        return (
            f"{record.address} is not a {CONTRACT} deployed by its recorded transaction (the record "
            "was edited or its chain is gone)"
        )
    for (_, program), answer in zip(views, answers, strict=True):
        if not names_address(answer, program.addresses["LoyaltyPoints"]):
            return f"the agreement does not use program {program.name!r}'s points (edited, or redeployed)"
    return None


def set_aside_if_stale(
    chain: Chain, program_a: ProgramRecord, program_b: ProgramRecord, root: Path | None = None
) -> Path | None:
    """Move the record of A→B out of the way if it is not an agreement between these two programs on
    this chain (a devnet that is gone, programs deployed again); the new path, or None.

    A live record is left alone (the caller refuses to open another); a stale one is renamed to
    ``<A>--<B>.stale-<tx hash>.json`` with a warning, as a stale program record is."""
    path = exchange_path(chain.chain_id, program_a.name, program_b.name, root)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        known = {k: v for k, v in data.items() if k in ExchangeRecord.__dataclass_fields__ and k != "root"}
        record = ExchangeRecord(**known, root=root)
        reason = exchange_stale_reason(chain, record, program_a, program_b)
        tag = record.tx_hash[2:10]
    except (ValueError, TypeError) as exc:
        reason, tag = f"it cannot be read ({exc})", str(int(path.stat().st_mtime))
    if reason is None:
        return None
    aside = path.with_name(f"{path.stem}.stale-{tag}.json")
    path.replace(aside)
    log.warning("exchange record %s was stale (%s); moved it to %s", path, reason, aside)
    return aside
