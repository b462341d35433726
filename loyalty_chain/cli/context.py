"""What every ``loyalty-chain`` command shares: the context, the common options, failing."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from ..errors import AccountError, InputError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from ..analytics import ProgramSummary
    from ..chain import Chain
    from ..client import LoyaltyClient
    from ..delivery import DeliveryOptions
    from ..errors import CsvValidationError

F = TypeVar("F", bound=Callable[..., Any])


DEFAULT_RPC = "http://127.0.0.1:8545"
"""Where commands look for a chain when neither --rpc nor LOYALTY_CHAIN_RPC is given
(the address `loyalty-chain devnet` serves on by default)."""


@dataclass
class Context:
    """What the global options set, handed to every command."""

    rpc: str | None
    as_json: bool
    account: str | None = None
    max_fee: str | None = None
    budget: str | None = None
    confirmations: int | str | None = None
    idempotency_key: str | None = None

    def delivery(self) -> DeliveryOptions:
        """--max-fee, --budget and --confirmations as the delivery layer's options."""
        from ..delivery import DeliveryOptions, FeePolicy, parse_eth, parse_gwei
        from ..delivery.finality import checked_confirmations

        fees = FeePolicy(
            max_fee_per_gas=parse_gwei(self.max_fee) if self.max_fee else None,
            budget=parse_eth(self.budget) if self.budget else None,
        )
        confirmations = checked_confirmations(self.confirmations) if self.confirmations else None
        return DeliveryOptions(fees=fees, confirmations=confirmations)

    @contextlib.contextmanager
    def chain(self) -> Iterator[Chain]:
        """A connection for the duration of one command."""
        from ..chain import connect

        chain = connect(self.rpc or DEFAULT_RPC)
        try:
            yield chain
        finally:
            chain.close()

    def signer(self, chain: Chain, spec: str | None = None) -> LocalAccount:
        """The --account given (a keystore name, or dev:N on local chains); dev:0 on local chains."""
        from ..accounts import resolve_account

        chosen = spec or self.account
        if chosen is None:
            if not chain.is_local:
                raise AccountError(
                    "this command signs a transaction: pass --account NAME (a keystore account)"
                )
            chosen = "dev:0"
        return resolve_account(chosen, chain)

    def client(self, chain: Chain, program: str, spec: str | None = None) -> LoyaltyClient:
        """The program's client for the signer, delivering with this command's fee policy; with
        --idempotency-key every write it makes is keyed (KEY#1, KEY#2 … in order)."""
        from ..client import LoyaltyClient
        from ..program import load_program

        client = LoyaltyClient(chain, load_program(chain, program), self.signer(chain, spec), self.delivery())
        client.sender.key_prefix = self.idempotency_key
        return client

    def emit(self, data: Any, human: str | Callable[[], None]) -> None:
        """Print ``data`` as JSON with --json, else the human form."""
        if self.as_json:
            click.echo(json.dumps(data, indent=2, default=str))
        elif callable(human):
            human()
        else:
            click.echo(human)


pass_ctx = click.make_pass_decorator(Context)


