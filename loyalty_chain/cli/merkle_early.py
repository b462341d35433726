"""``loyalty-chain merkle early``: a Merkle campaign opens early for holders of a collection or a tier."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .context import Context, command_options, iso_time, parse_time, pass_ctx

if TYPE_CHECKING:
    from ..mechanics.early_access import CampaignEarlyAccess


def _data(access: CampaignEarlyAccess) -> dict[str, Any]:
    return {
        "campaign_id": access.campaign_id,
        "early_start": access.early_start,
        "early_start_utc": iso_time(access.early_start) if access.enabled else None,
        "collection": access.collection,
        "collection_kind": access.kind.name.lower(),
        "min_tier": access.min_tier,
    }


@click.command("early")
@click.argument("program")
@click.argument("campaign_id", type=click.IntRange(min=1))
@click.option("--from", "early_from", help="ISO date/time (UTC) or unix seconds the early window opens.")
@click.option("--holders", help="Address of the ERC-721 collection whose holders claim early.")
@click.option(
    "--card", "card_collection", is_flag=True, help="The collection is a loyalty_chain membership card "
    "(last season's): a card on hold after a transfer does not count."
)  # fmt: skip
@click.option("--min-tier", help="Accounts whose card of PROGRAM is of this tier or above claim early.")
@click.option("--clear", is_flag=True, help="Remove the campaign's early access.")
@command_options
@pass_ctx
def merkle_early(
    ctx: Context,
    program: str,
    campaign_id: int,
    early_from: str | None,
    holders: str | None,
    card_collection: bool,
    min_tier: str | None,
    clear: bool,
) -> None:
    """Show, set (--from with --holders and/or --min-tier) or --clear CAMPAIGN_ID's early access.

    Holding is checked live at each claim: no snapshot; everyone claims from the campaign's start."""
    from ..errors import InputError
    from ..mechanics.early_access import (
        clear_campaign_early_access,
        read_campaign_early_access,
        set_campaign_early_access,
    )

    setting = early_from is not None or holders is not None or min_tier is not None or card_collection
    if clear and setting:
        raise InputError("--clear takes no other option; run it alone")
    if setting and early_from is None:
        raise InputError("setting early access needs --from (when the early window opens)")
    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        tx_hash = None
        if clear:
            tx_hash = clear_campaign_early_access(client, campaign_id).tx_hash
        elif early_from is not None:
            start = parse_time(early_from, "--from")
            result = set_campaign_early_access(
                client,
                campaign_id,
                start,
                collection=holders,
                card_collection=card_collection,
                min_tier=min_tier,
            )
            tx_hash = result.tx_hash
        access = read_campaign_early_access(client, campaign_id)
    data = {**_data(access), "tx_hash": tx_hash}

    def human() -> None:
        if not access.enabled:
            click.echo(f"campaign {campaign_id}: no early access (every claim waits for its start)")
            return
        routes = []
        if access.collection:
            routes.append(f"holders of {access.collection} ({access.kind.name.lower()})")
        if access.min_tier:
            routes.append(f"members of {access.min_tier} or above")
        click.echo(
            f"campaign {campaign_id}: claims open from {iso_time(access.early_start)} to "
            + " and ".join(routes)
        )

    ctx.emit(data, human)


COMMANDS = (merkle_early,)
"""Added to the ``merkle`` group (see cli._register_commands)."""
