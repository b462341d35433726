"""``loyalty-chain deploy`` and ``loyalty-chain report``: a program as a whole."""

from __future__ import annotations

import click

from .cli_context import Context, command_options, parse_points, pass_ctx, print_summary, summary_data


@click.command()
@click.argument("program")
@click.option("--symbol", default="PTS", show_default=True)
@click.option("--decimals", type=int, default=0, show_default=True, help="Loyalty points are usually whole.")
@click.option("--tiers", default="Bronze,Silver,Gold", show_default=True, help="Ordered, lowest first.")
@click.option(
    "--transfer-policy", type=click.Choice(["open", "locked", "allowlist"]), default="open", show_default=True
)
@click.option("--soulbound", is_flag=True, help="Cards cannot be transferred (ERC-5192).")
@click.option("--cap", default="0", help="Maximum supply in points; 0 = no cap.")
@command_options
@pass_ctx
def deploy(
    ctx: Context,
    program: str,
    symbol: str,
    decimals: int,
    tiers: str,
    transfer_policy: str,
    soulbound: bool,
    cap: str,
) -> None:
    """Deploy a program (points, cards, catalog, airdrop) and record it in deployments/."""
    from .program import ProgramOptions, TransferPolicy, deploy_program

    options = ProgramOptions(
        name=program,
        symbol=symbol,
        decimals=decimals,
        tiers=tuple(t.strip() for t in tiers.split(",")),
        transfer_policy=TransferPolicy.parse(transfer_policy),
        soulbound=soulbound,
        cap=0 if cap.strip() == "0" else parse_points(cap, decimals, "--cap"),
    )
    options.validate()
    with ctx.chain() as chain:
        record = deploy_program(chain, options, ctx.signer(chain))
    ctx.emit(
        {
            "program": record.name,
            "chain_id": record.chain_id,
            "addresses": record.addresses,
            "record": str(record.path),
        },
        "\n".join(
            [f"{name:20} {addr}" for name, addr in record.addresses.items()] + [f"recorded in {record.path}"]
        ),
    )


@click.command()
@click.argument("program")
@command_options
@pass_ctx
def report(ctx: Context, program: str) -> None:
    """Summarise PROGRAM from its events: members per tier, points, redemptions per perk."""
    from .analytics import summarize

    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        summary = summarize(client.events(), client.tiers(), client.points.address)
        titles = {p.perk_id: p.spec.title for p in client.perks()}
    data = {"program": program, **summary_data(summary, titles)}

    def human() -> None:
        print_summary(program, summary, titles)

    ctx.emit(data, human)


COMMANDS = (deploy, report)
