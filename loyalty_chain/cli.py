"""The ``loyalty-chain`` command line: a thin layer over the library.

Every command takes ``--json`` for machine-readable output and exits non-zero with a one-line
reason on failure. A command that needs a chain connects for its own duration and no longer.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import click

from . import cli_accounts, cli_airdrop, cli_member, cli_merkle, cli_perk, cli_points, cli_program
from .cli_context import Context, fail, pass_ctx, print_summary, summary_data
from .errors import InsufficientFundsError, LoyaltyChainError, is_insufficient_funds


@click.group()
@click.option("--rpc", envvar="LOYALTY_CHAIN_RPC", help="JSON-RPC URL of the chain (env LOYALTY_CHAIN_RPC).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
@click.option("--account", help="Signer: a keystore account name, or dev:N on a local chain.")
@click.version_option(package_name="loyalty-chain")
@click.pass_context
def cli(ctx: click.Context, rpc: str | None, as_json: bool, account: str | None) -> None:
    """Tokenized loyalty programs: points, membership cards, perks and airdrops."""
    ctx.obj = Context(rpc=rpc, as_json=as_json, account=account)


@cli.command("compile")
@click.option("--force", is_flag=True, help="Recompile even if no source changed.")
@click.option("--check", is_flag=True, help="Recompile from scratch; fail if the shipped artifacts differ.")
@pass_ctx
def compile_cmd(ctx: Context, force: bool, check: bool) -> None:
    """Compile contracts/ into the package's artifacts (cached by source hash)."""
    from .compile import check_artifacts, compile_project, write_artifacts

    if check:
        differences = check_artifacts()
        if differences:
            fail(
                "shipped artifacts differ from a fresh build: "
                + "; ".join(differences)
                + " (run `loyalty-chain compile` and commit loyalty_chain/artifacts)"
            )
        ctx.emit({"ok": True}, "shipped artifacts match a fresh build")
        return
    result = compile_project(force=force)
    write_artifacts(result.artifacts)
    names = sorted(result.artifacts)
    ctx.emit(
        {"contracts": names, "cached": result.cached, "build_info": str(result.build_info)},
        f"{'up to date' if result.cached else 'compiled'}: {', '.join(names)}",
    )


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops the foreground devnet exactly as Ctrl-C does."""
    raise KeyboardInterrupt


@cli.command()
@click.option("--port", type=int, default=8545, show_default=True, help="Loopback port to serve on.")
@click.option(
    "--accounts",
    "account_count",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="How many funded dev accounts (dev:0 … dev:N-1).",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Load chain state from FILE if it exists and save it there on exit.",
)
@pass_ctx
def devnet(ctx: Context, port: int, account_count: int, state: Path | None) -> None:
    """Run a local anvil devnet in the foreground until Ctrl-C."""
    from .chain import TX_GAS_CAP, launch_devnet

    chain = launch_devnet(port, state=state, accounts=account_count)
    try:
        accounts = [{"address": a.address, "private_key": "0x" + a.key.hex()} for a in chain.dev_accounts]
        info = {
            "rpc_url": chain.rpc_url,
            "chain_id": chain.chain_id,
            "accounts": accounts,
            "tx_gas_cap": TX_GAS_CAP,
        }

        def human() -> None:
            click.echo(f"devnet (anvil) serving at {chain.rpc_url}  chain id {chain.chain_id}")
            click.echo(f"per-transaction gas cap enforced: {TX_GAS_CAP:,} (EIP-7825)")
            click.echo("funded dev accounts (public keys of a public mnemonic: local use only):")
            for i, acct in enumerate(accounts):
                click.echo(f"  dev:{i}  {acct['address']}  {acct['private_key']}")
            click.echo("Ctrl-C to stop")

        ctx.emit(info, human)
        sys.stdout.flush()
        signal.signal(signal.SIGTERM, _interrupt)
        # Ctrl-C stops it even when started with SIGINT ignored (nohup, `trap '' INT`, a test
        # runner's worker): an ignored disposition is inherited and Python then never raises
        signal.signal(signal.SIGINT, signal.default_int_handler)
        assert chain.process is not None
        try:
            chain.process.wait()
            fail(f"anvil exited unexpectedly with code {chain.process.returncode}")
        except KeyboardInterrupt:
            pass
    finally:
        chain.close()
    if not ctx.as_json:
        click.echo("devnet stopped")


@cli.command()
@pass_ctx
def demo(ctx: Context) -> None:
    """Run a coffee brand's loyalty program on a fresh managed devnet and summarise it."""
    from .demo import run_demo

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

    def human() -> None:
        extra = [
            ("gas spent", f"{result.gas_used:,} in {result.transactions:,} transactions"),
            ("run time", f"{result.seconds:.1f} s"),
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


def _register_commands() -> None:
    """The command groups live in their own modules, sharing cli_context."""
    for module in (cli_program, cli_points, cli_member, cli_perk, cli_airdrop, cli_merkle, cli_accounts):
        for command in module.COMMANDS:
            cli.add_command(command)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning our errors into a one-line reason and exit code 1."""
    from web3.exceptions import Web3Exception

    try:
        cli.main(args=argv, prog_name="loyalty-chain", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except LoyaltyChainError as exc:
        message = str(exc)
        if is_insufficient_funds(exc) and not isinstance(exc, InsufficientFundsError):
            message += "; the signing account needs ETH for gas: fund it, or sign with another --account"
        click.echo(f"error: {message}", err=True)
        return 1
    except Web3Exception as exc:  # the node answered with an error we have no better name for
        click.echo(f"error: the node answered: {exc}", err=True)
        return 1
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
