"""Pull airdrops: Merkle campaigns of the AirdropDistributor, from the tree to the claims.

::

    tree, rows = build_campaign_tree("points", "customers.csv")      # campaign: build, publish, claim
    campaign = publish_campaign(chain, "cafe", tree, account, start=start, end=end)
    statuses = campaign_statuses(chain, "cafe")                       # admin: list, status, close, sweep

Modules: :mod:`.merkle` (``StandardMerkleTree``, byte-compatible with ``@openzeppelin/merkle-tree``;
:mod:`.merkle_leaves` its leaf values), :mod:`.campaign` (build, publish, prove, claim), :mod:`.admin`
(list, status, close, sweep) and :mod:`.records` (what this machine knows of the trees it published).
Importing the package imports none of them: each name below is loaded from its module on first use
(the tree alone needs no web3).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .admin import CampaignStatus, campaign_statuses, close_campaign, sweep_campaign
    from .campaign import (
        Campaign,
        Claim,
        Leaf,
        build_campaign_tree,
        build_tree,
        claim,
        leaves_for,
        load_tree,
        publish_campaign,
        write_tree,
    )
    from .merkle import MultiProof, StandardMerkleTree
    from .records import CampaignRecord, load_records

_EXPORTS = {
    "CampaignStatus": "admin",
    "campaign_statuses": "admin",
    "close_campaign": "admin",
    "sweep_campaign": "admin",
    "Campaign": "campaign",
    "Claim": "campaign",
    "Leaf": "campaign",
    "build_campaign_tree": "campaign",
    "build_tree": "campaign",
    "claim": "campaign",
    "leaves_for": "campaign",
    "load_tree": "campaign",
    "publish_campaign": "campaign",
    "write_tree": "campaign",
    "MultiProof": "merkle",
    "StandardMerkleTree": "merkle",
    "CampaignRecord": "records",
    "load_records": "records",
}

__all__ = [
    "Campaign",
    "CampaignRecord",
    "CampaignStatus",
    "Claim",
    "Leaf",
    "MultiProof",
    "StandardMerkleTree",
    "build_campaign_tree",
    "build_tree",
    "campaign_statuses",
    "claim",
    "close_campaign",
    "leaves_for",
    "load_records",
    "load_tree",
    "publish_campaign",
    "sweep_campaign",
    "write_tree",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'loyalty_chain.campaigns' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
