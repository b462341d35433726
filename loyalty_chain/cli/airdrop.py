"""``loyalty-chain airdrop points|cards``: push airdrops from a CSV.

Each command is a few lines over :mod:`loyalty_chain.airdrop`.
A bad CSV is reported row by row (every line number and reason) and nothing is sent; a push airdrop
that stops for any reason is resumed by running the same command again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .context import Context, command_options, parse_time, pass_ctx, show_csv_problems

if TYPE_CHECKING:
    from ..airdrop import AirdropOptions, AirdropPlan, AirdropReport
    from ..airdrop.plan import Kind
    from ..csv_columns import ColumnMap

F = TypeVar("F", bound=Callable[..., Any])


def csv_options(f: F) -> F:
    """How a CSV export is read: column names, delimiter (shared with ``merkle build``)."""
    f = click.option("--delimiter", type=click.Choice([",", ";", "tab"]), help="Default: detected.")(f)
    f = click.option("--reason-column", help="Header name of the reason column (default 'reason').")(f)
    f = click.option("--tier-column", help="Header name of the tier column (default 'tier').")(f)
    f = click.option("--amount-column", help="Header name of the amount column (default 'amount').")(f)
    f = click.option("--address-column", help="Header name of the address column (default 'address').")(f)
    return f


def column_map(kwargs: dict[str, Any]) -> ColumnMap:
    """The ColumnMap of ``csv_options`` (popped from the command's keyword arguments)."""
    from ..csv_columns import ColumnMap

    return ColumnMap(
        address=kwargs.pop("address_column"),
        amount=kwargs.pop("amount_column"),
        tier=kwargs.pop("tier_column"),
        reason=kwargs.pop("reason_column"),
        delimiter=kwargs.pop("delimiter"),
    )


def _push_options(f: F) -> F:
    f = click.option("--dry-run", is_flag=True, help="Show the batches, total gas and cost; send nothing.")(f)
    f = click.option(
        "--rejects",
        type=click.Path(dir_okay=False, path_type=Path),
        help="With --skip-invalid: where the bad rows go (default FILE.rejects.csv beside the CSV).",
    )(f)
    f = click.option(
        "--skip-invalid",
        is_flag=True,
        help="Leave bad rows out (listed in FILE.rejects.csv: line, row, reason) and send the rest.",
    )(f)
    f = csv_options(f)
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
@click.option(
    "--once-per-reason",
    is_flag=True,
    help="Skip recipients who already received this reason from the program (checked on chain): "
    "next month's file pays only its new rows.",
)
@_push_options
@command_options
@pass_ctx
def airdrop_points_cmd(
    ctx: Context,
    /,
    program: str,
    csv_file: Path,
    reason: str,
    no_merge: bool,
    once_per_reason: bool,
    batch_size: int | None,
    journal: Path | None,
    results: Path | None,
    skip_invalid: bool,
    rejects: Path | None,
    dry_run: bool,
    **columns: Any,
) -> None:
    """Issue the points of CSV_FILE (columns address, amount and optionally reason, found by name;
    amounts in whole points; other columns are ignored)."""
    from ..airdrop import AirdropOptions

    options = AirdropOptions(
        journal=journal, results=results, batch_size=batch_size, reason=reason, merge=not no_merge,
        columns=column_map(columns), skip_invalid=skip_invalid, rejects=rejects,
        once_per_reason=once_per_reason, delivery=ctx.delivery(),
    )  # fmt: skip
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
    /,
    program: str,
    csv_file: Path,
    valid_until: str | None,
    batch_size: int | None,
    journal: Path | None,
    results: Path | None,
    skip_invalid: bool,
    rejects: Path | None,
    dry_run: bool,
    **columns: Any,
) -> None:
    """Give a membership card to every row of CSV_FILE (columns address and tier; tier by name or index).

    Recipients who already hold a card are reported as skipped ("already a member").
    """
    from ..airdrop import AirdropOptions

    until = parse_time(valid_until, "--valid-until") if valid_until else 0
    options = AirdropOptions(
        journal=journal, results=results, batch_size=batch_size, valid_until=until,
        columns=column_map(columns), skip_invalid=skip_invalid, rejects=rejects, delivery=ctx.delivery(),
    )  # fmt: skip
    _push(ctx, "cards", program, csv_file, options, dry_run)


