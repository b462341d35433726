"""``loyalty-chain deploy | points | member | perk``: each command a few lines over the client."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from .cli_context import Context, command_options, pass_ctx, print_summary, summary_data
from .errors import InputError
from .values import parse_amount


def parse_points(text: str, decimals: int, what: str = "amount") -> int:
    """Whole points as typed ("12", "1.5") to base units, exactly or refused."""
    return parse_amount(text, decimals, max_amount=2**256 - 1, what=what)


def parse_time(text: str, what: str = "time") -> int:
    """Unix seconds from an ISO date/time (UTC unless it says otherwise) or from digits."""
    raw = text.strip()
    if raw.isdigit():
        return int(raw)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{what} {text!r} is neither an ISO date (2027-01-31) nor unix seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _iso(seconds: int) -> str:
    return "never" if seconds == 0 else datetime.fromtimestamp(seconds, UTC).isoformat()


# -- deploy -------------------------------------------------------------------------------------


@click.command()
@click.argument("program")
@click.option("--symbol", default="PTS", show_default=True)
@click.option("--decimals", type=int, default=0, show_default=True, help="Loyalty points are usually whole.")
@click.option("--tiers", default="Bronze,Silver,Gold", show_default=True, help="Ordered, lowest first.")
@click.option(
    "--transfer-policy", type=click.Choice(["open", "locked", "allowlist"]), default="open", show_default=True
)
@click.option("--soulbound", is_flag=True, help="Cards cannot be transferred (ERC-5192).")
@click.option("--cap", default="0", help="Maximum supply in points; 0 = no cap.")
@command_options
@pass_ctx
def deploy(
    ctx: Context,
    program: str,
    symbol: str,
    decimals: int,
    tiers: str,
    transfer_policy: str,
    soulbound: bool,
    cap: str,
) -> None:
    """Deploy a program (points, cards, catalog, airdrop) and record it in deployments/."""
    from .program import ProgramOptions, TransferPolicy, deploy_program

    options = ProgramOptions(
        name=program,
        symbol=symbol,
        decimals=decimals,
        tiers=tuple(t.strip() for t in tiers.split(",")),
        transfer_policy=TransferPolicy.parse(transfer_policy),
        soulbound=soulbound,
        cap=0 if cap.strip() == "0" else parse_points(cap, decimals, "--cap"),
    )
    options.validate()
    with ctx.chain() as chain:
        record = deploy_program(chain, options, ctx.signer(chain))
    ctx.emit(
        {
            "program": record.name,
            "chain_id": record.chain_id,
            "addresses": record.addresses,
            "record": str(record.path),
        },
        "\n".join(
            [f"{name:20} {addr}" for name, addr in record.addresses.items()] + [f"recorded in {record.path}"]
        ),
    )


# -- points -------------------------------------------------------------------------------------


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


# -- members ------------------------------------------------------------------------------------


@click.group()
def member() -> None:
    """Enrol members and show their cards."""


@member.command("enroll")
@click.argument("program")
@click.argument("address")
@click.option("--tier", default="0", show_default=True, help="Tier name or index.")
@click.option("--valid-until", help="Expiry as an ISO date; default never.")
@command_options
@pass_ctx
def member_enroll(ctx: Context, program: str, address: str, tier: str, valid_until: str | None) -> None:
    """Give ADDRESS a membership card."""
    until = parse_time(valid_until, "--valid-until") if valid_until else 0
    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        enrolment = client.enroll(address, tier, until)
        tier_name = client.tiers()[enrolment.tier]
    ctx.emit(
        {
            "member": enrolment.member,
            "token_id": str(enrolment.token_id),
            "tier": tier_name,
            "valid_until": until,
            "tx_hash": enrolment.tx.tx_hash,
        },
        f"enrolled {enrolment.member} at {tier_name} (card {enrolment.token_id:#x})",
    )


@member.command("show")
@click.argument("program")
@click.argument("address")
@command_options
@pass_ctx
def member_show(ctx: Context, program: str, address: str) -> None:
    """Show the card ADDRESS holds."""
    with ctx.chain() as chain:
        card = ctx.client(chain, program).card_of(address)
    if card is None:
        ctx.emit({"address": address, "card": None}, f"{address} holds no card")
        return
    ctx.emit(
        {
            "address": card.holder,
            "card": {
                "token_id": str(card.token_id),
                "tier": card.tier_name,
                "valid_until": card.valid_until,
                "active": card.active,
            },
        },
        f"{card.holder}: {card.tier_name}, valid until {_iso(card.valid_until)}, "
        f"{'active' if card.active else 'EXPIRED'} (card {card.token_id:#x})",
    )


@member.command("tier")
@click.argument("program")
@click.argument("address")
@click.argument("tier")
@command_options
@pass_ctx
def member_tier(ctx: Context, program: str, address: str, tier: str) -> None:
    """Move ADDRESS's card to TIER (name or index)."""
    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        result = client.set_tier(address, tier)
        name = client.tiers()[client.tier_index(tier)]
    ctx.emit({"member": address, "tier": name, "tx_hash": result.tx_hash}, f"{address} is now {name}")


