"""One batch of grants as issueBatch transactions: sized to fill blocks, started now, finished later.

The worker pipelines batches (:mod:`.worker`): it *starts* one (gas estimated, every transaction
signed, written down in the operations journal and broadcast, nonces in order under the sender
lock) while earlier ones are still being mined, and *finishes* each (receipts) in a thread of its
own. So a chain with 1-second blocks gets its next block's transactions before that block is built.

Gas: each transaction's limit is its ``eth_estimateGas`` answer (all of a batch's estimated in one
JSON-RPC batch) times :data:`ESTIMATE_MARGIN`, never above the fixed bound the client uses
(``80,000 + 30,000`` per grant; ~24,700 are used) nor the EIP-7825 cap. Blocks are packed by gas
*limit*, so the tighter limit fits more grants in a block. The estimate runs on the latest block,
not on the batches still in flight before it; the margin covers what they could change (a member's
first points costing less, a tier crossed one batch earlier than estimated).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..chain import TX_GAS_CAP
from ..client import BATCH_GAS_OVERHEAD, BATCH_GAS_PER_RECIPIENT, MAX_BATCH, LoyaltyClient
from ..decoding import hex_int
from ..delivery import TxResult
from ..delivery.flights import Tx
from ..delivery.sender import InFlight
from ..delivery.signing import calldata
from ..values import checked_address, checked_amount, reason_code

ESTIMATE_MARGIN = 1.1
"""Multiplier on a chunk's gas estimate for its gas limit."""
ESTIMATE_SLACK = 30_000
"""…plus this much, for a small chunk's sake."""
LEARN_FROM = 64
"""Chunks of at least this many grants teach the gas one grant takes (used to size chunks)."""
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


@dataclass
class StartedBatch:
    """A batch's transactions on their way; :meth:`Issuer.finish` waits for them."""

    in_flight: InFlight
    sizes: list[int]


def packed(address: str, amount: int, i: int = 0) -> int:
    """One grant as issueBatch takes it: the address in the high 160 bits, the amount in the low 96.

    The store's addresses were checked (checksum included) when their event was accepted: one
    spelled as an address is taken as is (checksumming ~550 per batch again cost a third of
    starting it); anything else goes through the full check and its error."""
    if not (isinstance(address, str) and _ADDRESS.fullmatch(address)):
        address = checked_address(address, f"recipient #{i + 1}")
    return (int(address, 16) << 96) | checked_amount(amount, f"amount #{i + 1}", bits=96)


def issue_batch_data(selector: bytes, words: Sequence[int], code: bytes) -> bytes:
    """``issueBatch(uint256[] packed, bytes32 reason)`` ABI-encoded by hand: the array's offset, the
    reason, the array's length, then the words (eth_abi validated each of a batch's ~1,100 words,
    twice, for a tenth of the time it took to start a batch)."""
    head = [selector, (64).to_bytes(32, "big"), code, len(words).to_bytes(32, "big")]
    return b"".join(head + [w.to_bytes(32, "big") for w in words])


class Issuer:
    """Starts and finishes issueBatch transactions for the gateway's worker."""

    def __init__(self, client: LoyaltyClient) -> None:
        self.client = client
        self.gas_per_grant: float | None = None
        """Most gas one grant used lately (from receipts); None until a batch has mined."""
        self._selector: bytes | None = None

    def chunk_for(self, block_gas: int, txs_per_block: int, most: int) -> int:
        """Grants per transaction so that ``txs_per_block`` of them fill one block (at most ``most``)."""
        per_tx = min(TX_GAS_CAP, block_gas // max(1, txs_per_block))
        if self.gas_per_grant is None:
            per_grant = float(BATCH_GAS_PER_RECIPIENT)
            fixed = BATCH_GAS_OVERHEAD
        else:
            per_grant = self.gas_per_grant * ESTIMATE_MARGIN
            fixed = ESTIMATE_SLACK + BATCH_GAS_OVERHEAD // 2
        return max(1, min(most, MAX_BATCH, int((per_tx - fixed) // per_grant)))

    def start(self, recipients: Sequence[tuple[str, int]], reason: str, chunk: int, key: str) -> StartedBatch:
        """Estimate, sign, write down and broadcast the batch's transactions (call it under the
        sender lock: nonces are taken in order); raises the decoded error of a chunk that would
        revert, before anything is sent."""
        code = reason_code(reason)
        words = [packed(a, v, i) for i, (a, v) in enumerate(recipients)]
        points = self.client.points
        to = str(points.address)
        if self._selector is None:
            self._selector = calldata(points.functions.issueBatch([], code))[:4]
        parts = [words[start : start + chunk] for start in range(0, len(words), chunk)]
        data = [issue_batch_data(self._selector, part, code) for part in parts]
        sender = self.client.sender
        params = [{"from": sender.address, "to": to, "data": "0x" + d.hex()} for d in data]
        answers = self.client.chain.batch([("eth_estimateGas", [p]) for p in params])
        gas: list[int] = []
        for part, answer in zip(parts, answers, strict=True):
            bound = BATCH_GAS_OVERHEAD + BATCH_GAS_PER_RECIPIENT * len(part)
            if "result" not in answer:
                # raises the decoded revert; if it passes now, the bound serves
                sender.simulate(points.functions.issueBatch(part, code))
                gas.append(bound)
                continue
            estimate = int(hex_int(answer["result"]) * ESTIMATE_MARGIN) + ESTIMATE_SLACK
            gas.append(min(bound, estimate, TX_GAS_CAP))
        txs = [Tx(to, d, g) for d, g in zip(data, gas, strict=True)]
        return StartedBatch(sender.start_txs(txs, key=key), [len(p) for p in parts])

    def finish(self, started: StartedBatch) -> list[TxResult | Exception]:
        """Each transaction's outcome, in order (waits until every one is final)."""
        outcomes: list[TxResult | Exception] = list(self.client.sender.finish_many(started.in_flight))
        # learnt from full-sized chunks only: a chunk of a few grants is mostly its fixed cost
        used = [
            r.gas_used / n
            for r, n in zip(outcomes, started.sizes, strict=True)
            if isinstance(r, TxResult) and n >= LEARN_FROM
        ]
        if used:
            self.gas_per_grant = max(used)
        return outcomes


__all__ = ["ESTIMATE_MARGIN", "Issuer", "StartedBatch", "issue_batch_data", "packed"]
