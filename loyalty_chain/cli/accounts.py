"""``loyalty-chain accounts new | import | list``: encrypted keystores, never a key on argv."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..errors import AccountError
from .context import Context, json_option, pass_ctx


def _new_password(name: str) -> str:
    """The password for a new keystore: the environment, else a confirmed hidden prompt."""
    from ..accounts import PASSWORD_ENV, password_env_var

    for var in (password_env_var(name), PASSWORD_ENV):
        if os.environ.get(var):
            return os.environ[var]
    if not sys.stdin.isatty():
        raise AccountError(f"no password for {name!r}: set {PASSWORD_ENV} or run in a terminal")
    return str(click.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True, err=True))


@click.group()
def accounts() -> None:
    """Encrypted keystore accounts (in $LOYALTY_CHAIN_KEYSTORE or ~/.loyalty-chain/keystore)."""


@accounts.command("new")
@click.argument("name")
@json_option
@pass_ctx
def accounts_new(ctx: Context, name: str) -> None:
    """Create account NAME with a fresh random key."""
    from ..accounts import new_account

    info = new_account(name, _new_password(name))
    ctx.emit(
        {"name": info.name, "address": info.address, "path": str(info.path)},
        f"created {info.name}: {info.address} ({info.path})",
    )


@accounts.command("import")
@click.argument("name")
@click.option(
    "--keystore",
    "keystore_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A V3 keystore JSON (geth, MetaMask, ape) to copy in; its own password unlocks it.",
)
@click.option(
    "--private-key-stdin",
    is_flag=True,
    help="Read the private key from stdin (never pass a key as an argument).",
)
@json_option
@pass_ctx
def accounts_import(ctx: Context, name: str, keystore_file: Path | None, private_key_stdin: bool) -> None:
    """Import account NAME from a keystore file, or a private key typed at a hidden prompt."""
    from ..accounts import import_keystore, import_private_key

    if keystore_file is not None:
        info = import_keystore(name, keystore_file, _new_password(name))
    else:
        if private_key_stdin or not sys.stdin.isatty():
            key = sys.stdin.readline()
        else:
            key = str(click.prompt("private key (hidden)", hide_input=True, err=True))
        info = import_private_key(name, _new_password(name), key)
    ctx.emit(
        {"name": info.name, "address": info.address, "path": str(info.path)},
        f"imported {info.name}: {info.address}",
    )


@accounts.command("list")
@json_option
@pass_ctx
def accounts_list(ctx: Context) -> None:
    """List keystore accounts (no password needed)."""
    from ..accounts import keystore_dir, list_accounts

    found = list_accounts()
    ctx.emit(
        [{"name": a.name, "address": a.address, "path": str(a.path)} for a in found],
        "\n".join(f"{a.name:24} {a.address}" for a in found) or f"no accounts in {keystore_dir()}",
    )


COMMANDS = (accounts,)