@member.command("renew")
@click.argument("program")
@click.argument("address")
@click.option("--valid-until", required=True, help="New expiry as an ISO date, or 'never'.")
@command_options
@pass_ctx
def member_renew(ctx: Context, program: str, address: str, valid_until: str) -> None:
    """Set when ADDRESS's card expires."""
    until = 0 if valid_until.strip().lower() == "never" else parse_time(valid_until, "--valid-until")
    with ctx.chain() as chain:
        result = ctx.client(chain, program).renew(address, until)
    ctx.emit(
        {"member": address, "valid_until": until, "tx_hash": result.tx_hash},
        f"{address}'s card is valid until {_iso(until)}",
    )


@member.command("revoke")
@click.argument("program")
@click.argument("address")
@command_options
@pass_ctx
def member_revoke(ctx: Context, program: str, address: str) -> None:
    """Take ADDRESS's card away."""
    with ctx.chain() as chain:
        result = ctx.client(chain, program).revoke(address)
    ctx.emit({"member": address, "revoked": True, "tx_hash": result.tx_hash}, f"revoked {address}'s card")


# -- perks --------------------------------------------------------------------------------------


@click.group()
def perk() -> None:
    """Add, list and redeem perks; the gasless request/relay flow."""


@perk.command("add")
@click.argument("program")
@click.option("--title", required=True, help="Up to 32 bytes.")
@click.option("--price", required=True, help="Points per unit.")
@click.option("--min-tier", default="0", show_default=True, help="Tier name or index.")
@click.option("--stock", type=int, help="Units available; default unlimited.")
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
    from .records import UNLIMITED, PerkSpec

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
    from .records import UNLIMITED

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
@click.option("--gasless", is_flag=True, help="Sign as --account; --relayer submits and pays the gas.")
@click.option(
    "--relayer",
    envvar="LOYALTY_CHAIN_RELAYER",
    help="Account that relays a --gasless redemption and pays its gas (env LOYALTY_CHAIN_RELAYER; "
    "default dev:0 on a local chain).",
)
@command_options
@pass_ctx
def perk_redeem(
    ctx: Context, program: str, perk_id: int, quantity: int, gasless: bool, relayer: str | None
) -> None:
    """Redeem PERK_ID as the --account."""
    from .gasless import sign_typed_data

    with ctx.chain() as chain:
        member_client = ctx.client(chain, program)
        if gasless:
            if relayer is None:
                if not chain.is_local:
                    raise InputError("--gasless needs --relayer NAME: the account that submits and pays")
                relayer = "dev:0"
            request = member_client.redemption_request(member_client.address, perk_id, quantity)
            signature = sign_typed_data(member_client.account, request)
            redemption = ctx.client(chain, program, relayer).relay(request, signature)
        else:
            redemption = member_client.redeem(perk_id, quantity)
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
@command_options
@pass_ctx
def perk_request(
    ctx: Context, program: str, perk_id: int, member: str, quantity: int, deadline: str | None
) -> None:
    """Print the EIP-712 typed data (eth_signTypedData_v4 JSON) for MEMBER's wallet to sign."""
    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        until = parse_time(deadline, "--deadline") if deadline else None
        typed = client.redemption_request(member, perk_id, quantity, deadline=until)
    click.echo(json.dumps(typed, indent=2))


@perk.command("relay")
@click.argument("program")
@click.argument("request_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("signature")
@command_options
@pass_ctx
def perk_relay(ctx: Context, program: str, request_file: Path, signature: str) -> None:
    """Submit a member's signed REQUEST.json with SIGNATURE; the --account pays the gas."""
    try:
        typed: Any = json.loads(request_file.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{request_file} is not JSON: {exc}") from None
    with ctx.chain() as chain:
        redemption = ctx.client(chain, program).relay(typed, signature)
    ctx.emit(
        {
            "redemption_id": redemption.redemption_id,
            "member": redemption.member,
            "points_burned": redemption.points_burned,
            "tx_hash": redemption.tx.tx_hash,
        },
        f"relayed redemption #{redemption.redemption_id} for {redemption.member}",
    )


# -- report -------------------------------------------------------------------------------------


@click.command()
@click.argument("program")
@command_options
@pass_ctx
def report(ctx: Context, program: str) -> None:
    """Summarise PROGRAM from its events: members per tier, points, redemptions per perk."""
    from .analytics import summarize

    with ctx.chain() as chain:
        client = ctx.client(chain, program)
        summary = summarize(client.events(), client.tiers(), client.points.address)
        titles = {p.perk_id: p.spec.title for p in client.perks()}
    data = {"program": program, **summary_data(summary, titles)}

    def human() -> None:
        print_summary(program, summary, titles)

    ctx.emit(data, human)


COMMANDS = (deploy, points, member, perk, report)
