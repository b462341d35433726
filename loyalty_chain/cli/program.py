"""``loyalty-chain deploy`` and ``loyalty-chain report``: a program as a whole."""

from __future__ import annotations

from pathlib import Path

import click

from .context import Context, command_options, parse_points, parse_time, pass_ctx


@click.command()
@click.argument("program")
@click.option(
    "--display-name", default="", help="Token name wallets show, e.g. 'Bean There Rewards' (default PROGRAM)."
)
@click.option("--symbol", default="PTS", show_default=True)
@click.option("--decimals", type=int, default=0, show_default=True, help="Loyalty points are usually whole.")
@click.option("--tiers", default="Bronze,Silver,Gold", show_default=True, help="Ordered, lowest first.")
@click.option(
    "--transfer-policy", type=click.Choice(["open", "locked", "allowlist"]), default="open", show_default=True
)
@click.option("--soulbound", is_flag=True, help="Cards cannot be transferred (ERC-5192).")
@click.option("--cap", default="0", help="Maximum supply in points; 0 = no cap.")
@click.option(
    "--expiry-epoch",
    help="Points expire (ERC-7818): epoch length, e.g. 30d, 12h, 3600 (seconds) or 1000blocks.",
)
@click.option("--validity", type=int, help="With --expiry-epoch: epochs a point stays usable (e.g. 4).")
@command_options
@pass_ctx
def deploy(
    ctx: Context,
    program: str,
    display_name: str,
    symbol: str,
    decimals: int,
    tiers: str,
    transfer_policy: str,
    soulbound: bool,
    cap: str,
    expiry_epoch: str | None,
    validity: int | None,
) -> None:
    """Deploy a program (points, cards, catalog, airdrop) and record it in deployments/.

    With --expiry-epoch and --validity its points expire: points issued in an epoch are usable for
    VALIDITY epochs (that one included), spent oldest first everywhere.
    """
    from ..errors import InputError
    from ..expiry import ExpiryTerms
    from ..program import ProgramOptions, TransferPolicy, deploy_program

    if (expiry_epoch is None) != (validity is None):
        raise InputError(
            "--validity needs --expiry-epoch and the other way round: e.g. --expiry-epoch 30d --validity 4"
        )
    expiry = ExpiryTerms.parse(expiry_epoch, validity) if expiry_epoch and validity is not None else None

    options = ProgramOptions(
        name=program,
        display_name=display_name,
        symbol=symbol,
        decimals=decimals,
        tiers=tuple(t.strip() for t in tiers.split(",")),
        transfer_policy=TransferPolicy.parse(transfer_policy),
        soulbound=soulbound,
        cap=0 if cap.strip() == "0" else parse_points(cap, decimals, "--cap"),
        expiry=expiry,
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
        }
        | ({"expiry": record.options["expiry"]} if expiry else {}),
        "\n".join(
            [f"{name:20} {addr}" for name, addr in record.addresses.items()]
            + ([f"points {expiry.describe()} (ExpiringPoints)"] if expiry else [])
            + [f"recorded in {record.path}"]
        ),
    )


@click.command()
@click.argument("program")
@click.option("--since", help="Start of the range: ISO date/time (UTC unless given) or unix seconds.")
@click.option("--until", help="End of the range (inclusive; a date alone means the end of that day, UTC).")
@click.option(
    "--csv", "csv_dir", type=click.Path(file_okay=False, path_type=Path), help="Write CSV files here."
)
@click.option(
    "--html", "html_file", type=click.Path(dir_okay=False, path_type=Path), help="Write the dashboard."
)
@click.option(
    "--value-per-point", default="0", show_default=True, help="Currency per point, for the liability."
)
@click.option("--cache", type=click.Path(dir_okay=False, path_type=Path), help="Index cache (default beside "
              "the deployment record: deployments/<chain-id>/PROGRAM.index.sqlite).")  # fmt: skip
@command_options
@pass_ctx
def report(
    ctx: Context,
    program: str,
    since: str | None,
    until: str | None,
    csv_dir: Path | None,
    html_file: Path | None,
    value_per_point: str,
    cache: Path | None,
) -> None:
    """KPIs of PROGRAM for a date range, from its events (indexed incrementally into a local cache).

    Members and point holders, active wallets, points issued by reason, redeemed, outstanding and
    liability, redemption rate, cohorts, tiers, campaigns, perks, P2P transfers, top earners.
    """
    from ..program import load_program
    from ..reports import program_report
    from ..reports.dashboard import write_html
    from ..reports.export import print_table, write_csv_dir

    start = parse_time(since, "--since") if since else None
    end = parse_time(until, "--until", end_of_day=True) if until else None
    with ctx.chain() as chain:
        record = load_program(chain, program)
        result = program_report(
            chain, record, since=start, until=end, value_per_point=value_per_point, cache=cache
        )
    written = [str(p) for p in write_csv_dir(result, csv_dir)] if csv_dir else []
    if html_file:
        written.append(str(write_html(result, html_file)))

    def human() -> None:
        print_table(result)
        for path in written:
            click.echo(f"wrote {path}")

    ctx.emit(result.to_json() | ({"written": written} if written else {}), human)


COMMANDS = (deploy, report)
