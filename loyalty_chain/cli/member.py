"""``loyalty-chain member enroll | show | progress | review | tier | renew | revoke``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import InputError
from .context import Context, command_options, iso_time, parse_time, pass_ctx

if TYPE_CHECKING:
    from ..client import LoyaltyClient
    from ..mechanics.tiers import TierProgress


@click.group()
def member() -> None:
    """Enrol members and show their cards."""


@member.command("enroll")
@click.argument("program")
@click.argument("address", required=False)
@click.option("--tier", default="0", show_default=True, help="Tier name or index.")
@click.option("--valid-until", help="Expiry as an ISO date; default never.")
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Enrol every row of an address,tier CSV, many per transaction (as `airdrop cards`).",
)
@command_options
@pass_ctx
def member_enroll(
    ctx: Context, program: str, address: str | None, tier: str, valid_until: str | None, csv_file: Path | None
) -> None:
    """Give ADDRESS a membership card, or every member of a CSV with --csv FILE.

    One command per member costs a command's start-up and a transaction each: for more than a
    few, --csv (or `airdrop cards`) packs many members per transaction and resumes if stopped.
    """
    if csv_file is not None:
        if address is not None:
            raise InputError("give either ADDRESS or --csv FILE, not both")
        from .airdrop import airdrop_cards_cmd

        click.get_current_context().invoke(
            airdrop_cards_cmd,
            program=program,
            csv_file=csv_file,
            valid_until=valid_until,
            batch_size=None,
            journal=None,
            results=None,
            dry_run=False,
        )
        return
    if address is None:
        raise InputError("give the ADDRESS to enrol, or --csv FILE (address,tier rows) to enrol many")
    until = parse_time(valid_until, "--valid-until") if valid_until else 0
    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        enrolment = client.enroll(address, tier, until)
        tier_name = client.tiers()[enrolment.tier]
    ctx.emit(
        {
            "member": enrolment.member,
            "token_id": str(enrolment.token_id),
            "tier": tier_name,
            "valid_until": until,
            "tx_hash": enrolment.tx.tx_hash,
        },
        f"enrolled {enrolment.member} at {tier_name} (card {enrolment.token_id})",
    )


def _progress_data(progress: TierProgress, decimals: int) -> dict[str, Any]:
    from decimal import Decimal

    def points(value: int) -> str:
        return str(Decimal(value).scaleb(-decimals))

    return {
        "qualifying_points": points(progress.qualifying),
        "tier": progress.tier_name,
        "card_tier": progress.card_tier_name,
        "next_tier": progress.next_tier_name,
        "points_needed": points(progress.points_needed),
        "period_ends": iso_time(progress.period_end) if progress.period_end else None,
    }


def _progress_line(data: dict[str, Any]) -> str:
    from decimal import Decimal

    ends = f"the period ends {data['period_ends']}" if data["period_ends"] else "no period yet"
    if data["tier"] == data["next_tier"]:
        ahead = "the top tier"
    else:
        ahead = f"{Decimal(data['points_needed']):,} more to {data['next_tier']}"
    counted = f"{data['qualifying_points']} qualifying points this period"
    return f"{counted}, {data['tier']} by activity, {ahead}; {ends}"


def _progress_or_none(client: LoyaltyClient, address: str) -> dict[str, Any] | None:
    """The member's tier progress when the program's tiers follow activity, else None."""
    from ..mechanics.tiers import Tiers

    tiers = Tiers(client)
    if not tiers.rules().enabled:
        return None
    return _progress_data(tiers.progress(address), client.decimals())


@member.command("show")
@click.argument("program")
@click.argument("address")
@command_options
@pass_ctx
def member_show(ctx: Context, program: str, address: str) -> None:
    """Show the card ADDRESS holds (with its points and next expiry when the program's points expire, its
    tier progress when tiers follow activity)."""
    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        card = client.card_of(address)
        points = client.balance(address) if client.expiry else None
        upcoming = client.next_expiry(address) if client.expiry else None
        progress = None if client.expiry else _progress_or_none(client, address)
    expiring: dict[str, object] = {}
    line = ""
    if points is not None:
        expiring = {
            "points": points,
            "next_expiry": upcoming and {"amount": upcoming.amount, "expires_at": upcoming.expires_at},
        }
        when = upcoming and (
            f"block {upcoming.expires_at}" if upcoming.in_blocks else iso_time(upcoming.expires_at)
        )
        line = f"; {points} points, next expiry: " + (f"{upcoming.amount} on {when}" if upcoming else "none")
    if card is None:
        ctx.emit({"address": address, "card": None} | expiring, f"{address} holds no card{line}")
        return
    data: dict[str, Any] = {
        "address": card.holder,
        "card": {
            "token_id": str(card.token_id),
            "tier": card.tier_name,
            "valid_until": card.valid_until,
            "active": card.active,
        },
    } | expiring
    line = (
        f"{card.holder}: {card.tier_name}, valid until {iso_time(card.valid_until)}, "
        f"{'active' if card.active else 'EXPIRED'} (card {card.token_id}){line}"
    )
    if progress is not None:
        data["progress"] = progress
        line += "\n  " + _progress_line(progress)
    ctx.emit(data, line)


@member.command("progress")
@click.argument("program")
@click.argument("address")
@command_options
@pass_ctx
def member_progress(ctx: Context, program: str, address: str) -> None:
    """ADDRESS's progress towards the next tier: qualifying points, tier, points needed, period end."""
    from ..mechanics.tiers import Tiers

    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        data = _progress_data(Tiers(client).progress(address), client.decimals())
    ctx.emit({"address": address, **data}, f"{address}: {_progress_line(data)}")


