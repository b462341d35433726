"""Settling what an earlier run left in flight, before anything new is signed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from ..chain import Chain
from ..errors import TransactionError
from ..sender import Sender
from . import send
from .journal import Journal, JournalBatch, JournalEntry, Outcome
from .plan import Batch, Recipient, batch_calldata
from .target import Target, rpc_results


def _on_chain(chain: Chain, tx_hashes: Sequence[str]) -> list[bool]:
    """Whether the node knows each transaction (mined, or pending in its pool)."""
    if not tx_hashes:
        return []
    requests = [("eth_getTransactionByHash", [h]) for h in tx_hashes]
    requests += [("eth_getTransactionReceipt", [h]) for h in tx_hashes]
    results = rpc_results(chain, requests)
    n = len(tx_hashes)
    return [bool(results[i]) or bool(results[n + i]) for i in range(n)]


REPLACEMENT_SCAN_BLOCKS = 10_000
"""How far back (from the batch's signing block) to look for the transaction that took its nonce."""


def _confirm_replaced(chain: Chain, batch: JournalBatch, journal: Journal) -> None:
    """Prove that another transaction took ``batch``'s nonce before its recipients are re-planned.

    The node does not know the batch's hash and the nonce is used: either another transaction of
    the sender took it (the batch can never mine), or the batch itself was mined on a node that
    has since lost that history (a restart from a stale snapshot). Only the first is safe to
    re-send, so the blocks since the batch was signed are searched for the sender's transaction
    with that nonce; without that proof the run stops and nothing is sent.
    """
    latest = int(chain.w3.eth.block_number)
    first = max(batch.signed_block, latest - REPLACEMENT_SCAN_BLOCKS)
    sender = batch.sender.lower()
    for number in range(first, latest + 1):
        block: Any = chain.w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            ours = str(tx["from"]).lower() == sender and int(tx["nonce"]) == batch.nonce
            if ours and tx["hash"].to_0x_hex() != batch.tx_hash:
                return  # replaced by a transaction the node knows: the batch can never mine
    journal.note_error(batch.id, "unknown to the node, nonce used, no replacement found")
    raise TransactionError(
        f"batch transaction {batch.tx_hash} (nonce {batch.nonce}) is unknown to the node, yet that "
        f"nonce is used and no other transaction of {batch.sender} with it is in blocks {first}-{latest}: "
        "it may have been mined on a node that lost its history. Nothing was sent. Check a few of its "
        "recipients' balances: if they were paid, the airdrop is done for them; point --rpc at a node "
        "with the full history and run the same command again"
    )


def reconcile_journal(target: Target, sender: Sender, journal: Journal) -> list[Outcome]:
    """Settle every batch an earlier run left signed or sent, before anything new is signed.

    Known to the node (mined or pending) → its receipt is awaited and recorded. Unknown, and the
    sender's mined nonce is already past its nonce → it can never mine: dropped, its recipients are
    planned again. Unknown with its nonce still free → the same raw transaction is broadcast again.
    The mined nonce is read *before* the lookups, so a transaction mined in between is not taken for
    dropped. (This relies on the node indexing transactions, as full nodes do for recent history.)
    """
    flight = journal.in_flight()
    if not flight:
        return []
    w3 = target.chain.w3
    mined_nonce = {
        s: int(w3.eth.get_transaction_count(cast(Any, s), "latest")) for s in {b.sender for b in flight}
    }
    known_flags = _on_chain(target.chain, [b.tx_hash for b in flight])
    known = [b for b, k in zip(flight, known_flags, strict=True) if k]
    dropped = [
        b for b, k in zip(flight, known_flags, strict=True) if not k and mined_nonce[b.sender] > b.nonce
    ]
    for batch in dropped:
        _confirm_replaced(target.chain, batch, journal)
    resend = [
        b for b, k in zip(flight, known_flags, strict=True) if not k and mined_nonce[b.sender] <= b.nonce
    ]
    outcomes = [
        Outcome(b.id, "dropped", error=f"never mined: nonce {b.nonce} was used by another transaction")
        for b in dropped
    ]
    if resend:
        answers = send.broadcast(sender, [b.raw_tx for b in resend])
        accepted = [b for b, a in zip(resend, answers, strict=True) if isinstance(a, str)]
        journal.mark_sent([b.id for b in accepted])
        known += accepted
        refused = [(b, a) for b, a in zip(resend, answers, strict=True) if not isinstance(a, str)]
        # A refusal may mean it got there after all ("already known"), or that its nonce was just used.
        now_known = _on_chain(target.chain, [b.tx_hash for b, _ in refused])
        for (batch, answer), is_known in zip(refused, now_known, strict=True):
            if is_known:
                known.append(batch)
            elif int(w3.eth.get_transaction_count(cast(Any, batch.sender), "latest")) > batch.nonce:
                outcomes.append(
                    Outcome(batch.id, "dropped", error="never mined: its nonce was used meanwhile")
                )
            else:
                send.record_outcomes(journal, outcomes)
                journal.note_error(batch.id, str(answer))
                raise TransactionError(
                    f"the node refuses to relay batch transaction {batch.tx_hash} again: {answer}; "
                    "nothing new was sent: fix the cause and run the same command again"
                )
    if known:
        receipts = send.collect_receipts(sender, [b.tx_hash for b in known])
        outcomes += [
            send.outcome_of(
                target,
                b.id,
                b.sender,
                batch_calldata(target.kind.name, _batch_of(b.reason, b.recipients), target.valid_until),
                b.tx_hash,
                r,
            )
            for b, r in zip(known, receipts, strict=True)
        ]
    send.record_outcomes(journal, outcomes)
    return outcomes


def _batch_of(reason: str, entries: Sequence[JournalEntry]) -> Batch:
    return Batch(reason, tuple(Recipient(e.line, e.address, e.value, reason) for e in entries))
