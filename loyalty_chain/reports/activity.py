"""Activity over time: monthly retention cohorts and the per-period series the dashboard charts."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from . import rollups
from .model import Cohort, Series
from .points import DAY, ISSUED, REDEEMED
from .query import Reader, Window, as_int, t, text32

MAX_COHORT_MONTHS = 12
"""Months after joining that a cohort's retention is shown for."""

DAILY_UP_TO_DAYS = 62
"""A range up to this long is charted per day, a longer one per month."""

_FORMATS = {"day": "%Y-%m-%d", "month": "%Y-%m"}


def _month_index(label: str) -> int:
    year, month = label.split("-")[:2]
    return int(year) * 12 + int(month) - 1


def cohorts(r: Reader, w: Window) -> list[Cohort]:
    """Wallets grouped by the month of their first activity (earn, redemption or transfer); for each
    cohort that starts in the range, the share active 1…N months later, up to the range's end (read
    from the indexer's ``cohort_sizes`` when the range ends where the cache does)."""
    first_in_range = _month_index(_label(w.since, "month"))
    last = _month_index(_label(w.until, "month"))
    if w.to_end:
        sizes: dict[int, dict[int, int]] = defaultdict(dict)
        for start, n, count in r.conn.execute(
            "SELECT start, n, wallets FROM cohort_sizes WHERE start >= ? ORDER BY start, n", (first_in_range,)
        ):
            sizes[int(start)][int(n)] = int(count)
        return [
            Cohort(
                f"{start // 12:04d}-{start % 12 + 1:02d}",
                row[0],
                tuple(
                    round(row.get(n, 0) / row[0], 4)
                    for n in range(1, min(MAX_COHORT_MONTHS, last - start) + 1)
                ),
            )
            for start, row in sorted(sizes.items())
        ]
    months: dict[str, set[int]] = defaultdict(set)
    pairs, params = rollups.wallet_days(r, 0, w.last_block)
    for who, month in r.conn.execute(
        f"""SELECT wallet, strftime('%Y-%m', day * {DAY}, 'unixepoch') AS m FROM ({pairs})
            GROUP BY wallet, m""",
        params,
    ):
        months[who].add(_month_index(month))
    members: dict[int, list[set[int]]] = defaultdict(list)
    for active in months.values():
        start = min(active)
        if start >= first_in_range:
            members[start].append(active)
    out = []
    for start in sorted(members):
        wallets = members[start]
        span = min(MAX_COHORT_MONTHS, last - start)
        shares = tuple(
            round(sum(1 for a in wallets if start + n in a) / len(wallets), 4) for n in range(1, span + 1)
        )
        out.append(Cohort(f"{start // 12:04d}-{start % 12 + 1:02d}", len(wallets), shares))
    return out


def series(r: Reader, w: Window, distributor: str) -> Series:
    """Points issued by reason, redeemed and active wallets per day (short ranges) or month."""
    period = "day" if w.until - w.since <= DAILY_UP_TO_DAYS * DAY else "month"
    fmt = _FORMATS[period]
    bounds = (w.first_block, w.last_block)
    labels = _labels(w.since, w.until, period)
    position = {label: i for i, label in enumerate(labels)}
    issued: dict[str, list[int]] = {}
    rows = r.rows(
        f"""SELECT strftime('{fmt}', i.ts, 'unixepoch'), COALESCE(cc.reason, i.reason), SUM(i.total)
            FROM {t(ISSUED)} i
            LEFT JOIN {t("AirdropDistributor_Claimed")} c
              ON i.issuer = ? AND c.block = i.block AND c.log_index = i.log_index - 2
            LEFT JOIN {t("AirdropDistributor_CampaignCreated")} cc ON cc.campaignId = c.campaignId
            WHERE i.block BETWEEN ? AND ? GROUP BY 1, 2""",
        (distributor.lower(), *bounds),
        sums=[f"{ISSUED}.total"],
    )
    for label, reason, total in rows:
        if label in position:
            name = text32(reason) or "(none)"
            issued.setdefault(name, [0] * len(labels))[position[label]] += as_int(total)
    redeemed = [0] * len(labels)
    for label, total in r.rows(
        f"""SELECT strftime('{fmt}', ts, 'unixepoch'), SUM(pointsBurned) FROM {t(REDEEMED)}
            WHERE block BETWEEN ? AND ? GROUP BY 1""",
        bounds,
        sums=[f"{REDEEMED}.pointsBurned"],
    ):
        if label in position:
            redeemed[position[label]] = as_int(total)
    active = [0] * len(labels)
    for label, count in _active(r, w, fmt, period):
        if label in position:
            active[position[label]] = int(count)
    return Series(
        period, tuple(labels), {k: tuple(v) for k, v in issued.items()}, tuple(redeemed), tuple(active)
    )


def _active(r: Reader, w: Window, fmt: str, period: str) -> list[tuple[str, int]]:
    """(period's label, wallets active in it) for the range's periods. A range that holds the whole
    cache reads the roll-ups' counts: a day's rows of ``wallet_days`` are its wallets, a month's
    wallets are the ``cohort_sizes`` of the cohorts active in it."""
    if w.from_start and w.to_end:
        if period == "day":
            sql = (
                f"SELECT strftime('{fmt}', day * {DAY}, 'unixepoch'), COUNT(*) FROM wallet_days GROUP BY day"
            )
            return [(str(p), int(n)) for p, n in r.conn.execute(sql)]
        rows = r.conn.execute("SELECT start + n AS m, SUM(wallets) FROM cohort_sizes GROUP BY m")
        return [(f"{int(m) // 12:04d}-{int(m) % 12 + 1:02d}", int(n)) for m, n in rows]
    pairs, params = rollups.wallet_days(r, w.first_block, w.last_block)
    rows = r.conn.execute(
        f"""SELECT strftime('{fmt}', day * {DAY}, 'unixepoch') AS p, COUNT(DISTINCT wallet) FROM ({pairs})
            GROUP BY p""",
        params,
    )
    return [(str(p), int(n)) for p, n in rows]


def _label(ts: int, period: str) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime(_FORMATS[period])


MAX_PERIODS = 400
"""Most points a chart's axis gets (a range of decades per month stays bounded)."""


def _labels(since: int, until: int, period: str) -> list[str]:
    """Every day or month from ``since`` to ``until``, as the chart's x axis."""
    if until < since:
        return []
    if period == "day":
        first, last = since // DAY, until // DAY
        days = range(max(first, last - MAX_PERIODS + 1), last + 1)
        return [datetime.fromtimestamp(d * DAY, UTC).strftime("%Y-%m-%d") for d in days]
    first_m, last_m = _month_index(_label(since, "month")), _month_index(_label(until, "month"))
    months = range(max(first_m, last_m - MAX_PERIODS + 1), last_m + 1)
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in months]
