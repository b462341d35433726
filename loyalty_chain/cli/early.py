"""``loyalty-chain perk early``: a perk opens early for holders of a collection or members of a tier."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .context import Context, command_options, iso_time, parse_time, pass_ctx

if TYPE_CHECKING:
    from ..mechanics.early_access import EarlyAccess


def _data(access: EarlyAccess) -> dict[str, Any]:
    return {
        "perk_id": access.perk_id,
        "early_start": access.early_start,
        "early_start_utc": iso_time(access.early_start) if access.enabled else None,
        "collection": access.collection,
        "collection_kind": access.kind.name.lower(),
        "min_tier": access.min_tier,
    }


@click.command("early")
@click.argument("program")
@click.argument("perk_id", type=click.IntRange(min=1))
@click.option("--from", "early_from", help="ISO date/time (UTC) or unix seconds the early window opens.")
@click.option("--holders", help="Address of the ERC-721 collection whose holders get in early.")
@click.option(
    "--card", "card_collection", is_flag=True, help="The collection is a loyalty_chain membership card "
    "(last season's): a card on hold after a transfer does not count."
)  # fmt: skip
@click.option("--min-tier", help="Members of this tier (name or index) or above get in early.")
@click.option("--clear", is_flag=True, help="Remove the perk's early access.")
@command_options
@pass_ctx
def perk_early(
    ctx: Context,
    program: str,
    perk_id: int,
    early_from: str | None,
    holders: str | None,
    card_collection: bool,
    min_tier: str | None,
    clear: bool,
) -> None:
    """Show, set (--from with --holders and/or --min-tier) or --clear PERK_ID's early access.

    Holding is checked live at each redemption: no snapshot."""
    from ..errors import InputError
    from ..mechanics.early_access import clear_early_access, read_early_access, set_early_access

    setting = early_from is not None or holders is not None or min_tier is not None or card_collection
    if clear and setting:
        raise InputError("--clear takes no other option; run it alone")
    if setting and early_from is None:
        raise InputError("setting early access needs --from (when the early window opens)")
    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        tx_hash = None
        if clear:
            tx_hash = clear_early_access(client, perk_id).tx_hash
        elif early_from is not None:
            start = parse_time(early_from, "--from")
            result = set_early_access(
                client, perk_id, start, collection=holders, card_collection=card_collection, min_tier=min_tier
            )
            tx_hash = result.tx_hash
        access = read_early_access(client, perk_id)
    data = {**_data(access), "tx_hash": tx_hash}

    def human() -> None:
        if not access.enabled:
            click.echo(f"perk {perk_id}: no early access (everyone waits for its start)")
            return
        routes = []
        if access.collection:
            routes.append(f"holders of {access.collection} ({access.kind.name.lower()})")
        if access.min_tier:
            routes.append(f"members of {access.min_tier} or above")
        click.echo(f"perk {perk_id}: open from {iso_time(access.early_start)} to " + " and ".join(routes))

    ctx.emit(data, human)


COMMANDS = (perk_early,)
"""Added to the ``perk`` group (see cli._register_commands)."""
