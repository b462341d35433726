"""A whole program report: sync the cache, then compute every KPI for a date range from it."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ..artifacts import contract_at
from ..campaigns.records import load_records
from ..chain import Chain
from ..errors import InputError
from ..expiry import EXPIRING_CONTRACT, expired_points
from ..indexer import EventStore, FetchSettings, open_store, sync_store
from ..program import ProgramRecord
from . import activity, cards, catalog, giving, points
from .model import Cohort, ProgramReport
from .query import Reader, Window

DEFAULT_VALUE_PER_POINT = "0"
"""Currency per whole point for the liability figure, unless given (0: no liability shown)."""


@dataclass(frozen=True)
class ProgramInfo:
    """What a report needs to know that the events do not say."""

    name: str
    chain_id: int
    distributor: str
    tiers: tuple[str, ...]
    decimals: int
    symbol: str


INFO_KEY = "program_info"
"""The cache's ``meta`` key holding the tier names, decimals and symbol (JSON)."""


def program_info(chain: Chain, record: ProgramRecord, store: EventStore | None = None) -> ProgramInfo:
    """Tier names, decimals and symbol, read from the program's contracts, or from ``store`` when it
    has them. The contracts set them when they are deployed and have no function to change them, and
    the cache is emptied when it is opened for other contracts, so they are read once per cache."""
    kept = store.get(INFO_KEY) if store is not None else None
    if kept is not None:
        fields = json.loads(kept)
        return ProgramInfo(
            record.name,
            record.chain_id,
            record.addresses["AirdropDistributor"],
            tuple(str(t) for t in fields["tiers"]),
            int(fields["decimals"]),
            str(fields["symbol"]),
        )
    info = _read_info(chain, record)
    if store is not None:
        store.put(
            INFO_KEY, json.dumps({"tiers": info.tiers, "decimals": info.decimals, "symbol": info.symbol})
        )
    return info


def _read_info(chain: Chain, record: ProgramRecord) -> ProgramInfo:
    points_c = contract_at(chain.w3, "LoyaltyPoints", record.addresses["LoyaltyPoints"])
    card = contract_at(chain.w3, "MembershipCard", record.addresses["MembershipCard"])
    tiers = tuple(
        str(card.functions.tierName(i).call()) for i in range(int(card.functions.tierCount().call()))
    )
    return ProgramInfo(
        record.name,
        record.chain_id,
        record.addresses["AirdropDistributor"],
        tiers,
        int(points_c.functions.decimals().call()),
        str(points_c.functions.symbol().call()),
    )


