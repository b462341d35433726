"""``loyalty-chain exchange open | show | convert | close``: partner exchange between two programs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import click

from .context import Context, command_options, iso_time, parse_points, pass_ctx

if TYPE_CHECKING:
    from ..mechanics.exchange import Exchange


@click.group()
def exchange() -> None:
    """Members convert one program's points into a partner program's."""


@contextmanager
def _loaded(ctx: Context, program_a: str, program_b: str) -> Iterator[Exchange]:
    from ..mechanics.exchange import Exchange

    with ctx.chain() as chain:
        yield Exchange.load(chain, program_a, program_b, ctx.signer(chain), delivery=ctx.delivery())


def _summary(ex: Exchange) -> dict[str, Any]:
    state = ex.state()
    return {
        "from": ex.record.program_a,
        "to": ex.record.program_b,
        "address": ex.record.address,
        "terms": ex.record.terms,
        "open_a": state.open_a,
        "open_b": state.open_b,
        "closed": state.closed,
        "converting": state.converting,
    }


@exchange.command("open")
@click.argument("program_a")
@click.argument("program_b")
@click.option(
    "--rate", help="A:B, e.g. 100:80 (100 points of A give 80 of B); needed to make a new agreement."
)
@click.option("--minimum", default="0", show_default=True, help="Fewest points of A per conversion.")
@click.option(
    "--cap", default="0", show_default=True, help="Most points of A per member per period; 0 = none."
)
@click.option("--period", default="30d", show_default=True, help="The cap's period (s, m, h, d, w).")
@click.option("--fee-bps", type=click.IntRange(0, 9_999), default=0, show_default=True,
              help="Share of the converted points not issued, in basis points.")  # fmt: skip
@click.option("--partner", help="Who manages side B (default: program B's deployer).")
@command_options
@pass_ctx
def exchange_open(
    ctx: Context,
    program_a: str,
    program_b: str,
    rate: str | None,
    minimum: str,
    cap: str,
    period: str,
    fee_bps: int,
    partner: str | None,
) -> None:
    """Offer an exchange from PROGRAM_A to PROGRAM_B (A's admin, with --rate), or agree to one already
    offered (B's admin): each opens its own side; conversions need both."""
    from ..errors import InputError
    from ..mechanics.exchange import Exchange
    from ..mechanics.exchange_record import (
        ExchangeTerms,
        exchange_path,
        parse_duration,
        parse_rate,
        set_aside_if_stale,
    )
    from ..program import load_program

    with ctx.chain() as chain:
        signer = ctx.signer(chain)
        a, b = load_program(chain, program_a), load_program(chain, program_b)
        set_aside_if_stale(chain, a, b)  # a record left by a devnet that is gone frees the pair
        if exchange_path(chain.chain_id, program_a, program_b).is_file():
            if rate is not None:
                raise InputError(
                    f"an exchange from {program_a} to {program_b} is already recorded; its terms are fixed "
                    "(leave out --rate to open your side, or close it first)"
                )
            ex = Exchange.load(chain, program_a, program_b, signer, delivery=ctx.delivery())
            ex.open_sides()
        else:
            if rate is None:
                raise InputError(f"no exchange from {program_a} to {program_b} yet: give its --rate A:B")
            decimals_a = int(_decimals(chain, a.addresses["LoyaltyPoints"]))
            rate_from, rate_to = parse_rate(rate)
            capped = _points_or_zero(cap, decimals_a, "--cap")
            terms = ExchangeTerms(
                rate_from,
                rate_to,
                minimum=_points_or_zero(minimum, decimals_a, "--minimum"),
                cap=capped,
                period=parse_duration(period) if capped else 0,
                fee_bps=fee_bps,
            )
            ex = Exchange.open(chain, a, b, terms, signer, partner_b=partner, delivery=ctx.delivery())
        data = _summary(ex)
    state = "converting" if data["converting"] else "waiting for the other side"
    ctx.emit(data, f"exchange {program_a} → {program_b} at {data['address']}: {state}")


def _points_or_zero(text: str, decimals: int, what: str) -> int:
    return 0 if text.strip() in ("0", "0.0", "") else parse_points(text, decimals, what)


def _decimals(chain: Any, points: str) -> int:
    from ..artifacts import contract_at

    contract = contract_at(chain.w3, "LoyaltyPoints", points)
    return int(contract.functions.decimals().call())


@exchange.command("show")
@click.argument("program_a")
@click.argument("program_b")
@click.option("--member", help="Also show what this wallet may still convert this period.")
@click.option("--amount", help="Also quote converting this many points of A.")
@command_options
@pass_ctx
def exchange_show(
    ctx: Context, program_a: str, program_b: str, member: str | None, amount: str | None
) -> None:
    """The agreement's terms and sides; with --member the wallet's cap left, with --amount a quote."""
    with _loaded(ctx, program_a, program_b) as ex:
        data = _summary(ex)
        if member is not None:
            left, ends = ex.remaining(member)
            data["member"] = {"address": member, "cap_left": left, "period_ends": ends}
        if amount is not None:
            units = parse_points(amount, _decimals(ex.chain, ex.points_a.address), "--amount")
            out, fee = ex.quote(units)
            data["quote"] = {"amount_in": units, "amount_out": out, "fee": fee}

    def human() -> None:
        t = data["terms"]
        click.echo(f"exchange {program_a} → {program_b} at {data['address']}")
        click.echo(f"  rate {t['rate_from']}:{t['rate_to']}  minimum {t['minimum']}  fee {t['fee_bps']} bps")
        if t["cap"]:
            click.echo(f"  cap {t['cap']} per member per {t['period']} s")
        sides = f"A {'open' if data['open_a'] else 'paused'}, B {'open' if data['open_b'] else 'paused'}"
        click.echo("  closed for good" if data["closed"] else f"  {sides}")
        if "member" in data:
            m = data["member"]
            left = (
                "no cap"
                if m["cap_left"] is None
                else f"{m['cap_left']} left until {iso_time(m['period_ends'])}"
            )
            click.echo(f"  {m['address']}: {left}")
        if "quote" in data:
            q = data["quote"]
            click.echo(f"  {q['amount_in']} of A → {q['amount_out']} of B (fee {q['fee']})")

    ctx.emit(data, human)


@exchange.command("convert")
@click.argument("program_a")
@click.argument("program_b")
@click.argument("amount")
@command_options
@pass_ctx
def exchange_convert(ctx: Context, program_a: str, program_b: str, amount: str) -> None:
    """Convert AMOUNT of the --account's points of PROGRAM_A into points of PROGRAM_B."""
    with _loaded(ctx, program_a, program_b) as ex:
        units = parse_points(amount, _decimals(ex.chain, ex.points_a.address))
        done = ex.convert(units)
    data = {
        "member": done.member,
        "amount_in": done.amount_in,
        "amount_out": done.amount_out,
        "fee": done.fee,
        "tx_hash": done.tx_hash,
        "gas_used": done.gas_used,
    }
    ctx.emit(
        data,
        f"converted {Decimal(done.amount_in)} of {program_a} into {done.amount_out} of {program_b} "
        f"in {done.tx_hash}",
    )


@exchange.command("close")
@click.argument("program_a")
@click.argument("program_b")
@click.option("--pause", is_flag=True, help="Only pause your side (reopen with --resume).")
@click.option("--resume", is_flag=True, help="Reopen your paused side.")
@command_options
@pass_ctx
def exchange_close(ctx: Context, program_a: str, program_b: str, pause: bool, resume: bool) -> None:
    """Close the agreement for good from your side (and revoke the role your program granted it), or
    --pause / --resume your side."""
    from ..errors import InputError

    if pause and resume:
        raise InputError("--pause and --resume exclude each other; choose one")
    with _loaded(ctx, program_a, program_b) as ex:
        if pause or resume:
            ex.pause_sides(pause)
        else:
            ex.close()
        data = _summary(ex)
    action = "paused" if pause else "resumed" if resume else "closed for good"
    ctx.emit(data, f"exchange {program_a} → {program_b}: {action}")


COMMANDS = (exchange,)
