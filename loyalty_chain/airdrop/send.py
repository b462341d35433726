"""Batches → signed transactions → the node → receipts → the journal, one window at a time.

``broadcast``, ``collect_receipts`` and ``record_outcomes`` are the three steps between which a run
can be interrupted; each is its own function so that the journal's resume can be tested at each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak

from ..decoding import explain_revert, hex_int
from ..errors import LoyaltyChainError, RpcUnavailableError, TransactionError
from ..sender import Sender
from .journal import Journal, JournalEntry, NewBatch, Outcome
from .plan import Batch, GasPlan, SizedBatch, windows
from .records import ProgressCallback
from .target import Target, call_params, size_batches


def sign_batches(
    target: Target, sender: Sender, window: Sequence[SizedBatch], signed_block: int
) -> list[NewBatch]:
    """Sign a window of batches (EIP-1559) with consecutive nonces from the chain's pending count."""
    fees = sender.fees()
    first_nonce = sender.resync_nonce()
    signed = []
    for offset, sized in enumerate(window):
        raw = sender.sign(target.contract.address, sized.data, sized.gas_limit, fees, first_nonce + offset)
        signed.append(
            NewBatch(
                sender=sender.address,
                nonce=first_nonce + offset,
                tx_hash="0x" + keccak(raw).hex(),
                raw_tx=raw,
                gas_limit=sized.gas_limit,
                reason=sized.batch.reason,
                signed_block=signed_block,
                recipients=tuple(JournalEntry(r.address, r.line, r.value) for r in sized.batch.recipients),
            )
        )
    return signed


def broadcast(sender: Sender, raws: Sequence[bytes]) -> list[str | TransactionError]:
    """Hand signed transactions to the node; a refusal comes back in its place."""
    return sender.send_raw(raws)


def collect_receipts(sender: Sender, hashes: Sequence[str]) -> list[dict[str, Any]]:
    """The receipts of broadcast batches, their logs left undecoded (a batch has hundreds). On a
    timeout the batches stay "sent" in the journal: the next run looks them up."""
    try:
        return sender.receipts(hashes)
    except TransactionError as exc:
        raise TransactionError(f"{exc}; run the same command again to resume") from None


def outcome_of(
    target: Target, batch_id: int, sender: str, data: bytes, tx_hash: str, receipt: dict[str, Any]
) -> Outcome:
    """A receipt as the journal records it: confirmed, or failed with the decoded revert."""
    block, gas_used = hex_int(receipt["blockNumber"]), hex_int(receipt["gasUsed"])
    if hex_int(receipt["status"]) == 1:
        return Outcome(batch_id, "confirmed", block=block, gas_used=gas_used)
    error = explain_revert(target.chain, target.decoder, call_params(target, sender, data), block, tx_hash)
    return Outcome(batch_id, "failed", block=block, gas_used=gas_used, error=str(error))


def record_outcomes(journal: Journal, outcomes: Sequence[Outcome]) -> None:
    """Settle batches in the journal (one SQLite transaction)."""
    journal.record_outcomes(outcomes)


def send_window(
    target: Target, sender: Sender, journal: Journal, window: Sequence[SizedBatch]
) -> list[Outcome]:
    """Sign → journal (signed) → broadcast → journal (sent) → receipts → journal (confirmed/failed)."""
    signed = sign_batches(target, sender, window, int(target.chain.w3.eth.block_number))
    ids = journal.record_signed(signed)
    hashes = broadcast(sender, [s.raw_tx for s in signed])
    refused = [(i, h) for i, h in zip(ids, hashes, strict=True) if isinstance(h, TransactionError)]
    journal.mark_sent([i for i, h in zip(ids, hashes, strict=True) if isinstance(h, str)])
    if refused:
        for batch_id, error in refused:
            journal.note_error(batch_id, str(error))
        raise TransactionError(
            f"the node refused {len(refused)} batch transaction(s): {refused[0][1]}; they are in the journal "
            "as signed: fix the cause (e.g. fund the account) and run the same command again to resume"
        )
    receipts = collect_receipts(sender, [s.tx_hash for s in signed])
    outcomes = [
        outcome_of(target, i, s.sender, w.data, s.tx_hash, r)
        for i, s, w, r in zip(ids, signed, window, receipts, strict=True)
    ]
    record_outcomes(journal, outcomes)
    return outcomes


@dataclass
class Progress:
    done: int
    total: int
    callback: ProgressCallback | None

    def __post_init__(self) -> None:
        self.advance(0)

    def advance(self, count: int) -> None:
        self.done += count
        if self.callback is not None:
            self.callback(self.done, self.total)


def send_batches(
    target: Target,
    sender: Sender,
    journal: Journal,
    batches: Sequence[Batch],
    plan: GasPlan,
    progress: Progress | None = None,
) -> tuple[list[Outcome], str | None]:
    """Size, sign, send and settle batches window by window; stop at the first window with a revert.

    Returns the outcomes and why it stopped early (None if it did not): a revert found by an
    estimate, a reverted batch, the node refusing or going away. Whatever happened, the journal holds
    every batch's state, so the next run resumes from it.
    """
    outcomes: list[Outcome] = []
    try:
        for window in windows(size_batches(target, sender, batches, plan), plan.block_gas_limit):
            settled = send_window(target, sender, journal, window)
            outcomes += settled
            if progress is not None:
                paid = [w for w, o in zip(window, settled, strict=True) if o.state == "confirmed"]
                progress.advance(sum(len(w.batch.recipients) for w in paid))
            failed = [o for o in settled if o.state == "failed"]
            if failed:
                return (
                    outcomes,
                    f"a batch reverted: {failed[0].error}; its recipients are sent again next run",
                )
    except LoyaltyChainError as exc:
        return outcomes, str(exc)
    except OSError as exc:  # requests' connection errors: the node went away
        return outcomes, str(RpcUnavailableError(target.chain.rpc_url, type(exc).__name__))
    return outcomes, None
