"""``loyalty-chain demo``: a coffee brand's program end to end on a fresh managed devnet."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click

from .context import Context, pass_ctx, print_summary, summary_data


@click.command()
@pass_ctx
def demo(ctx: Context) -> None:
    """Run a coffee brand's loyalty program on a fresh managed devnet and summarise it."""
    from ..demo import run_demo

    if ctx.as_json:
        result = run_demo(say=lambda _msg: None)
    else:
        with _StepProgress() as progress:
            result = run_demo(say=progress.say, progress=progress.advance_to)
    data = {
        **summary_data(result.summary, result.perk_titles),
        "gas_used": result.gas_used,
        "transactions": result.transactions,
        "seconds": round(result.seconds, 1),
        "deployment_record": str(result.record_path),
    }
    if result.mechanics is not None:
        data["mechanics"] = asdict(result.mechanics)
    if result.expiry is not None:
        data["expiry"] = asdict(result.expiry)
    if result.tiers is not None:
        data["tiers"] = asdict(result.tiers)

    def human() -> None:
        extra = [
            ("gas spent", f"{result.gas_used:,} in {result.transactions:,} transactions"),
            ("run time", f"{result.seconds:.1f} s"),
        ]
        m = result.mechanics
        if m is not None:
            extra[:0] = [
                (f"donated · {m.charity}", f"{m.donated:,} in {m.donations} donations"),
                ("early-access redemptions", f"{m.early_redemptions} (refused early: {m.early_refused})"),
                (f"converted to {m.partner}", f"{m.converted_in:,} → {m.converted_out:,}"),
            ]
        e = result.expiry
        if e is not None:
            extra[-2:-2] = [
                (f"expired · {e.program}", f"{e.expired:,} of {e.earned:,} (breakage {e.breakage:,})")
            ]
        t = result.tiers
        if t is not None:
            extra[-2:-2] = [
                (
                    "crossed into Gold by purchases",
                    f"{t.start_tier} → {t.end_tier} at purchase {t.crossing_purchase}",
                ),
            ]
        print_summary("Bean There loyalty program", result.summary, result.perk_titles, extra)
        click.echo(f"deployment record: {result.record_path}")

    ctx.emit(data, human)


class _StepProgress:
    """A rich progress bar per named step, for the demo's long loops."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(), transient=True
        )
        self._tasks: dict[str, Any] = {}
        self.console = self._progress.console

    def say(self, message: str) -> None:
        """One line of the demo's story; soft_wrap: an address is never broken across lines, even
        when the output is not a terminal (rich then assumes 80 columns)."""
        self.console.print(f"  {message}", soft_wrap=True, highlight=False)

    def advance_to(self, step: str, done: int, total: int) -> None:
        if step not in self._tasks:
            self._tasks[step] = self._progress.add_task(step, total=total)
        self._progress.update(self._tasks[step], completed=done)

    def __enter__(self) -> _StepProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()


COMMANDS = (demo,)
