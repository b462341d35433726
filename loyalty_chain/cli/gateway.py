"""``loyalty-chain serve`` (the brand gateway over HTTP) and ``loyalty-chain gateway-key`` (its API keys).

Self-contained: FastAPI and uvicorn are imported only when these commands run."""

from __future__ import annotations

import os
from pathlib import Path

import click

from .context import Context, command_options, pass_ctx

DEFAULT_DB = "sqlite:///gateway.sqlite"
MAX_BATCH = 556
"""loyalty_chain.client.MAX_BATCH, spelled out: the client (web3) is not imported to build the CLI."""


@click.command()
@click.argument("program")
@click.option("--rules", "rules_file", type=click.Path(path_type=Path), help="Earn rules (TOML).")
@click.option(
    "--db",
    default=DEFAULT_DB,
    show_default=True,
    help="Where the gateway keeps its state: sqlite:///FILE, or postgresql://USER@HOST:PORT/DB"
    " when several gateway processes share the work.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option(
    "--batch-size",
    type=click.IntRange(1, MAX_BATCH),
    default=MAX_BATCH,
    show_default=True,
    help="Most grants per issuance transaction (fewer once a grant's gas is known, so that"
    " --batch-txs of them fill one block).",
)
@click.option(
    "--batch-txs",
    type=click.IntRange(1, 32),
    default=2,
    show_default=True,
    help="Issuance transactions per batch, one block's worth (2 for 30M-gas blocks, 4 for 60M).",
)
@click.option(
    "--pipeline",
    type=click.IntRange(1, 16),
    default=3,
    show_default=True,
    help="Batches on their way at once: the next is sent while earlier ones are being mined.",
)
@click.option(
    "--worker",
    type=click.Choice(["process", "thread"]),
    default="process",
    show_default=True,
    help="Where the issuing worker runs: a process of its own (restarted if it dies), or a thread"
    " of the HTTP process (sharing its CPU).",
)
@click.option(
    "--webhook-url", help="Where events and redemptions are posted (secret: $LOYALTY_CHAIN_WEBHOOK_SECRET)."
)
@click.option("--allow-contract-members", is_flag=True, help="Relay for members whose address has code.")
@click.option(
    "--relays-per-member-hour",
    type=click.IntRange(0),
    help="Relays one member may get per rolling hour, counted over all processes on one --db [default: 10].",
)
@click.option(
    "--relays-per-second",
    type=click.IntRange(0),
    help="Relays per second over all members and all processes on one --db [default: 100].",
)
@click.option(
    "--max-relay-gas",
    type=click.IntRange(21_000),
    help="Most gas one relay may take [default: 400000].",
)
@click.option(
    "--relay-gas-per-day",
    type=click.IntRange(0),
    help="Most gas all relays of all processes on one --db may take per UTC day [default: 10**9].",
)
@command_options
@pass_ctx
def serve(
    ctx: Context,
    program: str,
    rules_file: Path | None,
    db: str,
    host: str,
    port: int,
    batch_size: int,
    batch_txs: int,
    pipeline: int,
    worker: str,
    webhook_url: str | None,
    allow_contract_members: bool,
    relays_per_member_hour: int | None,
    relays_per_second: int | None,
    max_relay_gas: int | None,
    relay_gas_per_day: int | None,
) -> None:
    """Serve PROGRAM's gateway: shop events in, points out; members' perks and gasless redemptions."""
    import uvicorn

    from ..gateway import (
        Gateway,
        GatewayOptions,
        RelayPolicy,
        WebhookOptions,
        WorkerOptions,
        create_app,
        load_rules,
        open_store,
    )
    from ..program import load_program

    rules = load_rules(rules_file)  # a bad file stops here, before anything starts
    webhook = None
    if webhook_url:
        secret = os.environ.get("LOYALTY_CHAIN_WEBHOOK_SECRET", "")
        if len(secret) < 32:
            raise click.UsageError(
                "--webhook-url needs $LOYALTY_CHAIN_WEBHOOK_SECRET of at least 32 characters"
            )
        webhook = WebhookOptions(webhook_url, secret)
    given = {
        "per_member_per_hour": relays_per_member_hour,
        "global_per_second": relays_per_second,
        "gas_ceiling": max_relay_gas,
        "daily_gas_budget": relay_gas_per_day,
    }
    limits = {name: value for name, value in given.items() if value is not None}
    options = GatewayOptions(
        policy=RelayPolicy(allow_contract_members=allow_contract_members, **limits),
        worker=WorkerOptions(batch_size=batch_size, txs_per_batch=batch_txs, pipeline=pipeline),
        webhook=webhook,
        worker_process=worker == "process",
    )
    store = open_store(db)
    try:
        with ctx.chain() as chain:
            record = load_program(chain, program)
            gateway = Gateway(chain, record, ctx.signer(chain), store, rules, options, ctx.delivery())
            click.echo(f"gateway for {program!r} on http://{host}:{port} (docs at /docs)", err=True)
            uvicorn.run(create_app(gateway), host=host, port=port, log_level="warning")
    finally:
        store.close()


@click.command("gateway-key")
@click.option("--db", default=DEFAULT_DB, show_default=True)
@click.option("--name", required=True, help="Who uses the key (e.g. shop-backend).")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(["events:write", "events:read"]),
    help="Repeat for several; default both.",
)
def gateway_key(db: str, name: str, scopes: tuple[str, ...]) -> None:
    """Create a gateway API key; it is printed once and stored only hashed."""
    from ..gateway import create_key, open_store

    store = open_store(db)
    try:
        click.echo(create_key(store, name, scopes or ("events:write", "events:read")))
    finally:
        store.close()


COMMANDS = (serve, gateway_key)
