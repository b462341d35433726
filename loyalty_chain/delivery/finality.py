"""When a mined transaction of ours is final, and what happens when its block is reorged away.

Final is either a number of blocks on top (``confirmations=N``) or the node's own ``finalized``
block (``confirmations="finalized"``: proof-of-stake finality, where the node has it).
"""

from __future__ import annotations

from typing import Literal

from ..chain import Chain
from ..decoding import hex_int
from ..errors import InputError
from .fees import Pricer
from .flights import Flight, Listener
from .pace import Head

FINALIZED: Literal["finalized"] = "finalized"
Confirmations = int | Literal["finalized"]


def finalized_block(chain: Chain) -> int | None:
    """The number of the node's ``finalized`` block, or None if it has none (an error answer)."""
    answer = chain.batch([("eth_getBlockByNumber", [FINALIZED, False])])[0]
    block = answer.get("result")
    return hex_int(block["number"]) if block and "error" not in answer else None


def checked_confirmations(value: object) -> Confirmations:
    """``value`` as confirmations: a whole number ≥ 1, or ``"finalized"``."""
    if value == FINALIZED:
        return FINALIZED
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise InputError(f"confirmations must be a whole number of blocks ≥ 1 or 'finalized', got {value!r}")


def finalize(
    chain: Chain,
    pricer: Pricer,
    mined: list[Flight],
    head: Head,
    confirmations: Confirmations,
    say: Listener,
) -> bool:
    """Settle mined flights deep enough under ``head``: ``final`` if their block is still canonical,
    back to ``signed`` (the same bytes go out again) if it was reorged away. True if any ripened."""
    if not mined:
        return False
    if isinstance(confirmations, str):
        last = finalized_block(chain)
        if last is None:
            raise InputError(
                f"the node at {chain.rpc_url} has no 'finalized' block; "
                "pass a number of confirmations instead"
            )
        ripe = [f for f in mined if f.receipt and hex_int(f.receipt["blockNumber"]) <= last]
        need = 2  # always look again at the block's hash: it was mined a while ago
    else:
        need = confirmations
        # a receipt in block N says the chain is at least N high: the head read just before it
        # may be older (anvil's automine answers a send before its block lands)
        tip = max([head.number, *(hex_int(f.receipt["blockNumber"]) for f in mined if f.receipt)])
        ripe = [f for f in mined if f.receipt and tip - hex_int(f.receipt["blockNumber"]) + 1 >= need]
    if not ripe:
        return False
    if need <= 1:
        for f in ripe:
            f.state = "final"
        return True
    numbers = sorted({hex_int(f.receipt["blockNumber"]) for f in ripe if f.receipt})
    answers = chain.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
    canonical = {
        n: str((a.get("result") or {}).get("hash", "")) for n, a in zip(numbers, answers, strict=True)
    }
    for f in ripe:
        assert f.receipt is not None
        if canonical.get(hex_int(f.receipt["blockNumber"])) == f.receipt["blockHash"]:
            f.state = "final"
        else:  # reorged out: back in flight, the same bytes go out again
            say(f"block {hex_int(f.receipt['blockNumber'])} was reorged away; re-sending nonce {f.nonce}")
            f.state, f.receipt, f.misses = "signed", None, 0
            pricer.reserve(f.key, f.tx.gas, f.versions[-1].fees)
    return True