@member.command("review")
@click.argument("program")
@click.option("--batch-size", type=click.IntRange(1, 500), default=500, show_default=True,
              help="Members per transaction (under the gas cap even if every card moves).")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Only count the members whose period ended; send nothing.")
@command_options
@pass_ctx
def member_review(ctx: Context, program: str, batch_size: int, dry_run: bool) -> None:
    """Apply period boundaries to every member of PROGRAM: whoever earned less in the period that ended
    drops to the tier it earned. Anyone may run it; a second run in the same period sends nothing."""
    from ..mechanics.tiers import Tiers

    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        result = Tiers(client).review(batch_size=batch_size, dry_run=dry_run)
        names = client.tiers()
    changes = [{"member": m, "from": names[a], "to": names[b]} for m, a, b in result.changes]
    data = {
        "program": program,
        "checked": result.checked,
        "due": result.due,
        "changes": changes,
        "transactions": [tx.tx_hash for tx in result.transactions],
        "gas_used": result.gas_used,
        "dry_run": dry_run,
    }
    verb = "would review" if dry_run else "reviewed"
    moved = "".join(f"\n  {c['member']}: {c['from']} -> {c['to']}" for c in changes)
    ctx.emit(
        data,
        f"{verb} {result.due} of {result.checked} members whose period ended "
        f"({len(changes)} tiers changed, {len(result.transactions)} transactions){moved}",
    )


@member.command("tier")
@click.argument("program")
@click.argument("address")
@click.argument("tier")
@command_options
@pass_ctx
def member_tier(ctx: Context, program: str, address: str, tier: str) -> None:
    """Move ADDRESS's card to TIER (name or index)."""
    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        result = client.set_tier(address, tier)
        name = client.tiers()[client.tier_index(tier)]
    ctx.emit({"member": address, "tier": name, "tx_hash": result.tx_hash}, f"{address} is now {name}")


@member.command("renew")
@click.argument("program")
@click.argument("address")
@click.option("--valid-until", required=True, help="New expiry as an ISO date, or 'never'.")
@command_options
@pass_ctx
def member_renew(ctx: Context, program: str, address: str, valid_until: str) -> None:
    """Set when ADDRESS's card expires."""
    until = 0 if valid_until.strip().lower() == "never" else parse_time(valid_until, "--valid-until")
    with ctx.chain() as chain:
        result = ctx.client(chain, program).renew(address, until)
    ctx.emit(
        {"member": address, "valid_until": until, "tx_hash": result.tx_hash},
        f"{address}'s card is valid until {iso_time(until)}",
    )


@member.command("revoke")
@click.argument("program")
@click.argument("address")
@command_options
@pass_ctx
def member_revoke(ctx: Context, program: str, address: str) -> None:
    """Take ADDRESS's card away."""
    with ctx.chain() as chain:
        result = ctx.client(chain, program).revoke(address)
    ctx.emit({"member": address, "revoked": True, "tx_hash": result.tx_hash}, f"revoked {address}'s card")


COMMANDS = (member,)
