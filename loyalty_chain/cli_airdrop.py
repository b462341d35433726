"""``loyalty-chain airdrop points|cards`` (push) and ``loyalty-chain merkle build|publish|proof|claim``.

Each command is a few lines over :mod:`loyalty_chain.airdrop` and :mod:`loyalty_chain.campaign`.
A bad CSV is reported row by row (every line number and reason) and nothing is sent; a push airdrop
that stops for any reason is resumed by running the same command again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from .cli_context import Context, command_options, pass_ctx

if TYPE_CHECKING:
    from .airdrop import AirdropOptions, AirdropPlan, AirdropReport
    from .airdrop.plan import Kind
    from .errors import CsvValidationError

F = TypeVar("F", bound=Callable[..., Any])


def _push_options(f: F) -> F:
    f = click.option("--dry-run", is_flag=True, help="Show the batches, total gas and cost; send nothing.")(f)
    f = click.option(
        "--results",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Per-recipient results CSV (default FILE.results.csv beside the CSV).",
    )(f)
    f = click.option(
        "--journal",
        type=click.Path(dir_okay=False, path_type=Path),
        help="SQLite journal that makes a rerun resume (default FILE.journal.sqlite beside the CSV).",
    )(f)
    f = click.option(
        "--batch-size",
        type=click.IntRange(min=1),
        help="At most this many recipients per transaction (default: as many as fit by gas).",
    )(f)
    return f


@click.group("airdrop")
def airdrop_group() -> None:
    """Push airdrops: pay every row of a CSV in gas-sized batches; rerun to resume."""


@airdrop_group.command("points")
@click.argument("program")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reason", default="", help="Reason of rows without one (≤ 32 bytes of UTF-8).")
@click.option("--no-merge", is_flag=True, help="Refuse duplicate addresses instead of summing their amounts.")
@_push_options
@command_options
@pass_ctx
def airdrop_points_cmd(
    ctx: Context,
    program: str,
    csv_file: Path,
    reason: str,
    no_merge: bool,
    batch_size: int | None,
    journal: Path | None,
    results: Path | None,
    dry_run: bool,
) -> None:
    """Issue the points of CSV_FILE (address,amount[,reason]; amounts in whole points)."""
    from .airdrop import AirdropOptions

    options = AirdropOptions(
        journal=journal, results=results, batch_size=batch_size, reason=reason, merge=not no_merge
    )
    _push(ctx, "points", program, csv_file, options, dry_run)


@airdrop_group.command("cards")
@click.argument("program")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--valid-until", help="Expiry of every card: ISO date or unix seconds (default never).")
@_push_options
@command_options
@pass_ctx
def airdrop_cards_cmd(
    ctx: Context,
    program: str,
    csv_file: Path,
    valid_until: str | None,
    batch_size: int | None,
    journal: Path | None,
    results: Path | None,
    dry_run: bool,
) -> None:
    """Give a membership card to every row of CSV_FILE (address,tier; tier by name or index).

    Recipients who already hold a card are reported as skipped ("already a member").
    """
    from .airdrop import AirdropOptions
    from .cli_program import parse_time

    until = parse_time(valid_until, "--valid-until") if valid_until else 0
    options = AirdropOptions(journal=journal, results=results, batch_size=batch_size, valid_until=until)
    _push(ctx, "cards", program, csv_file, options, dry_run)


def _push(
    ctx: Context, kind: Kind, program: str, csv_file: Path, options: AirdropOptions, dry_run: bool
) -> None:
    from .airdrop import plan_airdrop, run_airdrop
    from .errors import CsvValidationError

    try:
        with ctx.chain() as chain:
            account = ctx.signer(chain)
            if dry_run:
                _show_plan(ctx, plan_airdrop(chain, program, kind, csv_file, account, options))
                return
            with _progress(ctx) as on_progress:
                report = run_airdrop(
                    chain, program, kind, csv_file, account, options, on_progress=on_progress
                )
    except CsvValidationError as exc:
        _show_csv_problems(ctx, exc)
    except KeyboardInterrupt:
        click.echo(
            "interrupted: every batch is in the journal; run the same command again to resume", err=True
        )
        raise
    _show_report(ctx, report)
    if not report.complete:
        raise SystemExit(1)


@contextlib.contextmanager
def _progress(ctx: Context) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr, shown from the first report of progress (none with --json)."""
    if ctx.as_json:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("airdrop"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with contextlib.ExitStack() as stack:
        bar: list[tuple[Progress, Any]] = []

        def update(done: int, total: int) -> None:
            if not bar:  # the CSV is valid and the resume is done: from here on there is progress
                progress = stack.enter_context(Progress(*columns, console=Console(stderr=True)))
                bar.append((progress, progress.add_task("airdrop", total=total)))
            progress, task = bar[0]
            progress.update(task, completed=done, total=total)

        yield update


def _show_csv_problems(ctx: Context, exc: CsvValidationError) -> NoReturn:
    """Every bad row (not only the first 50 the exception's message lists), then exit 1."""
    problems = [{"line": line, "reason": reason} for line, reason in exc.problems]
    if ctx.as_json:
        ctx.emit({"error": "invalid CSV, nothing was sent", "file": exc.path, "problems": problems}, "")
    else:
        click.echo(f"error: {exc.path}: {len(problems)} bad row(s), nothing was sent:", err=True)
        for problem in problems:
            click.echo(f"  line {problem['line']}: {problem['reason']}", err=True)
        click.echo("Fix these rows and run again.", err=True)
    raise SystemExit(1)


def _show_plan(ctx: Context, plan: AirdropPlan) -> None:
    gwei, eth = Decimal(plan.gas_price).scaleb(-9), Decimal(plan.cost_wei).scaleb(-18)
    data = {
        "dry_run": True,
        "kind": plan.kind,
        "recipients": plan.recipients,
        "already_paid": plan.already_paid,
        "skipped_already_members": plan.skipped,
        "in_flight": plan.in_flight,
        "to_send": sum(b.recipients for b in plan.batches),
        "max_recipients_per_batch": plan.gas.max_recipients,
        "batch_gas_budget": plan.gas.budget,
        "tx_gas_cap": plan.gas.tx_gas_cap,
        "batches": [b.__dict__ for b in plan.batches],
        "total_gas": plan.total_gas,
        "gas_price_wei": plan.gas_price,
        "cost_wei": plan.cost_wei,
        "max_cost_wei": plan.max_cost_wei,
    }

    def human() -> None:
        from rich.console import Console
        from rich.table import Table

        table = Table("#", "reason", "recipients", "lines", "gas (estimate)", "gas limit", title="dry run")
        for i, b in enumerate(plan.batches, 1):
            table.add_row(str(i), b.reason or "—", f"{b.recipients:,}", f"{b.first_line}-{b.last_line}",
                          f"{b.gas_estimate:,}", f"{b.gas_limit:,}")  # fmt: skip
        Console().print(table)
        click.echo(
            f"{sum(b.recipients for b in plan.batches):,} of {plan.recipients:,} recipients to send in "
            f"{len(plan.batches)} transaction(s) (≤ {plan.gas.max_recipients} per batch, "
            f"budget {plan.gas.budget:,} gas of the {plan.gas.tx_gas_cap:,} per-transaction cap)"
        )
        if plan.already_paid or plan.skipped or plan.in_flight:
            click.echo(
                f"already paid {plan.already_paid:,}, already members {plan.skipped:,}, "
                f"in flight from an earlier run {plan.in_flight:,}"
            )
        click.echo(f"total gas {plan.total_gas:,} at {gwei:.4f} gwei = {eth:.8f} ETH; nothing was sent")

    ctx.emit(data, human)


def _show_report(ctx: Context, report: AirdropReport) -> None:
    from .airdrop import STATUS_ALREADY_PAID, STATUS_FAILED, STATUS_NOT_SENT, STATUS_SENT, STATUS_SKIPPED

    failed = [r for r in report.recipients if r.status == STATUS_FAILED]
    skipped = [r for r in report.recipients if r.status == STATUS_SKIPPED]
    data = {
        "sent": report.count(STATUS_SENT),
        "already_paid": report.count(STATUS_ALREADY_PAID),
        "skipped": [{"line": r.line, "address": r.address, "reason": r.detail} for r in skipped],
        "failed": [
            {"line": r.line, "address": r.address, "reason": r.detail, "tx_hash": r.tx_hash} for r in failed
        ],
        "not_sent": report.count(STATUS_NOT_SENT),
        "transactions": report.transactions,
        "gas_used": report.gas_used,
        "stopped": report.stopped,
        "complete": report.complete,
        "journal": str(report.journal),
        "results_csv": str(report.results_csv) if report.results_csv else None,
    }

    def human() -> None:
        click.echo(
            f"sent {data['sent']:,} · already paid {data['already_paid']:,} · skipped {len(skipped):,} · "
            f"failed {len(failed):,} · not sent {data['not_sent']:,}  "
            f"({report.transactions} transaction(s), {report.gas_used:,} gas)"
        )
        for r in skipped[:20]:
            click.echo(f"  skipped line {r.line} {r.address}: {r.detail}")
        for r in failed[:20]:
            click.echo(f"  failed line {r.line} {r.address}: {r.detail}")
        if len(skipped) > 20 or len(failed) > 20:
            click.echo("  … every recipient is in the results CSV")
        if report.stopped:
            click.echo(f"stopped: {report.stopped}", err=True)
        if not report.complete:
            click.echo("run the same command again to resume", err=True)
        click.echo(f"results: {report.results_csv}   journal: {report.journal}")

    ctx.emit(data, human)


def _utc(seconds: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).isoformat()


# -- merkle -------------------------------------------------------------------------------------


@click.group("merkle")
def merkle_group() -> None:
    """Pull airdrops: Merkle campaigns that recipients (or anyone for them) claim."""


@merkle_group.command("build")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="tree.json")
@click.option("--program", help="Read decimals (points) or tiers (cards) from this deployed program.")
@click.option("--decimals", type=click.IntRange(0, 18), help="Points decimals without --program (default 0).")
@click.option("--tiers", help="Tier names, lowest first, without --program (default Bronze,Silver,Gold).")
@command_options
@pass_ctx
def merkle_build(
    ctx: Context, csv_file: Path, out: Path, program: str | None, decimals: int | None, tiers: str | None
) -> None:
    """Build a campaign tree (the JSON of @openzeppelin/merkle-tree's dump) from CSV_FILE.

    address,amount makes a points campaign; address,tier a card campaign.
    """
    from .airdrop import open_target
    from .campaign import build_tree, csv_kind, write_tree
    from .errors import CsvValidationError
    from .program import DEFAULT_TIERS

    kind = csv_kind(csv_file)
    names = tuple(t.strip() for t in tiers.split(",")) if tiers else DEFAULT_TIERS
    places = decimals or 0
    if program:
        with ctx.chain() as chain:
            target = open_target(chain, program, kind)
            names, places = target.tiers or names, target.decimals
    try:
        tree = build_tree(kind, csv_file, decimals=places, tiers=names)
    except CsvValidationError as exc:
        _show_csv_problems(ctx, exc)
    write_tree(tree, out)
    ctx.emit(
        {"root": tree.root, "kind": kind, "leaves": len(tree), "out": str(out)},
        f"{kind} campaign tree of {len(tree):,} leaves, root {tree.root}, written to {out}",
    )


