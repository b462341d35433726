"""``loyalty-chain tiers enable | show | thresholds | reason | disable``: tiers that follow activity.

The member's side is in ``member progress`` (and ``member show``); the period boundary's review in
``member review``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..errors import InputError
from .context import Context, command_options, pass_ctx

if TYPE_CHECKING:
    from ..mechanics.tiers import TierRules


@click.group()
def tiers() -> None:
    """Tiers that follow activity: thresholds on qualifying points over a period."""


def parse_thresholds(items: tuple[str, ...]) -> dict[str, int]:
    """``("Silver=1000", "Gold=5000")`` → ``{"Silver": 1000, "Gold": 5000}`` (whole points)."""
    out: dict[str, int] = {}
    for item in items:
        tier, sep, points = item.partition("=")
        if not sep or not tier.strip() or not points.strip().replace("_", "").isdigit():
            raise InputError(f"--threshold {item!r} must be TIER=POINTS in whole points, e.g. Gold=5000")
        out[tier.strip()] = int(points.strip().replace("_", ""))
    if not out:
        raise InputError("give at least one --threshold TIER=POINTS (e.g. --threshold Silver=1000)")
    return out


def rules_data(rules: TierRules, tier_names: tuple[str, ...]) -> dict[str, Any]:
    return {
        "enabled": rules.enabled,
        "card": rules.card,
        "period": {"kind": rules.period.kind.name.lower(), "length": rules.period.length},
        "period_text": rules.period.describe(),
        "thresholds": {tier_names[i + 1]: t for i, t in enumerate(rules.thresholds)},
        "reasons": list(rules.reasons),
    }


def _rules_line(data: dict[str, Any]) -> str:
    if not data["enabled"]:
        return "tiers do not follow activity (loyalty-chain tiers enable PROGRAM --threshold TIER=POINTS …)"
    thresholds = ", ".join(f"{tier} at {points:,}" for tier, points in data["thresholds"].items())
    return f"{thresholds} points per {data['period_text']}, counting {', '.join(data['reasons'])}"


@tiers.command("enable")
@click.argument("program")
@click.option(
    "--threshold",
    "thresholds",
    multiple=True,
    help="TIER=POINTS (whole points); one per tier above the base.",
)
@click.option("--period", default="year", show_default=True,
              help="year, half-year, quarter, month, calendar:N (months) or rolling:365d.")  # fmt: skip
@click.option("--reason", "reasons", multiple=True, default=("purchase",), show_default=True,
              help="An issue reason whose points count (repeat for more; at most 8).")  # fmt: skip
@command_options
@pass_ctx
def tiers_enable(
    ctx: Context, program: str, thresholds: tuple[str, ...], period: str, reasons: tuple[str, ...]
) -> None:
    """Make PROGRAM's card tiers follow activity (its admin; also grants the token its role on the card)."""
    from ..mechanics.tiers import TierPeriod, Tiers

    chosen = parse_thresholds(thresholds)
    schedule = TierPeriod.parse(period)
    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        result = Tiers(client).enable(chosen, schedule, list(reasons))
        data = rules_data(Tiers(client).rules(), client.tiers())
    ctx.emit({**data, "tx_hash": result.tx_hash}, f"tiers follow activity in {program}: {_rules_line(data)}")


@tiers.command("show")
@click.argument("program")
@command_options
@pass_ctx
def tiers_show(ctx: Context, program: str) -> None:
    """How PROGRAM's tiers follow activity."""
    from ..mechanics.tiers import Tiers

    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        data = rules_data(Tiers(client).rules(), client.tiers())
    ctx.emit({"program": program, **data}, f"{program}: {_rules_line(data)}")


@tiers.command("thresholds")
@click.argument("program")
@click.option(
    "--threshold",
    "thresholds",
    multiple=True,
    help="TIER=POINTS (whole points); one per tier above the base.",
)
@command_options
@pass_ctx
def tiers_thresholds(ctx: Context, program: str, thresholds: tuple[str, ...]) -> None:
    """Change PROGRAM's thresholds: upgrades use them at once, downgrades at the next period boundary."""
    from ..mechanics.tiers import Tiers

    chosen = parse_thresholds(thresholds)
    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        result = Tiers(client).set_thresholds(chosen)
        data = rules_data(Tiers(client).rules(), client.tiers())
    ctx.emit({**data, "tx_hash": result.tx_hash}, f"{program}: {_rules_line(data)}")


@tiers.command("reason")
@click.argument("program")
@click.argument("reason")
@click.option("--remove", is_flag=True, help="Stop counting REASON (points already counted stay).")
@command_options
@pass_ctx
def tiers_reason(ctx: Context, program: str, reason: str, remove: bool) -> None:
    """Make points issued for REASON count towards PROGRAM's tiers (or, with --remove, stop counting)."""
    from ..mechanics.tiers import Tiers

    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        result = Tiers(client).set_reason(reason, not remove)
        data = rules_data(Tiers(client).rules(), client.tiers())
    ctx.emit({**data, "tx_hash": result.tx_hash}, f"{program}: {_rules_line(data)}")


@tiers.command("disable")
@click.argument("program")
@command_options
@pass_ctx
def tiers_disable(ctx: Context, program: str) -> None:
    """Stop PROGRAM's tiers following activity (cards keep their tiers)."""
    from ..mechanics.tiers import Tiers

    with ctx.chain() as chain:
        result = Tiers(ctx.client(chain, program)).disable()
    ctx.emit(
        {"program": program, "enabled": False, "tx_hash": result.tx_hash},
        f"{program}: tiers set by hand only",
    )


COMMANDS = (tiers,)
