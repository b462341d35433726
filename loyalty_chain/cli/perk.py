"""``loyalty-chain perk add | list | redeem | request | relay | cancel-requests``: the catalog and the
gasless flow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import InputError
from .context import Context, F, command_options, parse_points, parse_time, pass_ctx

if TYPE_CHECKING:
    from ..client import LoyaltyClient
    from ..relay_policy import RelayPolicy


def relay_policy_options(f: F) -> F:
    """--max-relay-gas and --allow-contract-members: what the relayer agrees to pay for."""
    f = click.option(
        "--allow-contract-members",
        is_flag=True,
        help="Relay for members whose signature their own contract checks (ERC-1271); off by default.",
    )(f)
    f = click.option(
        "--max-relay-gas",
        type=int,
        default=None,
        help="Refuse a relay needing more gas than this (default 300,000).",
    )(f)
    return f


def _policy(max_relay_gas: int | None, allow_contract_members: bool) -> RelayPolicy:
    from ..relay_policy import DEFAULT_MAX_RELAY_GAS, RelayPolicy

    return RelayPolicy(
        max_gas=DEFAULT_MAX_RELAY_GAS if max_relay_gas is None else max_relay_gas,
        allow_contract_members=allow_contract_members,
    )


def _max_cost(client: LoyaltyClient, text: str | None) -> int | None:
    return None if text is None else parse_points(text, client.decimals(), "--max-cost")


@click.group()
def perk() -> None:
    """Add, list and redeem perks; the gasless request/relay flow."""


@perk.command("add")
@click.argument("program")
@click.option("--title", required=True, help="Up to 32 bytes.")
@click.option("--price", required=True, help="Points per unit.")
@click.option("--min-tier", default="0", show_default=True, help="Tier name or index.")
@click.option("--stock", type=click.IntRange(0, 2**32 - 2), help="Units available; default unlimited.")
@click.option("--per-wallet", type=int, default=0, help="Units one wallet may redeem; 0 = no limit.")
@click.option("--start", help="ISO date the perk opens; default now.")
@click.option("--end", help="ISO date the perk closes; default never.")
@command_options
@pass_ctx
def perk_add(
    ctx: Context,
    program: str,
    title: str,
    price: str,
    min_tier: str,
    stock: int | None,
    per_wallet: int,
    start: str | None,
    end: str | None,
) -> None:
    """Add a perk to the catalog."""
    from ..records import UNLIMITED, PerkSpec

    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        spec = PerkSpec(
            title=title,
            price=parse_points(price, client.decimals(), "price"),
            min_tier=client.tier_index(min_tier),
            stock=UNLIMITED if stock is None else stock,
            per_wallet=per_wallet,
            start=parse_time(start, "--start") if start else 0,
            end=parse_time(end, "--end") if end else 0,
        )
        added = client.add_perk(spec)
    ctx.emit({"perk_id": added.perk_id, "title": title}, f"added perk {added.perk_id}: {title}")


@perk.command("list")
@click.argument("program")
@command_options
@pass_ctx
def perk_list(ctx: Context, program: str) -> None:
    """List the catalog."""
    from ..records import UNLIMITED

    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        perks, tiers = client.perks(), client.tiers()
    rows = [
        {
            "perk_id": p.perk_id,
            "title": p.spec.title,
            "price": p.spec.price,
            "min_tier": tiers[p.spec.min_tier],
            "stock": None if p.spec.stock == UNLIMITED else p.spec.stock,
            "sold": p.sold,
            "per_wallet": p.spec.per_wallet or None,
            "active": p.spec.active,
        }
        for p in perks
    ]

    def human() -> None:
        from rich.console import Console
        from rich.table import Table

        table = Table("id", "title", "price", "min tier", "stock", "sold", "per wallet", "active")
        for r in rows:
            table.add_row(*[("∞" if v is None else str(v)) for v in r.values()])
        Console().print(table)

    ctx.emit(rows, human)


@perk.command("redeem")
@click.argument("program")
@click.argument("perk_id", type=int)
@click.option("--quantity", type=int, default=1, show_default=True)
@click.option("--max-cost", help="Most points to burn; default the price now times the quantity.")
@click.option("--gasless", is_flag=True, help="Sign as --account; --relayer submits and pays the gas.")
@click.option(
    "--relayer",
    envvar="LOYALTY_CHAIN_RELAYER",
    help="Account that relays a --gasless redemption and pays its gas (env LOYALTY_CHAIN_RELAYER; "
    "default dev:0 on a local chain).",
)
@relay_policy_options
@command_options
@pass_ctx
def perk_redeem(
    ctx: Context,
    program: str,
    perk_id: int,
    quantity: int,
    max_cost: str | None,
    gasless: bool,
    relayer: str | None,
    max_relay_gas: int | None,
    allow_contract_members: bool,
) -> None:
    """Redeem PERK_ID as the --account, burning at most --max-cost points."""
    from ..gasless import sign_typed_data

    with ctx.chain() as chain:
        member_client = ctx.client(chain, program)
        limit = _max_cost(member_client, max_cost)
        if gasless:
            if relayer is None:
                if not chain.is_local:
                    raise InputError("--gasless needs --relayer NAME: the account that submits and pays")
                relayer = "dev:0"
            relay_client = ctx.client(chain, program, relayer)
            request = member_client.redemption_request(
                member_client.address, perk_id, quantity, relayer=relay_client.address, max_cost=limit
            )
            signature = sign_typed_data(member_client.account, request)
            policy = _policy(max_relay_gas, allow_contract_members)
            redemption = relay_client.relay(request, signature, policy=policy)
        else:
            redemption = member_client.redeem(perk_id, quantity, max_cost=limit)
    ctx.emit(
        {
            "redemption_id": redemption.redemption_id,
            "perk_id": redemption.perk_id,
            "member": redemption.member,
            "quantity": redemption.quantity,
            "points_burned": redemption.points_burned,
            "tx_hash": redemption.tx.tx_hash,
            "gasless": gasless,
        },
        f"redemption #{redemption.redemption_id}: {redemption.quantity} x perk {redemption.perk_id} "
        f"for {redemption.points_burned} points",
    )


@perk.command("request")
@click.argument("program")
@click.argument("perk_id", type=int)
@click.option("--member", required=True, help="The member who will sign.")
@click.option("--quantity", type=int, default=1, show_default=True)
@click.option("--deadline", help="ISO date/time after which the request is void; default in one hour.")
@click.option("--max-cost", help="Most points it may burn; default the price now times the quantity.")
@click.option("--relayer", help="Address that alone may submit it; default the --account.")
@command_options
@pass_ctx
def perk_request(
    ctx: Context,
    program: str,
    perk_id: int,
    member: str,
    quantity: int,
    deadline: str | None,
    max_cost: str | None,
    relayer: str | None,
) -> None:
    """Print the EIP-712 typed data (eth_signTypedData_v4 JSON) for MEMBER's wallet to sign."""
    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        until = parse_time(deadline, "--deadline") if deadline else None
        typed = client.redemption_request(
            member, perk_id, quantity, deadline=until, relayer=relayer, max_cost=_max_cost(client, max_cost)
        )
    click.echo(json.dumps(typed, indent=2))


