"""The demo's expiring points (issue 12 item 2): a second program whose points expire, on a short clock.

A program "bean-miles" is deployed with epochs of EPOCH_S seconds and a validity of VALIDITY epochs; a
member earns points in two epochs, the devnet's clock is moved to the boundary where the first ones expire,
and the member's balance, next expiry and the program's breakage are read back. Runs last in the demo: it
moves the devnet's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from eth_account.signers.local import LocalAccount

from .chain import Chain
from .client import LoyaltyClient
from .expiry import ExpiryTerms, expired_points
from .program import ProgramOptions, deploy_program

Say = Callable[[str], None]

EPOCH_S = 60
"""A demo epoch: one minute of devnet time (a real program would use e.g. 30 days)."""

VALIDITY = 2
FIRST, SECOND = 100, 40


@dataclass(frozen=True)
class ExpiryResult:
    program: str
    epoch_seconds: int
    validity: int
    earned: int
    expired: int
    balance_after: int
    breakage: int
    gas_used: int
    transactions: int


def _travel_to(chain: Chain, timestamp: int) -> None:
    """Mine an empty block at ``timestamp`` (a devnet's clock only moves forward)."""
    chain.w3.provider.make_request("evm_mine", [timestamp])  # type: ignore[arg-type]


def _now(chain: Chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def run_expiry(chain: Chain, brand_key: LocalAccount, member: str, say: Say, root: Path) -> ExpiryResult:
    """Points that expire after the validity, shown on ``member``'s balance and as the program's breakage."""
    terms = ExpiryTerms(EPOCH_S, VALIDITY)
    options = ProgramOptions("bean-miles", symbol="MILE", display_name="Bean Miles", expiry=terms)
    record = deploy_program(chain, options, brand_key, root=root)
    brand = LoyaltyClient(chain, record, brand_key)
    first = brand.issue(member, FIRST, "purchase")
    epoch = _now(chain) // EPOCH_S
    _travel_to(chain, (epoch + 1) * EPOCH_S)
    second = brand.issue(member, SECOND, "purchase")
    upcoming = brand.next_expiry(member)
    assert upcoming is not None  # the member holds points of two live epochs
    when = datetime.fromtimestamp(upcoming.expires_at, UTC)
    say(
        f"'bean-miles' points {terms.describe()}: a member earned {FIRST} then {SECOND} MILE a minute later; "
        f"next expiry {upcoming.amount} MILE at {when:%H:%M:%S} UTC (devnet time); the clock is moved there"
    )
    _travel_to(chain, upcoming.expires_at)
    balance = brand.balance(member)
    breakage = expired_points(chain, record)
    say(
        f"at that second {FIRST + SECOND - balance} MILE expired: balance now {balance} MILE, "
        f"{breakage} MILE counted as breakage"
    )
    return ExpiryResult(
        program=record.name,
        epoch_seconds=EPOCH_S,
        validity=VALIDITY,
        earned=FIRST + SECOND,
        expired=FIRST + SECOND - balance,
        balance_after=balance,
        breakage=breakage,
        gas_used=first.gas_used + second.gas_used,
        transactions=2,
    )
