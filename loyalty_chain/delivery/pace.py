"""The chain's head and pace: how often to look at it, and how much gas a block holds.

One :class:`Pace` belongs to a :class:`~loyalty_chain.delivery.sender.Sender` and serves every
outbox it opens: the block time is measured once (the timestamps of the head and of the block ten
below), where an airdrop opening one outbox per window used to measure it once per window.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..chain import Chain
from ..decoding import hex_int

MIN_POLL_S = 0.05
MAX_POLL_S = 2.0
DEFAULT_BLOCK_GAS = 30_000_000
QUICK_LOOKS_S = (0.0, 0.005, 0.02)
"""The waits before the first looks after a broadcast the node accepted, then every poll interval: a
devnet that mines a transaction as it arrives (anvil's automine) has the receipt by then, and a
quarter of a block's wait per send was most of a test suite's time."""
QUICK_LOOKS_GIVEN_UP_AFTER = 3
"""Rounds of quick looks in a row that found nothing: then this chain does not mine on arrival, and
only the poll interval is used (a real network pays ~9 small polls once, not 3 per send)."""


@dataclass(frozen=True)
class Head:
    number: int
    hash: str
    base_fee: int
    timestamp: int


class Pace:
    """Reads the head of one chain; knows its block time and block gas limit."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.last: Head | None = None
        self.block_gas: int | None = None
        self._block_time: float | None = None
        self._quick_misses = 0
        self._round: list[float] | None = None
        """The quick looks left after the last accepted broadcast (None: no round under way)."""

    def head(self) -> Head:
        """The latest block now (one request)."""
        block = self.chain.batch([("eth_getBlockByNumber", ["latest", False])])[0].get("result") or {}
        head = Head(
            hex_int(block.get("number", 0)),
            str(block.get("hash", "")),
            hex_int(block.get("baseFeePerGas", 0) or 0),
            hex_int(block.get("timestamp", 0)),
        )
        if self.block_gas is None:
            self.block_gas = hex_int(block.get("gasLimit", DEFAULT_BLOCK_GAS))
        self.last = head
        return head

    def block_time(self) -> float:
        """Seconds per block, averaged over the last ten blocks (measured once; a chain younger
        than that is taken as 1 s until it is old enough to measure)."""
        if self._block_time is not None:
            return self._block_time
        head = self.last or self.head()
        if head.number <= 10:
            return 1.0
        old = self.chain.batch([("eth_getBlockByNumber", [hex(head.number - 10), False])])[0]
        stamp = hex_int((old.get("result") or {}).get("timestamp", head.timestamp))
        self._block_time = max(0.0, (head.timestamp - stamp) / 10)
        return self._block_time

    def poll_interval(self) -> float:
        """A quarter of the block time, within 50 ms..2 s."""
        return min(MAX_POLL_S, max(MIN_POLL_S, self.block_time() / 4))

    def quick_looks(self) -> list[float]:
        """The waits of the quick looks to take after a broadcast the node accepted (none once
        they stopped paying off on this chain)."""
        return list(QUICK_LOOKS_S) if self._quick_misses < QUICK_LOOKS_GIVEN_UP_AFTER else []

    def quick_looks_found(self, found: bool) -> None:
        """Tell how a round of quick looks went: a receipt found, or nothing by the last one."""
        self._quick_misses = 0 if found else self._quick_misses + 1

    def accepted(self) -> None:
        """The node accepted a broadcast: the next waits are a round of quick looks."""
        self._round = self.quick_looks()

    def wait(self) -> float:
        """How long to wait before the next look at the chain (outboxes of one sender may drive in
        several threads: a round another one just used up means a poll interval)."""
        try:
            return (self._round or []).pop(0)
        except IndexError:
            return self.poll_interval()

    def looked(self, found: bool) -> None:
        """What the last look found: a round ends at a find, or after its last look."""
        if self._round is not None and (found or not self._round):
            self.quick_looks_found(found)
            self._round = None
