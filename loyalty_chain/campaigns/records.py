"""What this machine knows about the Merkle campaigns it published: the chain keeps only each root, so
the tree's size and total (for claim rates and unclaimed amounts) and where the tree file is are kept
in ``deployments/<chain-id>/<program>.campaigns.json``, beside the program's record."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ..files import write_atomic
from ..program import ProgramRecord


@dataclass(frozen=True)
class CampaignRecord:
    campaign_id: int
    kind: str
    root: str
    leaves: int
    total: int
    """Points offered (base units) for a points campaign, cards offered for a card campaign."""
    tree: str
    """The tree file it was published from (absolute path)."""


def records_path(record: ProgramRecord) -> Path:
    return record.path.with_name(f"{record.name}.campaigns.json")


def load_records(record: ProgramRecord) -> dict[int, CampaignRecord]:
    path = records_path(record)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {int(k): CampaignRecord(**v) for k, v in data.items()}
    except (ValueError, TypeError):
        return {}  # a damaged file only loses claim rates; the chain is the source of truth


def save_record(record: ProgramRecord, campaign: CampaignRecord) -> Path:
    records = load_records(record)
    records[campaign.campaign_id] = campaign
    path = records_path(record)
    text = json.dumps({str(k): asdict(v) for k, v in sorted(records.items())}, indent=2) + "\n"
    return write_atomic(path, text)
