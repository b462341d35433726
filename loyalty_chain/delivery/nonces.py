"""Nonces owned by this process, one sequence per account, healed after every failure.

A nonce is reserved before signing. When a reserved nonce ends up unused (the node refused its
transaction, or it was never signed) two cases exist: nothing of ours above it was accepted, so the
sequence simply steps back (:meth:`NonceManager.release`); or something above it was accepted and
now waits behind the gap, which the delivery layer fills with a 0-value transfer to ourselves
before anything else is sent. Either way a later operation never waits behind a gap.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, cast

from ..chain import Chain

_MANAGERS: dict[tuple[int, str], NonceManager] = {}
_LOCK = threading.Lock()


class NonceManager:
    """The next nonce of one account on one chain connection."""

    def __init__(self, chain: Chain, address: str) -> None:
        self.chain = chain
        self.address = address
        self._next: int | None = None
        self._active = 0
        self._lock = threading.Lock()

    @classmethod
    def of(cls, chain: Chain, address: str) -> NonceManager:
        """The one manager of ``address`` on ``chain`` in this process (every sender shares it)."""
        key = (id(chain.w3), address.lower())
        with _LOCK:
            manager = _MANAGERS.get(key)
            if manager is None or manager.chain is not chain:
                manager = _MANAGERS[key] = cls(chain, address)
            return manager

    def chain_nonce(self, block: str = "pending") -> int:
        return int(self.chain.w3.eth.get_transaction_count(cast(Any, self.address), cast(Any, block)))

    def resync(self) -> int:
        """Forget what we counted; take the chain's pending count."""
        with self._lock:
            self._next = self.chain_nonce("pending")
            return self._next

    def reserve(self, count: int) -> int:
        """The first of ``count`` consecutive nonces now ours; call :meth:`finish` when the
        operation that uses them has settled them.

        With no operation of ours in flight the count is read from the chain first (one request):
        a node that was reset or rolled back, or another program using the account, must not leave
        us signing behind a gap or at a used nonce."""
        if self._active == 0 or self._next is None:
            self.resync()
        with self._lock:
            assert self._next is not None
            first = self._next
            self._next += count
            self._active += 1
            return first

    def catch_up(self) -> None:
        """Never below the chain's pending count: another process that sends for this account (one
        at a time, under a lock the callers share) may have used nonces since we counted."""
        pending = self.chain_nonce("pending")
        with self._lock:
            if self._next is None or pending > self._next:
                self._next = pending

    def finish(self) -> None:
        """An operation that reserved nonces has settled all of them."""
        with self._lock:
            self._active = max(0, self._active - 1)

    def release(self, unused: Iterable[int], end: int) -> None:
        """Nonces reserved up to ``end`` (exclusive) but never taken by an accepted transaction, all
        above every accepted one: the sequence steps back to the lowest, so the next operation uses
        it. Nothing happens if nonces were reserved past ``end`` meanwhile (they would collide)."""
        lowest = min(unused, default=None)
        with self._lock:
            if lowest is not None and self._next == end and lowest < end:
                self._next = lowest

    def peek(self) -> int | None:
        return self._next
