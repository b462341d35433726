"""Is the node answering the chain our work was done on?

Checked before each sending window: the chain id, a pinned block (e.g. the program's deployment
block) still having the hash we saw, the node not being behind what we know was mined, and our
contracts having code there. A load balancer that starts answering from another node, a node on
another fork or still syncing, or an RPC URL pointed at another network is refused with a message
saying which check failed, before anything is signed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..chain import Chain
from ..decoding import hex_int
from ..errors import NodeMismatchError


@dataclass(frozen=True)
class NodeIdentity:
    """What the right node must show."""

    chain_id: int
    pinned_block: int | None = None
    pinned_hash: str | None = None
    contracts: tuple[str, ...] = ()
    min_block: int = 0
    """The node must have at least this block (the highest one we saw a transaction of ours in)."""

    @classmethod
    def pin(cls, chain: Chain, block: int, contracts: Sequence[str] = ()) -> NodeIdentity:
        """The identity of ``chain`` now: its chain id and the hash of ``block``."""
        answer = chain.batch([("eth_getBlockByNumber", [hex(block), False])])[0].get("result") or {}
        return cls(chain.chain_id, block, str(answer.get("hash") or "") or None, tuple(contracts))

    def check(self, chain: Chain) -> int:
        """The node's latest block number, or :class:`NodeMismatchError` naming the first check it
        fails."""
        calls: list[tuple[str, list[Any]]] = [("eth_chainId", []), ("eth_blockNumber", [])]
        if self.pinned_block is not None:
            calls.append(("eth_getBlockByNumber", [hex(self.pinned_block), False]))
        calls += [("eth_getCode", [address, "latest"]) for address in self.contracts]
        answers = [a.get("result") for a in chain.batch(calls)]
        chain_id = hex_int(answers[0] or 0)
        if chain_id != self.chain_id:
            raise NodeMismatchError(chain.rpc_url, f"it is on chain id {chain_id}, not {self.chain_id}")
        latest = hex_int(answers[1] or 0)
        if latest < self.min_block:
            raise NodeMismatchError(
                chain.rpc_url,
                f"it is at block {latest}, behind block {self.min_block} where our transactions are",
            )
        rest = answers[2:]
        if self.pinned_block is not None:
            block = rest.pop(0) or {}
            seen = str(block.get("hash") or "")
            if self.pinned_hash and seen != self.pinned_hash:
                where = f"has {seen[:18]}…" if seen else "does not have it"
                raise NodeMismatchError(
                    chain.rpc_url,
                    f"block {self.pinned_block} should be {self.pinned_hash[:18]}… but this node {where} "
                    "(another fork, another network with the same chain id, or a node still syncing)",
                )
        for address, code in zip(self.contracts, rest, strict=True):
            if not code or code in ("0x", "0x0"):
                raise NodeMismatchError(chain.rpc_url, f"there is no contract code at {address}")
        return latest
