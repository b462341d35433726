"""The ``loyalty-chain`` group, its global options, ``compile``, and :func:`main`, which turns our
errors into a one-line reason and an exit code."""

from __future__ import annotations

import sys

import click

from ..errors import InsufficientFundsError, LoyaltyChainError, is_insufficient_funds
from . import (
    accounts,
    airdrop,
    demo,
    devnet,
    early,
    exchange,
    gateway,
    giving,
    member,
    merkle,
    perk,
    points,
    program,
    tiers,
)
from .context import Context, fail, pass_ctx


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
    from ..compile import check_artifacts, compile_project, write_artifacts

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


def _register_commands() -> None:
    """The commands live in their own modules, sharing :mod:`.context`."""
    for module in (
        devnet,
        demo,
        program,
        points,
        member,
        perk,
        tiers,
        giving,
        exchange,
        airdrop,
        merkle,
        accounts,
        gateway,
    ):
        for command in module.COMMANDS:
            cli.add_command(command)
    perk.perk.add_command(early.perk_early)  # `perk early` and `merkle early`: one module builds both
    merkle.merkle_group.add_command(early.merkle_early)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning our errors into a one-line reason and exit code 1."""
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
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as exc:
        # the node answered with an error we have no better name for. Looked up, not imported:
        # importing web3 costs about a second of CPU that `--help` and offline commands never need,
        # and if web3 is not loaded, no web3 error was raised.
        web3_errors = sys.modules.get("web3.exceptions")
        if web3_errors is None or not isinstance(exc, web3_errors.Web3Exception):
            raise
        click.echo(f"error: the node answered: {exc}", err=True)
        return 1
    return 0
