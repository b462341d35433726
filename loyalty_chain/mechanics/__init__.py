"""Loyalty mechanics a program adds on top of points, cards and perks (issue 12).

* :class:`Giving` (``giving``): charities per program; members donate points (burned, running totals).
* :func:`set_early_access` (``early_access``): a perk opens early for holders of a collection or a tier.
* :class:`Tiers` (``tiers``): tiers that follow activity (thresholds on qualifying points per period).

Each mechanic that needs a contract of its own adds it to the program's record
(:mod:`loyalty_chain.mechanics.addons`). Importing this package loads nothing until a name is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .early_access import (
        CampaignEarlyAccess,
        EarlyAccess,
        clear_campaign_early_access,
        clear_early_access,
        read_campaign_early_access,
        read_early_access,
        set_campaign_early_access,
        set_early_access,
    )
    from .giving import Charity, Donation, Giving
    from .tiers import TierPeriod, TierProgress, TierRules, Tiers

_EXPORTS = {
    "Charity": "giving",
    "Donation": "giving",
    "Giving": "giving",
    "EarlyAccess": "early_access",
    "CampaignEarlyAccess": "early_access",
    "clear_campaign_early_access": "early_access",
    "read_campaign_early_access": "early_access",
    "set_campaign_early_access": "early_access",
    "clear_early_access": "early_access",
    "read_early_access": "early_access",
    "set_early_access": "early_access",
    "TierPeriod": "tiers",
    "TierProgress": "tiers",
    "TierRules": "tiers",
    "Tiers": "tiers",
}

__all__ = [
    "CampaignEarlyAccess",
    "Charity",
    "Donation",
    "EarlyAccess",
    "Giving",
    "TierPeriod",
    "TierProgress",
    "TierRules",
    "Tiers",
    "clear_campaign_early_access",
    "clear_early_access",
    "read_campaign_early_access",
    "read_early_access",
    "set_campaign_early_access",
    "set_early_access",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'loyalty_chain.mechanics' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
