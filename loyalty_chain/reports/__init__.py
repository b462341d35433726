"""Reports a brand manager reads, computed from the indexer's cache for any date range.

``program_report(chain, record, since=…, until=…)`` syncs the cache and returns a
:class:`~.model.ProgramReport`; :mod:`.export` writes it as JSON, CSV files or the HTML dashboard.
"""

from __future__ import annotations

from .build import ProgramInfo, compute, parse_value, program_info, program_report
from .model import CampaignStats, Cohort, PerkStats, ProgramReport, Series

__all__ = [
    "CampaignStats",
    "Cohort",
    "PerkStats",
    "ProgramInfo",
    "ProgramReport",
    "Series",
    "compute",
    "parse_value",
    "program_info",
    "program_report",
]
