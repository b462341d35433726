"""``loyalty-chain devnet``: a managed anvil in the foreground until Ctrl-C."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from .context import Context, fail, pass_ctx


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops the foreground devnet exactly as Ctrl-C does."""
    raise KeyboardInterrupt


@click.command()
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
    from ..chain import TX_GAS_CAP, launch_devnet

    chain = launch_devnet(port, state=state, accounts=account_count)
    # before the first line is printed: whoever reads it may press Ctrl-C at once. Ctrl-C stops it
    # even when started with SIGINT ignored (nohup, `trap '' INT`, a background job of a script, a
    # test runner's worker): an ignored disposition is inherited and Python then never raises
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
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

        assert chain.process is not None
        try:
            ctx.emit(info, human)
            sys.stdout.flush()
            chain.process.wait()
            fail(f"anvil exited unexpectedly with code {chain.process.returncode}")
        except KeyboardInterrupt:
            pass
    finally:
        chain.close()
    if not ctx.as_json:
        click.echo("devnet stopped")


COMMANDS = (devnet,)
