"""``loyalty-chain points issue | transfer | balance | policy | allow | pause``."""

from __future__ import annotations

from decimal import Decimal

import click

from .context import Context, command_options, parse_points, pass_ctx


@click.group()
def points() -> None:
    """Issue, transfer and look up points."""


@points.command("issue")
@click.argument("program")
@click.argument("to")
@click.argument("amount")
@click.option("--reason", default="", help="Reason code, e.g. purchase, referral, birthday (≤ 32 bytes).")
@command_options
@pass_ctx
def points_issue(ctx: Context, program: str, to: str, amount: str, reason: str) -> None:
    """Issue AMOUNT points to TO."""
    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        units = parse_points(amount, client.decimals())
        result = client.issue(to, units, reason)
    ctx.emit(
        {"tx_hash": result.tx_hash, "block": result.block, "gas_used": result.gas_used, "amount": units},
        f"issued {amount} points to {to} in {result.tx_hash}",
    )


@points.command("transfer")
@click.argument("program")
@click.argument("to")
@click.argument("amount")
@command_options
@pass_ctx
def points_transfer(ctx: Context, program: str, to: str, amount: str) -> None:
    """Send AMOUNT points from the --account to TO."""
    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        result = client.transfer(to, parse_points(amount, client.decimals()))
    ctx.emit(
        {"tx_hash": result.tx_hash, "block": result.block, "gas_used": result.gas_used},
        f"sent {amount} points to {to} in {result.tx_hash}",
    )


@points.command("balance")
@click.argument("program")
@click.argument("address")
@command_options
@pass_ctx
def points_balance(ctx: Context, program: str, address: str) -> None:
    """Show the points balance of ADDRESS."""
    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        units, decimals = client.balance(address), client.decimals()
    shown = Decimal(units).scaleb(-decimals)
    ctx.emit({"address": address, "balance": units, "decimals": decimals}, f"{shown} points")


@points.command("policy")
@click.argument("program")
@click.argument("policy", type=click.Choice(["open", "locked", "allowlist"]))
@command_options
@pass_ctx
def points_policy(ctx: Context, program: str, policy: str) -> None:
    """Set who may send points: open, locked (only issue/burn/redeem) or allowlist (admin)."""
    with ctx.chain() as chain:
        result = ctx.client(chain, program).set_transfer_policy(policy)
    ctx.emit({"policy": policy, "tx_hash": result.tx_hash}, f"transfer policy is now {policy}")


@points.command("allow")
@click.argument("program")
@click.argument("address")
@click.option("--remove", is_flag=True, help="Take ADDRESS off the allowlist.")
@command_options
@pass_ctx
def points_allow(ctx: Context, program: str, address: str, remove: bool) -> None:
    """Let holders send points to ADDRESS under the allowlist policy (admin)."""
    with ctx.chain() as chain:
        result = ctx.client(chain, program).allow_recipient(address, not remove)
    ctx.emit(
        {"address": address, "allowed": not remove, "tx_hash": result.tx_hash},
        f"{address} {'removed from' if remove else 'added to'} the allowlist",
    )


@points.command("pause")
@click.argument("program")
@click.option("--resume", is_flag=True, help="Unpause instead.")
@command_options
@pass_ctx
def points_pause(ctx: Context, program: str, resume: bool) -> None:
    """Stop (or, with --resume, restart) every movement of points (pauser role)."""
    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        result = client.unpause() if resume else client.pause()
    ctx.emit(
        {"paused": not resume, "tx_hash": result.tx_hash}, "points resumed" if resume else "points paused"
    )


COMMANDS = (points,)
