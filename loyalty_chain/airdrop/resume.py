"""Settling what an earlier run left in flight, before anything new is signed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from ..chain import Chain
from ..delivery.finality import finalized_block
from ..delivery.flights import Flight, Tx, Version
from ..delivery.sender import Sender, fees_of
from ..delivery.signing import tx_hash as tx_hash_of
from ..errors import TransactionError
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


FINAL_DEPTH = 64
"""Blocks on top of a confirmed batch before a run stops checking it (two Ethereum epochs), on a
node that has no ``finalized`` block; where it has one, a batch at or under it is final."""


def recheck_confirmed(target: Target, journal: Journal) -> int:
    """Check every confirmed batch that is not final yet against the chain; a batch whose receipt
    is gone (reorged away) goes back in flight, so its recipients are never counted as paid while
    unpaid. Returns how many went back."""
    shallow = journal.confirmed_not_final()
    if not shallow:
        return 0
    by_id = {b.id: b for b in journal.batches(["confirmed"])}
    calls: list[tuple[str, list[Any]]] = [("eth_blockNumber", [])]
    calls += [("eth_getTransactionReceipt", [by_id[i].tx_hash]) for i, _, _ in shallow]
    answers = rpc_results(target.chain, calls)
    latest = int(answers[0], 16)
    finalized = finalized_block(target.chain)
    final_at = finalized if finalized is not None else latest - FINAL_DEPTH + 1
    final: list[int] = []
    back = 0
    for (batch_id, block, block_hash), receipt in zip(shallow, answers[1:], strict=True):
        if not receipt or int(receipt["status"], 16) != 1:
            journal.unconfirm(batch_id, f"its block {block} ({block_hash[:12]}…) was reorged away")
            back += 1
        elif int(receipt["blockNumber"], 16) <= final_at:
            final.append(batch_id)
    journal.mark_final(final)
    return back


def reconcile_journal(target: Target, sender: Sender, journal: Journal) -> list[Outcome]:
    """Settle every batch an earlier run left signed or sent, before anything new is signed.

    Known to the node (mined or pending) → watched until final. Unknown, and the sender's mined
    nonce is already past its nonce → it can never mine once another transaction is proven to hold
    that nonce: dropped, its recipients are planned again. Unknown with its nonce still free → the
    same raw transaction (every signed version) is broadcast again and watched. The mined nonce is
    read *before* the lookups, so a transaction mined in between is not taken for dropped.
    """
    recheck_confirmed(target, journal)
    flight = journal.in_flight()
    if not flight:
        return []
    w3 = target.chain.w3
    mined_nonce = {
        s: int(w3.eth.get_transaction_count(cast(Any, s), "latest")) for s in {b.sender for b in flight}
    }
    versions = {b.id: journal.versions(b.id) for b in flight}
    known_flags = _on_chain(target.chain, [h for b in flight for h, _ in versions[b.id]])
    known_ids: set[int] = set()
    position = 0
    for b in flight:
        count = len(versions[b.id])
        if any(known_flags[position : position + count]):
            known_ids.add(b.id)
        position += count
    dropped = [b for b in flight if b.id not in known_ids and mined_nonce[b.sender] > b.nonce]
    for batch in dropped:
        _confirm_replaced(target.chain, batch, journal)
    outcomes = [
        Outcome(b.id, "dropped", error=f"never mined: nonce {b.nonce} was used by another transaction")
        for b in dropped
    ]
    strangers = {b.sender for b in flight if b not in dropped and b.sender.lower() != sender.address.lower()}
    if strangers:
        raise TransactionError(
            f"batches signed by {', '.join(sorted(strangers))} are still in flight; run again with that "
            "account so they can be watched (and re-priced) before anything new is signed"
        )
    watch = [b for b in flight if b not in dropped]
    if watch:
        flights = [_flight_of(target, sender, b, versions[b.id]) for b in watch]
        outbox = sender.outbox()
        try:
            send.broadcast(outbox, flights)
            send.collect_receipts(outbox, flights)
        finally:
            settled = [
                send.outcome_of(
                    target,
                    b.id,
                    b.sender,
                    batch_calldata(target.kind.name, _batch_of(b.reason, b.recipients), target.valid_until),
                    f,
                    b.recipients,
                )
                for b, f in zip(watch, flights, strict=True)
            ]
            send.record_outcomes(journal, [*outcomes, *(o for o in settled if o is not None)])
        outcomes += [o for o in settled if o is not None]
    else:
        send.record_outcomes(journal, outcomes)
    return outcomes


def _flight_of(
    target: Target, sender: Sender, batch: JournalBatch, versions: list[tuple[str, bytes]]
) -> Flight:
    data = batch_calldata(target.kind.name, _batch_of(batch.reason, batch.recipients), target.valid_until)
    flight = Flight(
        Tx(str(target.contract.address), data, batch.gas_limit), sender.signer, batch.nonce, state="signed"
    )
    for tx_hash, raw in versions:
        if tx_hash_of(raw) != tx_hash:
            raise TransactionError(
                f"the journal's batch {batch.id} says {tx_hash} but its stored bytes hash to "
                f"{tx_hash_of(raw)}: the journal was altered; nothing was sent"
            )
        flight.versions.append(Version(raw, tx_hash, fees_of(raw)))
    _check_pays_batch(target, batch, flight.versions[0].raw, data)
    return flight


def _check_pays_batch(target: Target, batch: JournalBatch, raw: bytes, data: bytes) -> None:
    """The stored transaction must call our contract with exactly this batch's recipients."""
    import rlp

    fields = rlp.decode(raw[1:])
    to, payload = "0x" + bytes(fields[5]).hex(), bytes(fields[7])
    if to.lower() != str(target.contract.address).lower() or payload != data:
        raise TransactionError(
            f"the journal's batch {batch.id} holds a transaction that does not pay its recipients "
            f"(to {to}); the journal was altered; nothing was sent"
        )


def _batch_of(reason: str, entries: Sequence[JournalEntry]) -> Batch:
    return Batch(reason, tuple(Recipient(e.line, e.address, e.value, reason) for e in entries))
