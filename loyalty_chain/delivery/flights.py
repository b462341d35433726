"""A transaction of ours on its way, and what a node's answer to sending it means.

A :class:`Flight` is one nonce of one account and every version signed for it; its ``state``
goes ``planned → signed → sent → mined → final``, or ends ``refused`` (the node said no for
good) or ``replaced`` (its nonce mined another transaction). :mod:`.outbox` moves it along.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .fees import Fees
from .nonces import NonceManager
from .signing import Signer

FILLER_GAS = 21_000

Listener = Callable[[str], None]
"""Told, in words, what the delivery is doing (waiting on fees, re-pricing, re-sending)."""

_ACCEPTED = ("already known", "known transaction", "already imported", "already exists", "alreadyknown")
_NONCE_USED = ("nonce too low", "nonce is too low", "old nonce", "nonce has already been used")
_PRESSURE = (
    "txpool is full",
    "pool is full",
    "transaction pool is full",
    "exceeds the pool",
    "too many transactions",
    "replacement transaction underpriced",
    "could not replace",
    "future transaction tries to replace",
    "account limit",
    "queue full",
    "delegated account",
    "nonce too high",  # a node that handles a batch's sends out of order: the same bytes again
    "nonce gap",
)
_UNDERPRICED = (
    "lower than block's base fee",
    "less than block base fee",
    "fee cap less than",
    "feecap",
    "underpriced",
    "max fee per gas less",
)


def classify_send_error(error: Any) -> str:
    """``accepted`` (the node has it or had it), ``pressure`` (try the same bytes later),
    ``underpriced`` (re-price and try again) or ``refused`` (it will never take it)."""
    message = str(error.get("message", error) if isinstance(error, dict) else error).lower()
    if any(m in message for m in _ACCEPTED + _NONCE_USED):
        return "accepted"
    if any(m in message for m in _PRESSURE):
        return "pressure"
    if any(m in message for m in _UNDERPRICED):
        return "underpriced"
    return "refused"


@dataclass(frozen=True)
class Tx:
    """What to send: ``to=None`` creates a contract."""

    to: str | None
    data: bytes
    gas: int
    value: int = 0


@dataclass
class Version:
    """One signed form of a flight; a replacement adds another at the same nonce."""

    raw: bytes
    tx_hash: str
    fees: Fees


@dataclass
class Flight:
    """One transaction of ours on its way: a nonce, and every version signed for it."""

    tx: Tx
    signer: Signer
    nonce: int
    versions: list[Version] = field(default_factory=list)
    state: str = "planned"
    receipt: dict[str, Any] | None = None
    error: str | None = None
    filler: bool = False
    sent_block: int = -1
    sent_at: float = 0.0
    misses: int = 0
    next_check: float = 0.0
    lost: bool = False
    """Its last broadcast's answer was lost: at the next poll, is the node holding it?"""

    @property
    def hashes(self) -> list[str]:
        return [v.tx_hash for v in self.versions]

    @property
    def key(self) -> str:
        return f"{self.signer.address}:{self.nonce}"

    @property
    def settled(self) -> bool:
        return self.state in ("final", "refused", "replaced")


def plan(signer: Signer, nonces: NonceManager, txs: Sequence[Tx]) -> list[Flight]:
    """Flights for ``txs`` at consecutive nonces reserved now (signed later, at send time)."""
    first = nonces.reserve(len(txs))
    return [Flight(tx, signer, first + i) for i, tx in enumerate(txs)]


def release_unused(nonces: NonceManager, flights: Sequence[Flight]) -> None:
    """Give back reserved nonces no accepted transaction took, if nothing of ours is above them."""
    own = [f for f in flights if not f.filler]
    if own:
        end = max(f.nonce for f in own) + 1
        taken = [f.nonce for f in flights if f.state not in ("planned", "refused")]
        unused = [
            f.nonce for f in own if f.state in ("planned", "refused") and f.nonce > max(taken, default=-1)
        ]
        nonces.release(unused, end)
    nonces.finish()