@perk.command("relay")
@click.argument("program")
@click.argument("request_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("signature")
@relay_policy_options
@command_options
@pass_ctx
def perk_relay(
    ctx: Context,
    program: str,
    request_file: Path,
    signature: str,
    max_relay_gas: int | None,
    allow_contract_members: bool,
) -> None:
    """Submit a member's signed REQUEST.json with SIGNATURE; the --account pays the gas."""
    try:
        typed: Any = json.loads(request_file.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{request_file} is not JSON: {exc}") from None
    with ctx.chain() as chain:
        policy = _policy(max_relay_gas, allow_contract_members)
        redemption = ctx.client(chain, program).relay(typed, signature, policy=policy)
    ctx.emit(
        {
            "redemption_id": redemption.redemption_id,
            "member": redemption.member,
            "points_burned": redemption.points_burned,
            "tx_hash": redemption.tx.tx_hash,
        },
        f"relayed redemption #{redemption.redemption_id} for {redemption.member}",
    )


@perk.command("cancel-requests")
@click.argument("program")
@command_options
@pass_ctx
def perk_cancel_requests(ctx: Context, program: str) -> None:
    """Void the --account's signed requests not relayed yet (uses up its current nonce)."""
    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        result = client.cancel_requests()
        nonce = int(result.event("NonceInvalidated").args["nonce"])
    ctx.emit(
        {"member": client.address, "nonce": nonce, "tx_hash": result.tx_hash},
        f"request nonce {nonce} of {client.address} is void: nothing signed with it can be relayed",
    )


COMMANDS = (perk,)
