"""``loyalty-chain perk early`` and ``loyalty-chain merkle early``: a perk, or a Merkle campaign's claims,
open early for holders of a collection or members of a tier. One command shape, built for each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from .context import Context, command_options, iso_time, parse_time, pass_ctx


@dataclass(frozen=True)
class _Target:
    """What differs between the perk's command and the campaign's."""

    noun: str
    """``perk`` or ``campaign``: the id's name (``perk_id``), the JSON key and the human lines."""
    opens: str
    """What the window opens, in the human line: ``open`` or ``claims open``."""
    waits: str
    """The human line when there is no early access."""
    holders_help: str
    tier_help: str
    clear_help: str
    checked_at: str
    """Where holding is checked live, for the command's help."""


PERK = _Target(
    "perk", "open", "everyone waits for its start",
    holders_help="Address of the ERC-721 collection whose holders get in early.",
    tier_help="Members of this tier (name or index) or above get in early.",
    clear_help="Remove the perk's early access.",
    checked_at="at each redemption: no snapshot.",
)  # fmt: skip
CAMPAIGN = _Target(
    "campaign", "claims open", "every claim waits for its start",
    holders_help="Address of the ERC-721 collection whose holders claim early.",
    tier_help="Accounts whose card of PROGRAM is of this tier or above claim early.",
    clear_help="Remove the campaign's early access.",
    checked_at="at each claim: no snapshot; everyone claims from the campaign's start.",
)  # fmt: skip


def _early_command(target: _Target) -> click.Command:
    id_name = f"{target.noun.upper()}_ID"

    @click.command("early", help=f"""Show, set (--from with --holders and/or --min-tier) or --clear
        {id_name}'s early access.

        Holding is checked live {target.checked_at}""")  # fmt: skip
    @click.argument("program")
    @click.argument("item_id", metavar=id_name, type=click.IntRange(min=1))
    @click.option("--from", "early_from", help="ISO date/time (UTC) or unix seconds the early window opens.")
    @click.option("--holders", help=target.holders_help)
    @click.option(
        "--card", "card_collection", is_flag=True, help="The collection is a loyalty_chain membership card "
        "(last season's): a card on hold after a transfer does not count."
    )  # fmt: skip
    @click.option("--min-tier", help=target.tier_help)
    @click.option("--clear", is_flag=True, help=target.clear_help)
    @command_options
    @pass_ctx
    def early(
        ctx: Context,
        program: str,
        item_id: int,
        early_from: str | None,
        holders: str | None,
        card_collection: bool,
        min_tier: str | None,
        clear: bool,
    ) -> None:
        from ..errors import InputError
        from ..mechanics import early_access as mechanics

        setting = early_from is not None or holders is not None or min_tier is not None or card_collection
        if clear and setting:
            raise InputError("--clear takes no other option; run it alone")
        if setting and early_from is None:
            raise InputError("setting early access needs --from (when the early window opens)")
        is_perk = target is PERK
        set_ = mechanics.set_early_access if is_perk else mechanics.set_campaign_early_access
        clear_ = mechanics.clear_early_access if is_perk else mechanics.clear_campaign_early_access
        read = mechanics.read_early_access if is_perk else mechanics.read_campaign_early_access
        with ctx.chain() as chain:
            client = ctx.client(chain, program)
            tx_hash = None
            if clear:
                tx_hash = clear_(client, item_id).tx_hash
            elif early_from is not None:
                start = parse_time(early_from, "--from")
                result = set_(
                    client,
                    item_id,
                    start,
                    collection=holders,
                    card_collection=card_collection,
                    min_tier=min_tier,
                )
                tx_hash = result.tx_hash
            access = read(client, item_id)
        data: dict[str, Any] = {
            f"{target.noun}_id": item_id,
            "early_start": access.early_start,
            "early_start_utc": iso_time(access.early_start) if access.enabled else None,
            "collection": access.collection,
            "collection_kind": access.kind.name.lower(),
            "min_tier": access.min_tier,
            "tx_hash": tx_hash,
        }

        def human() -> None:
            if not access.enabled:
                click.echo(f"{target.noun} {item_id}: no early access ({target.waits})")
                return
            routes = []
            if access.collection:
                routes.append(f"holders of {access.collection} ({access.kind.name.lower()})")
            if access.min_tier:
                routes.append(f"members of {access.min_tier} or above")
            opened = f"{target.noun} {item_id}: {target.opens} from {iso_time(access.early_start)} to "
            click.echo(opened + " and ".join(routes))

        ctx.emit(data, human)

    return early


perk_early = _early_command(PERK)
"""Added to the ``perk`` group (see cli._register_commands)."""
merkle_early = _early_command(CAMPAIGN)
"""Added to the ``merkle`` group (see cli._register_commands)."""
