"""When a mined transaction of ours is final, and what happens when its block is reorged away."""

from __future__ import annotations

from ..chain import Chain
from ..decoding import hex_int
from .fees import Pricer
from .flights import Flight, Listener
from .pace import Head


def finalize(
    chain: Chain, pricer: Pricer, mined: list[Flight], head: Head, confirmations: int, say: Listener
) -> bool:
    """Settle mined flights deep enough under ``head``: ``final`` if their block is still canonical,
    back to ``signed`` (the same bytes go out again) if it was reorged away. True if any ripened."""
    if not mined:
        return False
    need = confirmations
    ripe = [f for f in mined if f.receipt and head.number - hex_int(f.receipt["blockNumber"]) + 1 >= need]
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