def parse_value(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InputError(f"value per point {text!r} is not a number; give e.g. 0.01") from None
    if not value.is_finite() or value < 0:
        raise InputError(f"value per point must be a number of at least 0, got {text!r}")
    return value


def program_report(
    chain: Chain,
    record: ProgramRecord,
    *,
    since: int | None = None,
    until: int | None = None,
    value_per_point: str = DEFAULT_VALUE_PER_POINT,
    cache: str | os.PathLike[str] | None = None,
    settings: FetchSettings | None = None,
) -> ProgramReport:
    """Index what is new (see :func:`loyalty_chain.indexer.sync`), then report on ``[since, until]``."""
    chain.require_chain_id(record.chain_id, f"program {record.name!r}")
    value = parse_value(value_per_point)
    if since is not None and until is not None and until < since:
        raise InputError(f"--until ({until}) is before --since ({since}); swap them")
    known = {k: (v.leaves, v.total) for k, v in load_records(record).items()}
    breakage = expired_points(chain, record) if record.points_contract == EXPIRING_CONTRACT else None
    with open_store(record, cache) as store:
        info = program_info(chain, record, store)
        sync_store(chain, record, store, settings=settings)
        return compute(
            store,
            info,
            since=since,
            until=until,
            value_per_point=value,
            known_campaigns=known,
            breakage=breakage,
        )


def compute(
    store: EventStore,
    info: ProgramInfo,
    *,
    since: int | None = None,
    until: int | None = None,
    value_per_point: Decimal = Decimal(0),
    known_campaigns: dict[int, tuple[int, int]] | None = None,
    breakage: int | None = None,
) -> ProgramReport:
    """Every KPI of ``[since, until]`` (unix seconds, inclusive; open ends: all the cache holds).

    ``breakage``: for a program whose points expire, the points expired unused to date (read from the
    token, see :func:`loyalty_chain.expiry.expired_points`); counted as expired and not outstanding."""
    began = time.perf_counter()
    r = Reader(store)
    w = r.window(since, until)
    with ThreadPoolExecutor(max_workers=1) as pool:
        beside = pool.submit(_membership_and_cohorts, store, w, info.tiers)
        f = points.flows(r, w)
        redeemed, redemption_count = points.redemptions(r, w)
        gifts = giving.donations(r, w)
        holders = points.point_holders(r, w)
        active_30d, active_90d = points.active_wallets(r, w, 30), points.active_wallets(r, w, 90)
        by_reason = points.issued_by_reason(r, w, info.distributor)
        expired = points.expired(r, w)
        avg_days = points.avg_days_earn_to_redeem(r, w)
        top = points.top_earners(r, w)
        perks = catalog.perks(r, w)
        campaigns = catalog.campaigns(r, w, known_campaigns or {})
        series = activity.series(r, w, info.distributor)
        m, cohorts = beside.result() or (cards.membership(r, w, info.tiers), activity.cohorts(r, w))
    outstanding = f.minted_all - f.burned_all - (breakage or 0)
    liability = (Decimal(outstanding).scaleb(-info.decimals) * value_per_point).normalize()
    notes: list[str] = []
    if breakage is not None:
        notes.append("expired points: every epoch expired to date (the token's view), whatever the range")
    elif not points.BREAKAGE_EVENTS:
        notes.append("expired points: this program's points never expire, so breakage by expiry is 0")
    return ProgramReport(
        program=info.name,
        chain_id=info.chain_id,
        since=w.since,
        until=w.until,
        first_block=w.first_block if w.first_block < 2**62 else 0,
        last_block=w.last_block,
        indexed_to=store.cursor or 0,
        decimals=info.decimals,
        symbol=info.symbol,
        members=m.members,
        members_per_tier=m.per_tier,
        expired_cards=m.expired,
        point_holders=holders,
        active_30d=active_30d,
        active_90d=active_90d,
        issued=f.issued,
        issued_by_reason=by_reason,
        redeemed=redeemed,
        redemptions=redemption_count,
        burned_other=f.burned - redeemed - gifts.donated,
        expired=expired + (breakage or 0),
        outstanding=outstanding,
        value_per_point=str(value_per_point),
        liability=f"{liability:f}",
        redemption_rate=_ratio(redeemed, f.issued),
        avg_days_earn_to_redeem=avg_days,
        new_members=m.new_members,
        cards_ended=m.ended,
        tier_moves=m.tier_moves,
        p2p_transfers=f.p2p_count,
        p2p_volume=f.p2p_volume,
        p2p_share=_ratio(f.p2p_volume, f.issued),
        velocity=_ratio(f.p2p_volume, outstanding),
        top_earners=top,
        perks=perks,
        campaigns=campaigns,
        cohorts=cohorts,
        series=series,
        donated=gifts.donated,
        donations=gifts.count,
        donated_per_charity=gifts.per_charity,
        seconds=round(time.perf_counter() - began, 3),
        notes=notes,
    )


def _membership_and_cohorts(
    store: EventStore, w: Window, tiers: Sequence[str]
) -> tuple[cards.Membership, list[Cohort]] | None:
    """The two KPIs that fold every card and every wallet in Python (about half of a large report's
    time), on a connection of their own in a thread while the caller computes the rest: SQLite
    gives up the GIL while it steps through a query, so a report uses two cores. None for an
    in-memory cache, which a second connection would not see (the caller computes them then)."""
    copy = store.reading_copy()  # opened in this thread: a SQLite connection stays in its own
    if copy is None:
        return None
    try:
        r = Reader(copy)
        return cards.membership(r, w, tiers), activity.cohorts(r, w)
    finally:
        copy.close()


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


__all__: Sequence[str] = ("ProgramInfo", "compute", "parse_value", "program_info", "program_report")
