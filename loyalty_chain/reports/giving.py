"""Donations from the cache: points donated to the program's charities (CharityRegistry events)."""

from __future__ import annotations

from dataclasses import dataclass

from .query import Reader, Window, as_int, t, text32

DONATED = "CharityRegistry_Donated"
ADDED = "CharityRegistry_CharityAdded"
UPDATED = "CharityRegistry_CharityUpdated"


@dataclass(frozen=True)
class Donations:
    donated: int
    """Points donated in the range (burned from the donors)."""
    count: int
    per_charity: dict[str, int]
    """Points donated in the range per charity name (its latest name)."""


def donations(r: Reader, w: Window) -> Donations:
    """What members donated in the range; nothing when the program has no charity registry."""
    if not r.has(DONATED):
        return Donations(0, 0, {})
    rows = r.rows(
        f"""SELECT charityId, SUM(amount), COUNT(*) FROM {t(DONATED)}
            WHERE block BETWEEN ? AND ? GROUP BY charityId ORDER BY charityId""",
        (w.first_block, w.last_block),
        sums=[f"{DONATED}.amount"],
    )
    names: dict[int, str] = {}
    for table in (ADDED, UPDATED):  # the later rename wins: updates are read after additions
        for charity_id, name in r.rows(f"SELECT charityId, name FROM {t(table)} ORDER BY block, log_index"):
            names[int(charity_id)] = text32(name)
    per_charity = {names.get(int(c), f"#{c}"): as_int(total) for c, total, _ in rows}
    return Donations(sum(per_charity.values()), sum(int(n) for _, _, n in rows), per_charity)
