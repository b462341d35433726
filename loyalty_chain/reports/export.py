"""A report written out: JSON, a folder of CSV files, and the human table of the CLI."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..files import write_csv_atomic
from .model import ProgramReport

SUMMARY_FIELDS = (
    "members", "expired_cards", "point_holders", "active_30d", "active_90d", "new_members", "cards_ended",
    "issued", "redeemed", "redemptions", "burned_other", "expired", "outstanding", "value_per_point",
    "liability", "redemption_rate", "avg_days_earn_to_redeem", "p2p_transfers", "p2p_volume", "p2p_share",
    "velocity", "donated", "donations",
)  # fmt: skip
"""The single-number KPIs, in the order the table and ``summary.csv`` show them."""


def utc(seconds: int) -> str:
    """Unix seconds as an ISO date/time in UTC."""
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def to_json_text(report: ProgramReport) -> str:
    return json.dumps(report.to_json(), indent=2, default=str, ensure_ascii=False)


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    # reasons and titles come from the chain: every cell goes through csv_safe, and the file is
    # replaced atomically (a planted symlink at its name is replaced, never written through)
    return write_csv_atomic(path, header, rows)


def write_csv_dir(report: ProgramReport, folder: str | os.PathLike[str]) -> list[Path]:
    """One CSV per table of the report, in ``folder`` (created); returns the files written."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    data = report.to_json()
    s = report.series
    files = [
        _write(
            out / "summary.csv",
            ("metric", "value"),
            [
                ("program", report.program),
                ("since", report.since),
                ("until", report.until),
                ("decimals", report.decimals),
                *((k, data[k]) for k in SUMMARY_FIELDS),
            ],
        ),
        _write(out / "members_per_tier.csv", ("tier", "members"), report.members_per_tier.items()),
        _write(out / "tier_moves.csv", ("move", "count"), report.tier_moves.items()),
        _write(out / "issued_by_reason.csv", ("reason", "points"), report.issued_by_reason.items()),
        _write(
            out / "perks.csv",
            ("perk_id", "title", "redemptions", "units", "points", "members"),
            [(p.perk_id, p.title, p.redemptions, p.units, p.points, p.members) for p in report.perks],
        ),
        _write(
            out / "campaigns.csv",
            (
                "campaign_id",
                "kind",
                "reason",
                "start",
                "end",
                "closed_early",
                "claims",
                "claimed",
                "leaves",
                "total",
                "claim_rate",
            ),
            [
                (
                    c.campaign_id,
                    c.kind,
                    c.reason,
                    c.start,
                    c.end,
                    c.closed_early,
                    c.claims,
                    c.claimed,
                    c.leaves,
                    c.total,
                    c.claim_rate,
                )
                for c in report.campaigns
            ],
        ),
        _write(
            out / "cohorts.csv",
            ("month", "size", *(f"month_{n}" for n in range(1, 13))),
            [(c.month, c.size, *c.retention) for c in report.cohorts],
        ),
        _write(
            out / "series.csv",
            (s.period, *(f"issued_{k}" for k in s.issued_by_reason), "redeemed", "active"),
            [
                (label, *(v[i] for v in s.issued_by_reason.values()), s.redeemed[i], s.active[i])
                for i, label in enumerate(s.labels)
            ],
        ),
        _write(out / "top_earners.csv", ("address", "earned"), report.top_earners),
    ]
    return files


def print_table(report: ProgramReport) -> None:
    """The report as the tables a brand manager reads in a terminal."""
    from rich.console import Console
    from rich.table import Table

    def pts(amount: int) -> str:
        return f"{report.whole(amount):,}"

    def share(value: float | None) -> str:
        return "—" if value is None else f"{value:.1%}"

    console = Console()
    table = Table(title=f"{report.program}: {utc(report.since)} → {utc(report.until)}", show_header=False)
    table.add_row("members (card holders)", f"{report.members:,}")
    for tier, count in report.members_per_tier.items():
        table.add_row(f"  · {tier}", f"{count:,}")
    table.add_row("point holders", f"{report.point_holders:,}")
    table.add_row("active wallets 30 d / 90 d", f"{report.active_30d:,} / {report.active_90d:,}")
    table.add_row("new members · cards ended", f"{report.new_members:,} · {report.cards_ended:,}")
    table.add_row("points issued", pts(report.issued))
    for reason, total in report.issued_by_reason.items():
        table.add_row(f"  · {reason}", pts(total))
    table.add_row("points redeemed", f"{pts(report.redeemed)} in {report.redemptions:,} redemptions")
    table.add_row("redemption rate", share(report.redemption_rate))
    if report.burned_other:
        table.add_row("burned by holders", pts(report.burned_other))
    if report.donations:
        table.add_row("donated to charities", f"{pts(report.donated)} in {report.donations:,} donations")
        for name, total in report.donated_per_charity.items():
            table.add_row(f"  · {name}", pts(total))
    table.add_row("expired (breakage)", pts(report.expired))
    table.add_row("points outstanding", pts(report.outstanding))
    if report.value_per_point not in ("0", "0.0"):
        table.add_row(f"liability at {report.value_per_point}/point", report.liability)
    days = report.avg_days_earn_to_redeem
    table.add_row("avg days first earn → redeem", "—" if days is None else f"{days:,.1f}")
    table.add_row("P2P transfers", f"{report.p2p_transfers:,} ({pts(report.p2p_volume)} points)")
    table.add_row("P2P share · velocity", f"{share(report.p2p_share)} · {share(report.velocity)}")
    for move, count in report.tier_moves.items():
        table.add_row(f"tier move {move}", f"{count:,}")
    for p in report.perks:
        table.add_row(f"redemptions · {p.title}", f"{p.redemptions:,}")
    for c in report.campaigns:
        rate = f" of {c.leaves:,} ({share(c.claim_rate)})" if c.leaves else ""
        table.add_row(f"campaign {c.campaign_id} · {c.reason or c.kind}", f"{c.claims:,} claims{rate}")
    console.print(table)
    for note in report.notes:
        console.print(f"note: {note}")