def _push(
    ctx: Context, kind: Kind, program: str, csv_file: Path, options: AirdropOptions, dry_run: bool
) -> None:
    from ..airdrop import plan_airdrop, run_airdrop
    from ..errors import CsvValidationError

    try:
        with ctx.chain() as chain:
            account = ctx.signer(chain)
            if dry_run:
                _show_plan(ctx, plan_airdrop(chain, program, kind, csv_file, account, options))
                return
            with _progress(ctx) as on_progress:
                report = run_airdrop(
                    chain,
                    program,
                    kind,
                    csv_file,
                    account,
                    options,
                    on_progress=on_progress,
                    on_status=None if ctx.as_json else _status,
                )
    except CsvValidationError as exc:
        show_csv_problems(ctx, exc)
    except KeyboardInterrupt:
        click.echo(
            "interrupted: every batch is in the journal; run the same command again to resume", err=True
        )
        raise
    _show_report(ctx, report)
    if not report.complete:
        raise SystemExit(1)


def _status(message: str) -> None:
    """Why the run waits (fee over the cap, rate limits, re-pricing), on stderr beside the bar."""
    click.echo(message, err=True)


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


def _show_plan(ctx: Context, plan: AirdropPlan) -> None:
    gwei, eth = Decimal(plan.gas_price).scaleb(-9), Decimal(plan.cost_wei).scaleb(-18)
    data = {
        "dry_run": True,
        "kind": plan.kind,
        "recipients": plan.recipients,
        "already_paid": plan.already_paid,
        "rows": plan.data_rows,
        "merged_duplicates": plan.merged,
        "rejected": plan.rejected,
        "rejects_csv": str(plan.rejects_csv) if plan.rejects_csv else None,
        "skipped_already_members": plan.skipped,
        "skipped_already_received": plan.already_received,
        "in_flight": plan.in_flight,
        "to_send": sum(b.recipients for b in plan.batches),
        "max_recipients_per_batch": plan.gas.max_recipients,
        "batch_gas_budget": plan.gas.budget,
        "tx_gas_cap": plan.gas.tx_gas_cap,
        "batches": [b.__dict__ for b in plan.batches],
        "total_gas": plan.total_gas,
        "gas_price_wei": plan.gas_price,
        "max_fee_per_gas_wei": plan.max_fee_per_gas,
        "fee_cap_wei": plan.fee_cap,
        "budget_wei": plan.budget,
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
        click.echo(
            f"{plan.data_rows:,} rows read: {plan.recipients:,} recipients, {plan.merged:,} duplicate row(s) "
            f"merged, {plan.rejected:,} bad row(s) left out"
            + (f" (see {plan.rejects_csv})" if plan.rejects_csv else "")
        )
        if plan.already_paid or plan.skipped or plan.in_flight or plan.already_received:
            click.echo(
                f"already paid {plan.already_paid:,}, already members {plan.skipped:,}, already received "
                f"this reason {plan.already_received:,}, in flight from an earlier run {plan.in_flight:,}"
            )
        worst = Decimal(plan.max_cost_wei).scaleb(-18)
        cap = f"{Decimal(plan.fee_cap).scaleb(-9):.4f} gwei" if plan.fee_cap is not None else "none"
        click.echo(
            f"expected cost: {plan.total_gas:,} gas at {gwei:.4f} gwei (base fee + tip) = {eth:.8f} ETH; "
            f"worst case: every gas limit at the signed max fee of "
            f"{Decimal(plan.max_fee_per_gas).scaleb(-9):.4f} gwei = {worst:.8f} ETH (fee cap {cap})"
        )
        if plan.budget is not None and plan.max_cost_wei > plan.budget:
            click.echo(
                f"the worst case is over the --budget of {Decimal(plan.budget).scaleb(-18):.8f} ETH: the run "
                "stops before exceeding it (run again with a larger budget to continue)"
            )
        click.echo("nothing was sent")

    ctx.emit(data, human)


def _show_report(ctx: Context, report: AirdropReport) -> None:
    from ..airdrop import STATUS_ALREADY_PAID, STATUS_FAILED, STATUS_NOT_SENT, STATUS_SENT, STATUS_SKIPPED

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
        "rows": report.data_rows,
        "merged_duplicates": report.merged,
        "rejected": report.rejected,
        "rejects_csv": str(report.rejects_csv) if report.rejects_csv else None,
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
        see = f" (see {report.rejects_csv})" if report.rejects_csv else ""
        click.echo(
            f"{report.data_rows:,} rows read, {report.merged:,} duplicate row(s) merged, "
            f"{report.rejected:,} bad row(s) left out{see}"
        )
        if report.stopped:
            click.echo(f"stopped: {report.stopped}", err=True)
        if not report.complete:
            click.echo("run the same command again to resume", err=True)
        click.echo(f"results: {report.results_csv}   journal: {report.journal}")

    ctx.emit(data, human)


COMMANDS = (airdrop_group,)
