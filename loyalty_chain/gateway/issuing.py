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

from collections.abc import Sequence
from dataclasses import dataclass

from ..chain import TX_GAS_CAP
from ..client import BATCH_GAS_OVERHEAD, BATCH_GAS_PER_RECIPIENT, MAX_BATCH, LoyaltyClient
from ..decoding import hex_int
from ..delivery import TxResult
from ..delivery.sender import InFlight
from ..delivery.signing import calldata
from ..values import checked_address, checked_amount, reason_code

ESTIMATE_MARGIN = 1.1
"""Multiplier on a chunk's gas estimate for its gas limit."""
ESTIMATE_SLACK = 30_000
"""…plus this much, for a small chunk's sake."""
LEARN_FROM = 64
"""Chunks of at least this many grants teach the gas one grant takes (used to size chunks)."""


@dataclass
class StartedBatch:
    """A batch's transactions on their way; :meth:`Issuer.finish` waits for them."""

    in_flight: InFlight
    sizes: list[int]


class Issuer:
    """Starts and finishes issueBatch transactions for the gateway's worker."""

    def __init__(self, client: LoyaltyClient) -> None:
        self.client = client
        self.gas_per_grant: float | None = None
        """Most gas one grant used lately (from receipts); None until a batch has mined."""

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
        words = [
            (int(checked_address(a, f"recipient #{i + 1}"), 16) << 96)
            | checked_amount(v, f"amount #{i + 1}", bits=96)
            for i, (a, v) in enumerate(recipients)
        ]
        points = self.client.points
        calls = [
            points.functions.issueBatch(words[start : start + chunk], code)
            for start in range(0, len(words), chunk)
        ]
        sizes = [len(c.args[0]) for c in calls]
        sender = self.client.sender
        params = [
            {"from": sender.address, "to": str(points.address), "data": "0x" + calldata(c).hex()}
            for c in calls
        ]
        answers = self.client.chain.batch([("eth_estimateGas", [p]) for p in params])
        gas: list[int] = []
        for call, size, answer in zip(calls, sizes, answers, strict=True):
            bound = BATCH_GAS_OVERHEAD + BATCH_GAS_PER_RECIPIENT * size
            if "result" not in answer:
                sender.simulate(call)  # raises the decoded revert; if it passes now, the bound serves
                gas.append(bound)
                continue
            estimate = int(hex_int(answer["result"]) * ESTIMATE_MARGIN) + ESTIMATE_SLACK
            gas.append(min(bound, estimate, TX_GAS_CAP))
        return StartedBatch(sender.start_many(calls, gas=gas, key=key), sizes)

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


__all__ = ["ESTIMATE_MARGIN", "Issuer", "StartedBatch"]