@merkle_group.command("publish")
@click.argument("program")
@click.argument("tree_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--start", help="Claims open: ISO date/time (UTC unless given) or unix seconds; default now.")
@click.option("--end", required=True, help="Claims close (inclusive): ISO date/time or unix seconds.")
@click.option("--reason", default="", help="The campaign's reason code (≤ 32 bytes).")
@click.option("--card-valid-until", help="Card campaigns: expiry of the cards claimed (default never).")
@command_options
@pass_ctx
def merkle_publish(
    ctx: Context,
    program: str,
    tree_file: Path,
    start: str | None,
    end: str,
    reason: str,
    card_valid_until: str | None,
) -> None:
    """Open a campaign of PROGRAM's AirdropDistributor with TREE_FILE's root; prints its id."""
    from .campaign import load_tree, publish_campaign
    from .cli_program import parse_time

    tree = load_tree(tree_file)
    closes = parse_time(end, "--end")
    until = parse_time(card_valid_until, "--card-valid-until") if card_valid_until else 0
    with ctx.chain() as chain:
        opens = parse_time(start, "--start") if start else int(chain.w3.eth.get_block("latest")["timestamp"])
        campaign = publish_campaign(
            chain,
            program,
            tree,
            ctx.signer(chain),
            start=opens,
            end=closes,
            reason=reason,
            card_valid_until=until,
        )
    ctx.emit(
        {
            "campaign_id": campaign.campaign_id,
            "kind": campaign.kind,
            "root": campaign.root,
            "start": campaign.start,
            "end": campaign.end,
            "tx_hash": campaign.tx_hash,
        },
        f"campaign id {campaign.campaign_id}\n{campaign.kind} campaign open from {_utc(campaign.start)} "
        f"to {_utc(campaign.end)} (inclusive), root {campaign.root}, tx {campaign.tx_hash}",
    )