def _set(field: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value:
            setattr(ctx.ensure_object(Context), field, value)

    return callback


def json_option(f: F) -> F:
    """--json on a command as well as before it; for commands that reach no chain."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        expose_value=False,
        callback=_set("as_json"),
        help="Machine-readable JSON output.",
    )(f)


def command_options(f: F) -> F:
    """--json, --rpc and --account on every chain command, as well as before it (ape's option style)."""
    f = json_option(f)
    f = click.option(
        "--rpc",
        expose_value=False,
        callback=_set("rpc"),
        envvar="LOYALTY_CHAIN_RPC",
        help="JSON-RPC URL (env LOYALTY_CHAIN_RPC; default " + DEFAULT_RPC + ").",
    )(f)
    f = click.option(
        "--account",
        expose_value=False,
        callback=_set("account"),
        help="Signer: a keystore account name, or dev:N on a local chain.",
    )(f)
    return delivery_options(f)


class Confirmations(click.ParamType):
    """A whole number of blocks ≥ 1, or ``finalized``."""

    name = "N|finalized"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int) or value == "finalized":
            return value
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number < 1:
            self.fail(f"{value!r} is neither a number of blocks (1 or more) nor 'finalized'", param, ctx)
        return number


def delivery_options(f: F) -> F:
    """--max-fee, --budget, --confirmations and --idempotency-key, for every command that writes."""
    f = click.option(
        "--max-fee",
        expose_value=False,
        callback=_set("max_fee"),
        envvar="LOYALTY_CHAIN_MAX_FEE",
        help="Fee cap per gas (e.g. 50gwei); while the base fee is over it, wait. Default per chain.",
    )(f)
    f = click.option(
        "--budget",
        expose_value=False,
        callback=_set("budget"),
        help="Most this command may spend on fees, in ETH (e.g. 0.05); it stops before exceeding it.",
    )(f)
    f = click.option(
        "--confirmations",
        type=Confirmations(),
        expose_value=False,
        callback=_set("confirmations"),
        help="Blocks on top before a transaction counts (default 1 on local chains, 3 elsewhere), "
        "or 'finalized': until the node's finalized block covers it.",
    )(f)
    f = click.option(
        "--idempotency-key",
        expose_value=False,
        callback=_set("idempotency_key"),
        help="Run this command at most once under KEY: a retry with the same key returns the first "
        "outcome and sends nothing.",
    )(f)
    return f


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(1)


def summary_data(summary: ProgramSummary, perk_titles: Mapping[int, str]) -> dict[str, Any]:
    """A program summary as the JSON the demo and report commands print."""
    return {
        "members_per_tier": summary.members_per_tier,
        "points_issued": summary.points_issued,
        "issued_per_reason": summary.issued_per_reason,
        "points_redeemed": summary.points_redeemed,
        "points_burned_other": summary.points_burned_other,
        "points_outstanding": summary.points_outstanding,
        "redemptions_per_perk": {
            perk_titles.get(k, str(k)): v for k, v in summary.redemptions_per_perk.items()
        },
    }


def print_summary(
    title: str, summary: ProgramSummary, perk_titles: Mapping[int, str], extra: Sequence[tuple[str, str]] = ()
) -> None:
    """The summary as a table a brand manager reads."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False)
    for tier, count in summary.members_per_tier.items():
        table.add_row(f"members · {tier}", f"{count:,}")
    for reason, total in summary.issued_per_reason.items():
        table.add_row(f"points issued · {reason}", f"{total:,}")
    table.add_row("points redeemed", f"{summary.points_redeemed:,}")
    if summary.points_burned_other:
        table.add_row("points burned by holders", f"{summary.points_burned_other:,}")
    table.add_row("points outstanding", f"{summary.points_outstanding:,}")
    for perk_id, count in summary.redemptions_per_perk.items():
        table.add_row(f"redemptions · {perk_titles.get(perk_id, str(perk_id))}", f"{count:,}")
    for label, value in extra:
        table.add_row(label, value)
    Console().print(table)


# -- values typed on the command line -----------------------------------------------------------


def parse_points(text: str, decimals: int, what: str = "amount") -> int:
    """Whole points as typed ("12", "1.5") to base units, exactly or refused."""
    from ..values import parse_amount  # eth-utils is slow to import: only when a command needs it

    return parse_amount(text, decimals, max_amount=2**256 - 1, what=what)


def parse_time(text: str, what: str = "time", *, end_of_day: bool = False) -> int:
    """Unix seconds from an ISO date/time (UTC unless it says otherwise) or from digits.

    With ``end_of_day`` a date without a time (``2026-12-31``) means the last second of that day
    (23:59:59 UTC), as a closing date is meant; otherwise it means its first second.
    """
    raw = text.strip()
    if raw.isdigit():
        return int(raw)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{what} {text!r} is neither an ISO date (2027-01-31) nor unix seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    date_only = len(raw) == 10 and raw[4] == "-" and raw[7] == "-"
    return int(moment.timestamp()) + (86_399 if end_of_day and date_only else 0)


def iso_time(seconds: int) -> str:
    """Unix seconds as an ISO date/time in UTC; 0 (the contracts' \"never\") as \"never\"."""
    return "never" if seconds == 0 else datetime.fromtimestamp(seconds, UTC).isoformat()


def show_csv_problems(ctx: Context, exc: CsvValidationError) -> NoReturn:
    """Every bad row (not only the first 50 the exception's message lists), then exit 1."""
    problems = [{"line": line, "reason": reason} for line, reason in exc.problems]
    if ctx.as_json:
        ctx.emit({"error": "invalid CSV, nothing was sent", "file": exc.path, "problems": problems}, "")
    else:
        click.echo(f"error: {exc.path}: {len(problems)} bad row(s), nothing was sent:", err=True)
        for problem in problems:
            click.echo(f"  line {problem['line']}: {problem['reason']}", err=True)
        click.echo("Fix these rows and run again.", err=True)
    raise SystemExit(1)
