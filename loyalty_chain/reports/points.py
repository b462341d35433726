"""Point flows from the cache: issued by reason (Merkle claims under their campaign's reason), redeemed,
burned, outstanding, P2P transfers, holders, active wallets, top earners, time from earn to redeem."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..indexer.rollup import totals_of
from . import rollups
from .query import ZERO, Reader, Window, as_int, t, text32

TRANSFER = "LoyaltyPoints_Transfer"
ISSUED = "LoyaltyPoints_PointsIssued"
REDEEMED = "PerkCatalog_PerkRedeemed"
CLAIMED = "AirdropDistributor_Claimed"
CREATED = "AirdropDistributor_CampaignCreated"

BREAKAGE_EVENTS: dict[str, str] = {}
"""Event tables whose rows are points that expired (breakage), and their amount column. Empty: ExpiringPoints
expires points lazily, with no event; a report reads its breakage from the token instead
(:func:`loyalty_chain.expiry.expired_points`, passed to ``compute`` as ``breakage``)."""

DAY = 86_400


@dataclass(frozen=True)
class Flows:
    issued: int
    burned: int
    minted_all: int
    burned_all: int
    p2p_count: int
    p2p_volume: int


def flows(r: Reader, w: Window) -> Flows:
    """Range and all-time mints and burns, and P2P moves: the all-time sums from the indexer's
    ``point_totals`` when the range ends where the cache does (and the range's too when it starts
    where the cache does, else from the transfers of its blocks), else one pass over the transfers."""
    if w.to_end:
        total = totals_of(r.conn)
        minted, burned = total["minted"], total["burned"]
        if w.from_start:
            return Flows(minted, burned, minted, burned, total["p2p_count"], total["p2p_volume"])
        row = r.one(
            f"""SELECT
                SUM(CASE WHEN "from" = :z THEN value END),
                SUM(CASE WHEN "to" = :z THEN value END),
                COUNT(CASE WHEN "from" != :z AND "to" != :z THEN 1 END),
                SUM(CASE WHEN "from" != :z AND "to" != :z THEN value END)
            FROM {t(TRANSFER)} WHERE block >= :lo""",
            {"z": ZERO, "lo": w.first_block},
            sums=[f"{TRANSFER}.value"],
        )
        return Flows(as_int(row[0]), as_int(row[1]), minted, burned, int(row[2] or 0), as_int(row[3]))
    row = r.one(
        f"""SELECT
            SUM(CASE WHEN "from" = :z AND block >= :lo THEN value END),
            SUM(CASE WHEN "to" = :z AND block >= :lo THEN value END),
            SUM(CASE WHEN "from" = :z THEN value END),
            SUM(CASE WHEN "to" = :z THEN value END),
            COUNT(CASE WHEN "from" != :z AND "to" != :z AND block >= :lo THEN 1 END),
            SUM(CASE WHEN "from" != :z AND "to" != :z AND block >= :lo THEN value END)
        FROM {t(TRANSFER)} WHERE block <= :hi""",
        {"z": ZERO, "lo": w.first_block, "hi": w.last_block},
        sums=[f"{TRANSFER}.value"],
    )
    return Flows(as_int(row[0]), as_int(row[1]), as_int(row[2]), as_int(row[3]), int(row[4] or 0),
                 as_int(row[5]))  # fmt: skip


def issued_by_reason(r: Reader, w: Window, distributor: str) -> dict[str, int]:
    """Points issued per reason; a Merkle claim's mint counts under its campaign's reason.

    A claim emits ``Claimed`` and then the token's ``Transfer`` and ``PointsIssued``, so the claim of
    a mint is the ``Claimed`` two logs before its ``PointsIssued`` in the same block.
    """
    rows = r.rows(
        f"""SELECT COALESCE(cc.reason, i.reason), SUM(i.total) FROM {t(ISSUED)} i
            LEFT JOIN {t(CLAIMED)} c
              ON i.issuer = :d AND c.block = i.block AND c.log_index = i.log_index - 2
            LEFT JOIN {t(CREATED)} cc ON cc.campaignId = c.campaignId
            WHERE i.block BETWEEN :lo AND :hi GROUP BY 1""",
        {"d": distributor.lower(), "lo": w.first_block, "hi": w.last_block},
        sums=[f"{ISSUED}.total"],
    )
    out: Counter[str] = Counter()
    for reason, total in rows:
        out[text32(reason) or "(none)"] += as_int(total)
    return dict(out.most_common())


def redemptions(r: Reader, w: Window) -> tuple[int, int]:
    """(points redeemed, redemptions) in the range."""
    row = r.one(
        f"SELECT SUM(pointsBurned), COUNT(*) FROM {t(REDEEMED)} WHERE block BETWEEN ? AND ?",
        (w.first_block, w.last_block),
        sums=[f"{REDEEMED}.pointsBurned"],
    )
    return as_int(row[0]), int(row[1] or 0)


def expired(r: Reader, w: Window) -> int:
    total = 0
    for table, column in BREAKAGE_EVENTS.items():
        if r.has(table):
            row = r.one(
                f'SELECT SUM("{column}") FROM {t(table)} WHERE block BETWEEN ? AND ?',
                (w.first_block, w.last_block),
                sums=[f"{table}.{column}"],
            )
            total += as_int(row[0])
    return total


def point_holders(r: Reader, w: Window) -> int:
    """Wallets with a positive balance at the end of the range (from the indexer's balances)."""
    return rollups.point_holders(r, w.last_block)


def active_wallets(r: Reader, w: Window, days: int) -> int:
    """Wallets that earned, redeemed or transferred in the ``days`` up to the end of the range."""
    lo = r.conn.execute("SELECT MIN(number) FROM blocks WHERE ts > ?", (w.until - days * DAY,)).fetchone()[0]
    if lo is None:
        return 0
    pairs, params = rollups.wallet_days(r, int(lo), w.last_block)
    return int(r.one(f"SELECT COUNT(DISTINCT wallet) FROM ({pairs})", params)[0] or 0)


def top_earners(r: Reader, w: Window, limit: int = 10) -> list[tuple[str, int]]:
    """The wallets minted the most points in the range, the most first, ties by address (the
    indexer's ``earned`` when the range is the whole cache)."""
    if w.from_start and w.to_end:
        # Decimal text (beyond 64 bits) sorts after every integer: read apart, then the largest integers.
        rows = r.conn.execute("SELECT wallet, total FROM earned WHERE total >= ''").fetchall()
        rows += r.conn.execute(
            "SELECT wallet, total FROM earned WHERE total < '' ORDER BY total DESC, wallet LIMIT ?", (limit,)
        ).fetchall()
    else:
        sql = f"""SELECT "to", SUM(value) AS earned FROM {t(TRANSFER)}
                  WHERE "from" = ? AND block BETWEEN ? AND ? GROUP BY "to" ORDER BY earned DESC, "to" """
        bounds = (ZERO, w.first_block, w.last_block)
        rows = r.rows(f"{sql} LIMIT ?", (*bounds, limit), sums=[f"{TRANSFER}.value"])
        if any(not isinstance(v, int) for _, v in rows):  # exact path: text sums, ordered as text
            rows = r.rows(sql, bounds, sums=[f"{TRANSFER}.value"])
    ranked = sorted(((str(a), as_int(v)) for a, v in rows), key=lambda x: (-x[1], x[0]))[:limit]
    from eth_utils import to_checksum_address

    return [(to_checksum_address(a), v) for a, v in ranked]


def avg_days_earn_to_redeem(r: Reader, w: Window) -> float | None:
    """Mean, over the range's redemptions, of the days since the member first earned points (the
    first mint to each wallet the cache holds: the indexer's ``earned.first_ts``)."""
    row = r.one(
        f"""SELECT AVG(x.ts - e.first_ts) FROM {t(REDEEMED)} x JOIN earned e ON e.wallet = x.member
            WHERE x.block BETWEEN ? AND ?""",
        (w.first_block, w.last_block),
    )
    return None if row[0] is None else round(float(row[0]) / DAY, 2)