@merkle_group.command("proof")
@click.argument("tree_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("address")
@command_options
@pass_ctx
def merkle_proof(ctx: Context, tree_file: Path, address: str) -> None:
    """Print ADDRESS's leaf (index, amount or tier) and its proof."""
    from .campaign import leaves_for, load_tree, tree_kind

    tree = load_tree(tree_file)
    kind = tree_kind(tree)
    found = leaves_for(tree, address)
    column = "amount" if kind == "points" else "tier"
    data = [{"index": f.index, "account": f.account, column: f.value, "proof": list(f.proof)} for f in found]

    def human() -> None:
        import json

        for f in found:
            click.echo(f"index {f.index}  account {f.account}  {column} {f.value}")
            click.echo(json.dumps(list(f.proof)))

    ctx.emit(data if len(data) > 1 else data[0], human)


@merkle_group.command("claim")
@click.argument("program")
@click.argument("campaign_id", type=click.IntRange(min=1))
@click.argument("tree_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--for", "beneficiary", help="Claim for this address (it receives; the --account pays gas).")
@command_options
@pass_ctx
def merkle_claim(
    ctx: Context, program: str, campaign_id: int, tree_file: Path, beneficiary: str | None
) -> None:
    """Claim from campaign CAMPAIGN_ID as the --account (or for --for ADDRESS)."""
    from .campaign import claim, load_tree

    tree = load_tree(tree_file)
    with ctx.chain() as chain:
        claims = claim(chain, program, campaign_id, tree, ctx.signer(chain), beneficiary=beneficiary)
    data = [
        {"index": c.leaf.index, "account": c.leaf.account, "value": c.leaf.value, "tx_hash": c.tx_hash,
         "already_claimed": c.tx_hash is None}
        for c in claims
    ]  # fmt: skip

    def human() -> None:
        for c in claims:
            if c.tx_hash is None:
                click.echo(f"leaf {c.leaf.index} of {c.leaf.account} was already claimed")
            else:
                click.echo(
                    f"claimed leaf {c.leaf.index} for {c.leaf.account} ({c.leaf.value}) in {c.tx_hash}"
                )

    ctx.emit(data, human)
