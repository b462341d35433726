"""Perks and campaigns from the cache: perk popularity, and each Merkle campaign's claims."""

from __future__ import annotations

from collections.abc import Mapping

from .model import CampaignStats, PerkStats
from .query import Reader, Window, as_int, t, text32

REDEEMED = "PerkCatalog_PerkRedeemed"
ADDED = "PerkCatalog_PerkAdded"
UPDATED = "PerkCatalog_PerkUpdated"
CREATED = "AirdropDistributor_CampaignCreated"
CLAIMED = "AirdropDistributor_Claimed"
CLOSED = "AirdropDistributor_CampaignClosed"


def perk_titles(r: Reader, hi: int) -> dict[int, str]:
    """Each perk's latest title up to block ``hi``."""
    titles: dict[int, str] = {}
    rows = r.conn.execute(
        f"""SELECT perkId, title, block, log_index FROM {t(ADDED)} WHERE block <= :hi
            UNION ALL SELECT perkId, title, block, log_index FROM {t(UPDATED)} WHERE block <= :hi
            ORDER BY block, log_index""",
        {"hi": hi},
    )
    for perk_id, title, _, _ in rows:
        titles[int(perk_id)] = text32(title)
    return titles


def perks(r: Reader, w: Window) -> list[PerkStats]:
    """Every perk redeemed in the range, most redeemed first."""
    titles = perk_titles(r, w.last_block)
    rows = r.rows(
        f"""SELECT perkId, COUNT(*), SUM(quantity), SUM(pointsBurned), COUNT(DISTINCT member)
            FROM {t(REDEEMED)} WHERE block BETWEEN ? AND ? GROUP BY perkId ORDER BY 2 DESC, 1""",
        (w.first_block, w.last_block),
        sums=[f"{REDEEMED}.pointsBurned", f"{REDEEMED}.quantity"],
    )
    return [
        PerkStats(
            int(p), titles.get(int(p), f"perk {p}"), int(n), as_int(units), as_int(points), int(members)
        )
        for p, n, units, points, members in rows
    ]


def campaigns(r: Reader, w: Window, known: Mapping[int, tuple[int, int]]) -> list[CampaignStats]:
    """Every campaign created up to the range's end, with its claims up to then.

    ``known`` gives ``(leaves, total)`` of the trees this machine published (the chain has only roots).
    """
    closed = dict(
        r.conn.execute(
            f'SELECT campaignId, MAX("end") FROM {t(CLOSED)} WHERE block <= ? GROUP BY 1', (w.last_block,)
        )
    )
    claims = {
        int(c): (int(n), as_int(total))
        for c, n, total in r.rows(
            f"SELECT campaignId, COUNT(*), SUM(amount) FROM {t(CLAIMED)} WHERE block <= ? GROUP BY 1",
            (w.last_block,),
            sums=[f"{CLAIMED}.amount"],
        )
    }
    out = []
    for cid, kind, start, end, reason in r.conn.execute(
        f'SELECT campaignId, kind, start, "end", reason FROM {t(CREATED)} WHERE block <= ? ORDER BY 1',
        (w.last_block,),
    ):
        campaign_id = int(cid)
        n, total = claims.get(campaign_id, (0, 0))
        is_points = int(kind) == 0
        leaves, offered = known.get(campaign_id, (None, None))
        out.append(
            CampaignStats(
                campaign_id=campaign_id,
                kind="points" if is_points else "cards",
                reason=text32(reason),
                start=int(start),
                end=int(closed.get(cid, end)),
                closed_early=cid in closed,
                claims=n,
                claimed=total if is_points else n,
                leaves=leaves,
                total=offered,
            )
        )
    return out
