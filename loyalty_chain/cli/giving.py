"""``loyalty-chain giving enable | add | list | donate | close``: charities and donations of points."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import click

from .context import Context, command_options, parse_points, pass_ctx

if TYPE_CHECKING:
    from ..mechanics.giving import Charity


@click.group()
def giving() -> None:
    """Charities of a program; members donate points to them."""


def _charity_data(charity: Charity, decimals: int) -> dict[str, Any]:
    return {
        "charity_id": charity.charity_id,
        "name": charity.name,
        "wallet": charity.wallet,
        "active": charity.active,
        "donated": charity.donated,
        "donated_points": str(Decimal(charity.donated).scaleb(-decimals)),
    }


@giving.command("enable")
@click.argument("program")
@command_options
@pass_ctx
def giving_enable(ctx: Context, program: str) -> None:
    """Deploy PROGRAM's charity registry and let it burn donated points (the program's admin, once)."""
    from ..mechanics.giving import Giving

    with ctx.chain() as chain:
        registry = Giving.enable(ctx.client(chain, program))
    ctx.emit(
        {"program": program, "charity_registry": registry.address},
        f"giving enabled for {program}: charity registry at {registry.address}",
    )


@giving.command("add")
@click.argument("program")
@click.argument("wallet")
@click.argument("name")
@command_options
@pass_ctx
def giving_add(ctx: Context, program: str, wallet: str, name: str) -> None:
    """Register charity NAME (≤ 32 bytes), paid to WALLET, in PROGRAM (charity manager)."""
    from ..mechanics.giving import Giving

    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        charity = Giving(client).add_charity(wallet, name)
        decimals = client.decimals()
    ctx.emit(_charity_data(charity, decimals), f"charity #{charity.charity_id} {charity.name} added")


@giving.command("list")
@click.argument("program")
@command_options
@pass_ctx
def giving_list(ctx: Context, program: str) -> None:
    """Every charity of PROGRAM with the points donated to it."""
    from ..mechanics.giving import Giving

    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        charities = Giving(client).charities()
        decimals = client.decimals()
    rows = [_charity_data(c, decimals) for c in charities]

    def human() -> None:
        if not rows:
            click.echo(f"{program} has no charities yet (loyalty-chain giving add {program} WALLET NAME)")
        for row in rows:
            state = "open" if row["active"] else "closed"
            click.echo(
                f"#{row['charity_id']}  {row['name']}  {row['donated_points']} points  {state}  "
                f"{row['wallet']}"
            )

    ctx.emit({"program": program, "charities": rows}, human)


@giving.command("donate")
@click.argument("program")
@click.argument("charity")
@click.argument("amount")
@command_options
@pass_ctx
def giving_donate(ctx: Context, program: str, charity: str, amount: str) -> None:
    """Donate AMOUNT of the --account's points to CHARITY (its id or name); they are burned."""
    from ..mechanics.giving import Giving

    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        registry = Giving(client)
        chosen = registry.find(charity)
        donation = registry.donate(chosen.charity_id, parse_points(amount, client.decimals()))
    ctx.emit(
        {
            "member": donation.member,
            "charity_id": donation.charity_id,
            "charity": chosen.name,
            "amount": donation.amount,
            "charity_total": donation.charity_total,
            "tx_hash": donation.tx_hash,
            "gas_used": donation.gas_used,
        },
        f"donated {amount} points to {chosen.name} (its total: {donation.charity_total}) "
        f"in {donation.tx_hash}",
    )


@giving.command("close")
@click.argument("program")
@click.argument("charity")
@click.option("--reopen", is_flag=True, help="Accept donations again.")
@command_options
@pass_ctx
def giving_close(ctx: Context, program: str, charity: str, reopen: bool) -> None:
    """Stop (or, with --reopen, restart) donations to CHARITY (its id or name; charity manager)."""
    from ..mechanics.giving import Giving

    with ctx.chain() as chain:
        registry = Giving(ctx.client(chain, program))
        chosen = registry.find(charity)
        result = registry.set_active(chosen.charity_id, reopen)
    ctx.emit(
        {"charity_id": chosen.charity_id, "active": reopen, "tx_hash": result.tx_hash},
        f"{chosen.name} {'reopened' if reopen else 'closed'} to donations",
    )


COMMANDS = (giving,)
