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
from ..delivery.flights import Flight, Tx, release_unused
from ..delivery.flights import plan as plan_nonces
from ..delivery.identity import NodeIdentity
from ..delivery.outbox import Outbox
from ..delivery.sender import Sender
from ..errors import LoyaltyChainError, RpcUnavailableError, TransactionError
from .journal import Journal, JournalEntry, NewBatch, Outcome
from .plan import Batch, GasPlan, SizedBatch, windows
from .records import ProgressCallback
from .target import Target, call_params, size_batches

TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()


def plan_flights(target: Target, sender: Sender, window: Sequence[SizedBatch]) -> list[Flight]:
    """One flight per batch, at consecutive nonces of the sender."""
    to = str(target.contract.address)
    return plan_nonces(sender.signer, sender.nonces, [Tx(to, w.data, w.gas_limit) for w in window])


def broadcast(outbox: Outbox, flights: Sequence[Flight]) -> None:
    """Hand the signed batches to the node once; the outbox watches them from here."""
    outbox.send(flights)


def collect_receipts(outbox: Outbox, flights: Sequence[Flight]) -> None:
    """Drive the batches until each is final (confirmations), dropped or refused: re-sending the
    same bytes when dropped, re-pricing when under the base fee, waiting out pool pressure."""
    outbox.drive(flights)


def pays_exactly(target: Target, entries: Sequence[JournalEntry], receipt: dict[str, Any]) -> str | None:
    """Why a batch's receipt does not pay exactly its recipients (None when it does): the mints
    it logged on our contract are compared with the journal, so a receipt from another contract or
    a node making things up is never taken for a payment."""
    contract = str(target.contract.address).lower()
    minted: list[tuple[str, int]] = []
    for log in receipt.get("logs", []):
        topics = [str(t) for t in log.get("topics", [])]
        if str(log.get("address", "")).lower() != contract or not topics or topics[0] != TRANSFER_TOPIC:
            continue
        if len(topics) >= 3 and int(topics[1], 16) == 0:
            to = "0x" + topics[2][-40:]
            amount = int(str(log.get("data") or "0x0"), 16) if len(topics) == 3 else 1
            minted.append((to.lower(), amount))
    if target.kind.name == "points":
        expected = sorted((e.address.lower(), e.value) for e in entries)
        if sorted(minted) != expected:
            return f"its logs mint to {len(minted)} address(es), the batch has {len(entries)}"
        return None
    members = {e.address.lower() for e in entries}
    strangers = [to for to, _ in minted if to not in members]
    return f"it minted cards to {len(strangers)} address(es) outside the batch" if strangers else None


def outcome_of(
    target: Target, batch_id: int, sender: str, data: bytes, flight: Flight, entries: Sequence[JournalEntry]
) -> Outcome | None:
    """A settled flight as the journal records it; None while its fate is still open."""
    receipt = flight.receipt
    if flight.state == "final" and receipt is not None:
        block, gas_used = hex_int(receipt["blockNumber"]), hex_int(receipt["gasUsed"])
        tx_hash, block_hash = str(receipt["transactionHash"]), str(receipt.get("blockHash") or "")
        if hex_int(receipt["status"]) == 1:
            wrong = pays_exactly(target, entries, receipt)
            if wrong is not None:
                raise TransactionError(
                    f"batch transaction {tx_hash} is not recorded as paid: {wrong}. Nothing more was "
                    "sent; check the --rpc node and the program, then run again"
                )
            return Outcome(batch_id, "confirmed", block, gas_used, None, block_hash, tx_hash)
        error = explain_revert(
            target.chain, target.decoder, call_params(target, sender, data), block, tx_hash
        )
        return Outcome(batch_id, "failed", block, gas_used, str(error), block_hash, tx_hash)
    if flight.state == "replaced":
        return Outcome(batch_id, "dropped", error=f"never mined: {flight.error}")
    if flight.state == "refused":
        return Outcome(batch_id, "dropped", error=f"refused by the node: {flight.error}")
    return None


def record_outcomes(journal: Journal, outcomes: Sequence[Outcome]) -> None:
    """Settle batches in the journal (one SQLite transaction)."""
    journal.record_outcomes(outcomes)


def send_window(
    target: Target,
    sender: Sender,
    journal: Journal,
    window: Sequence[SizedBatch],
    latest_block: int | None = None,
) -> list[Outcome]:
    """Sign → journal (signed) → broadcast → journal (sent) → drive to final → journal (settled).

    ``latest_block``: the head just read (by the node identity check), else it is asked for; a
    later run looks for these batches' transactions from there."""
    flights = plan_flights(target, sender, window)
    ids: dict[int, int] = {}
    signed_block = int(target.chain.w3.eth.block_number) if latest_block is None else latest_block

    def write_down(signed: Sequence[Flight]) -> None:
        new = [(i, f) for i, f in enumerate(flights) if id(f) in {id(s) for s in signed} and id(f) not in ids]
        for flight in signed:
            if id(flight) in ids:  # a fee bump: another version at the same nonce
                journal.add_version(ids[id(flight)], flight.versions[-1].tx_hash, flight.versions[-1].raw)
        batch_ids = journal.record_signed(
            [
                NewBatch(
                    sender=sender.address,
                    nonce=f.nonce,
                    tx_hash=f.versions[0].tx_hash,
                    raw_tx=f.versions[0].raw,
                    gas_limit=window[i].gas_limit,
                    reason=window[i].batch.reason,
                    signed_block=signed_block,
                    recipients=tuple(
                        JournalEntry(r.address, r.line, r.value) for r in window[i].batch.recipients
                    ),
                )
                for i, f in new
            ]
        )
        ids.update({id(f): b for (_, f), b in zip(new, batch_ids, strict=True)})

    outbox = sender.outbox()
    outbox.on_signed = write_down
    try:
        outbox.sign(flights)
        broadcast(outbox, flights)
        journal.mark_sent([ids[id(f)] for f in flights if f.state == "sent"])
        collect_receipts(outbox, flights)
    finally:
        release_unused(sender.nonces, flights)
        settled = [
            outcome_of(target, ids[id(f)], sender.address, w.data, f, _entries(w))
            for f, w in zip(flights, window, strict=True)
            if id(f) in ids
        ]
        record_outcomes(journal, [o for o in settled if o is not None])
    refused = [f for f in flights if f.state == "refused"]
    if refused:
        raise TransactionError(
            f"the node refused {len(refused)} batch transaction(s): {refused[0].error}; fix the cause "
            "(e.g. fund the account) and run the same command again to resume"
        )
    return [o for o in settled if o is not None]


def _entries(sized: SizedBatch) -> tuple[JournalEntry, ...]:
    return tuple(JournalEntry(r.address, r.line, r.value) for r in sized.batch.recipients)


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


REPLAN_ROUNDS = 3
"""How many times one run plans again the recipients of batches that were dropped (their nonce
went to another transaction) before leaving them to the next run."""


def send_batches(
    target: Target,
    sender: Sender,
    journal: Journal,
    batches: Sequence[Batch],
    plan: GasPlan,
    progress: Progress | None = None,
    identity: NodeIdentity | None = None,
) -> tuple[list[Outcome], str | None]:
    """Size, sign, send and settle batches window by window; stop at the first window with a revert.

    Before each window the node's identity is checked (chain id, pinned block, our contract's
    code). Batches dropped on the way are planned again, within the run. Returns the outcomes and
    why it stopped early (None if it did not): a revert, the fee cap or budget, the node refusing or
    going away. Whatever happened, the journal holds every batch's state, so the next run resumes.
    """
    outcomes: list[Outcome] = []
    todo = list(batches)
    try:
        for _ in range(REPLAN_ROUNDS):
            dropped: list[Batch] = []
            for window in windows(size_batches(target, sender, todo, plan), plan.block_gas_limit):
                latest = identity.check(target.chain) if identity is not None else None
                settled = send_window(target, sender, journal, window, latest)
                outcomes += settled
                by_id = dict(zip([o.batch_id for o in settled], window, strict=True))
                if progress is not None:
                    progress.advance(
                        sum(
                            len(by_id[o.batch_id].batch.recipients) for o in settled if o.state == "confirmed"
                        )
                    )
                dropped += [by_id[o.batch_id].batch for o in settled if o.state == "dropped"]
                failed = [o for o in settled if o.state == "failed"]
                if failed:
                    return (
                        outcomes,
                        f"a batch reverted: {failed[0].error}; its recipients are sent again next run",
                    )
            if not dropped:
                return outcomes, None
            todo = dropped
        return outcomes, f"{len(todo)} batch(es) were dropped {REPLAN_ROUNDS} times; run again to resume"
    except LoyaltyChainError as exc:
        return outcomes, str(exc)
    except OSError as exc:  # a connection error that escaped the transport: the node went away
        return outcomes, str(RpcUnavailableError(target.chain.rpc_url, type(exc).__name__))
