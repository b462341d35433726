"""Push airdrops of points and membership cards from a CSV, at scale, resumable after any interruption.

The data flows one way, one function per step (the first three in :mod:`loyalty_chain.airdrop_plan`)::

    load_recipients      CSV → validated recipients (every bad row reported, nothing sent)
    plan_batches         recipients → batches, sized by gas (gas_plan) and grouped by reason
    size_batches         each batch estimated with eth_estimateGas, halved until it fits
    sign_batches         batches → signed raw transactions, written to the journal BEFORE broadcast
    broadcast            raw transactions → the node (JSON-RPC batch)
    collect_receipts     hashes → receipts (outcome_of decodes a revert by replaying the call)
    record_outcomes      receipts → the journal (confirmed / failed)
    build_report         journal → per-recipient report, write_results_csv → FILE.results.csv

``reconcile_journal`` runs first on every run: each batch left signed or sent by an earlier run is
looked up on chain before anything new is signed (mined → recorded; unknown but its nonce is free →
the *same* raw transaction is broadcast again; unknown and its nonce taken by another transaction →
dropped, its recipients planned again). So no recipient is paid twice or skipped, whatever stopped
the earlier run: Ctrl-C, ``kill -9``, the node going down, a reverted batch.

How many batches are in flight at once: as many as the block gas limit holds counting each at its
gas limit (at most :data:`~loyalty_chain.airdrop_plan.MAX_BATCHES_IN_FLIGHT`), and their receipts
are awaited before the next ones are signed. Besides keeping the journal's in-flight set small, this
matters on an automining devnet: anvil mines one block per submission, so transactions beyond one
block's gas would wait forever for another submission.

Python::

    report = airdrop_points(chain, "bean-there", "drop.csv", account, AirdropOptions(reason="promo"))
    assert report.complete, report.stopped
"""

from __future__ import annotations

import csv
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.crypto import keccak
from web3.contract import Contract
from web3.exceptions import ContractLogicError, Web3RPCError

from .airdrop_plan import (
    KINDS,
    Batch,
    GasPlan,
    Kind,
    KindSpec,
    Recipient,
    SizedBatch,
    batch_calldata,
    gas_limit_for,
    gas_plan,
    load_recipients,
    plan_batches,
    split_batch,
    windows,
)
from .artifacts import load_artifact
from .chain import Chain
from .errors import InputError, LoyaltyChainError, RpcUnavailableError, TransactionError
from .journal import (
    Journal,
    JournalBatch,
    JournalEntry,
    JournalHeader,
    NewBatch,
    Outcome,
    default_journal_path,
)
from .program import CONTRACTS, ProgramRecord, load_program
from .recipients import file_digest
from .sender import RECEIPT_POLL_S, RECEIPT_TIMEOUT_S, ErrorDecoder, Sender, revert_data, rpc_batch

MEMBER_CHECK_CHUNK = 500
"""``balanceOf`` calls per JSON-RPC batch when cards recipients are checked for an existing card."""

STATUS_SENT = "sent"
"""Paid by a transaction this run confirmed."""
STATUS_ALREADY_PAID = "already paid"
"""Paid by a transaction an earlier run confirmed (found in the journal)."""
STATUS_SKIPPED = "skipped"
"""Not sent on purpose (a card recipient who already holds a card)."""
STATUS_FAILED = "failed"
"""Its last batch reverted or was dropped; the next run sends it again."""
STATUS_NOT_SENT = "not sent"
"""The run stopped before its batch (see the report's ``stopped``); the next run sends it."""
STATUS_IN_FLIGHT = "in flight"
"""Its batch was signed or sent but the run stopped before the receipt; the next run looks it up."""

ProgressCallback = Callable[[int, int], None]
"""``on_progress(done, total)``: recipients settled so far (paid, skipped) out of the file's."""


# -- records --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AirdropOptions:
    """How to run one airdrop; the defaults put the journal and results beside the CSV."""

    journal: Path | None = None
    """SQLite journal; default ``FILE.journal.sqlite`` beside the CSV."""
    results: Path | None = None
    """Per-recipient results CSV; default ``FILE.results.csv`` beside the CSV."""
    batch_size: int | None = None
    """Most recipients per transaction; default as many as fit by gas."""
    reason: str = ""
    """Points: the reason of rows without one (≤ 32 bytes of UTF-8)."""
    valid_until: int = 0
    """Cards: expiry of every card, unix seconds (0 = never)."""
    merge: bool = True
    """Points: sum the amounts of a repeated address (False: each repeat is a bad row)."""


@dataclass(frozen=True)
class Target:
    """The contract an airdrop calls, and what is needed to call it and read its errors."""

    chain: Chain
    kind: KindSpec
    contract: Contract
    """The program's LoyaltyPoints (points) or MembershipCard (cards)."""
    contracts: dict[str, Contract]
    """All four contracts of the program, by name."""
    decoder: ErrorDecoder
    decimals: int
    tiers: tuple[str, ...]
    valid_until: int = 0


@dataclass(frozen=True)
class RecipientResult:
    """One row of the report and of the results CSV."""

    line: int
    address: str
    value: int
    reason: str
    status: str
    tx_hash: str = ""
    detail: str = ""


@dataclass(frozen=True)
class AirdropReport:
    """The end of a run: every recipient's status, and what this run spent."""

    kind: Kind
    csv: Path
    journal: Path
    results_csv: Path | None
    recipients: tuple[RecipientResult, ...]
    transactions: int
    """Batch transactions this run confirmed (including ones an earlier run had sent)."""
    gas_used: int
    stopped: str | None = None
    """Why the run stopped before the end (e.g. a revert found by the estimate), or None."""

    def count(self, status: str) -> int:
        return sum(1 for r in self.recipients if r.status == status)

    @property
    def complete(self) -> bool:
        """Every recipient is paid or deliberately skipped."""
        done = (STATUS_SENT, STATUS_ALREADY_PAID, STATUS_SKIPPED)
        return self.stopped is None and all(r.status in done for r in self.recipients)


@dataclass(frozen=True)
class PlannedBatch:
    """One batch of a dry run."""

    reason: str
    recipients: int
    first_line: int
    last_line: int
    gas_estimate: int
    gas_limit: int


@dataclass(frozen=True)
class AirdropPlan:
    """A dry run: what would be sent, and what it would cost now. Nothing was sent."""

    kind: Kind
    recipients: int
    already_paid: int
    skipped: int
    in_flight: int
    """Recipients in batches an earlier run left in flight: settled by the next real run."""
    gas: GasPlan
    batches: tuple[PlannedBatch, ...]
    gas_price: int
    """eth_gasPrice now, in wei."""
    max_fee_per_gas: int

    @property
    def total_gas(self) -> int:
        return sum(b.gas_estimate for b in self.batches)

    @property
    def cost_wei(self) -> int:
        return self.total_gas * self.gas_price

    @property
    def max_cost_wei(self) -> int:
        """What the signer must hold: every gas limit at the max fee."""
        return sum(b.gas_limit for b in self.batches) * self.max_fee_per_gas


# -- the target -----------------------------------------------------------------------------------


def open_target(chain: Chain, program: str | ProgramRecord, kind: Kind, valid_until: int = 0) -> Target:
    """The program's points token or card, with the token's decimals and (cards) the tiers read from chain."""
    spec = KINDS[kind]
    record = program if isinstance(program, ProgramRecord) else load_program(chain, program)
    chain.require_chain_id(record.chain_id, f"program {record.name!r}")
    contracts: dict[str, Contract] = {}
    for name in CONTRACTS:
        address: Any = record.addresses[name]
        contracts[name] = chain.w3.eth.contract(address=address, abi=cast(Any, load_artifact(name).abi))
    points, card = contracts["LoyaltyPoints"], contracts["MembershipCard"]
    decimals = int(points.functions.decimals().call())
    tiers: tuple[str, ...] = ()
    if kind == "cards":
        count = int(card.functions.tierCount().call())
        tiers = tuple(str(card.functions.tierName(i).call()) for i in range(count))
        if not 0 <= valid_until < 2**64:
            raise InputError(f"valid_until {valid_until} is not a unix time in seconds")
        now = int(chain.w3.eth.get_block("latest")["timestamp"])
        if valid_until and valid_until < now:
            raise InputError(
                f"the card expiry {valid_until} is in the past (chain time {now}); pass a later one"
            )
    return Target(
        chain,
        spec,
        contracts[spec.contract],
        contracts,
        ErrorDecoder(contracts),
        decimals,
        tiers,
        valid_until,
    )


def _load(target: Target, csv_path: Path, options: AirdropOptions) -> list[Recipient]:
    return load_recipients(
        target.kind.name,
        csv_path,
        decimals=target.decimals,
        tiers=target.tiers,
        default_reason=options.reason,
        merge=options.merge,
    )


def _call_params(target: Target, sender: str, data: bytes) -> Any:
    return {"from": sender, "to": target.contract.address, "data": data}


def estimate_batch(target: Target, sender: str, data: bytes) -> int | None:
    """eth_estimateGas of a batch; a revert raises its decoded error; None if the node finds no gas
    limit that works (e.g. more than a block holds)."""
    try:
        return int(target.chain.w3.eth.estimate_gas(_call_params(target, sender, data)))
    except ContractLogicError as exc:
        raise target.decoder.decode(revert_data(exc)) from None
    except Web3RPCError:
        return None


def size_batches(
    target: Target, sender: Sender, batches: Sequence[Batch], plan: GasPlan
) -> Iterator[SizedBatch]:
    """Each batch estimated on the node, halved until its estimate fits the budget."""
    queue = deque(batches)
    while queue:
        batch = queue.popleft()
        data = batch_calldata(target.kind.name, batch, target.valid_until)
        estimate = estimate_batch(target, sender.address, data)
        if estimate is None or estimate > plan.budget:
            if len(batch.recipients) == 1:
                raise TransactionError(
                    f"line {batch.recipients[0].line}: one recipient alone needs "
                    f"{'more gas than a block holds' if estimate is None else f'{estimate:,} gas'}, "
                    f"above the per-batch budget of {plan.budget:,}"
                )
            first, second = split_batch(batch)
            queue.extendleft((second, first))
            continue
        yield SizedBatch(batch, data, estimate, gas_limit_for(estimate, plan))


# -- batches → signed transactions → node → receipts ------------------------------------------------


def sign_batches(
    target: Target, sender: Sender, window: Sequence[SizedBatch], signed_block: int
) -> list[NewBatch]:
    """Sign a window of batches (EIP-1559) with consecutive nonces from the chain's pending count."""
    fees = sender.fees()
    first_nonce = sender.resync_nonce()
    signed = []
    for offset, sized in enumerate(window):
        tx: Any = {
            "type": 2,
            "chainId": target.chain.chain_id,
            "nonce": first_nonce + offset,
            "to": target.contract.address,
            "value": 0,
            "data": sized.data,
            "gas": sized.gas_limit,
            **fees,
        }
        raw = bytes(sender.account.sign_transaction(tx).raw_transaction)
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


def collect_receipts(chain: Chain, hashes: Sequence[str]) -> list[dict[str, Any]]:
    """The receipts of broadcast transactions, polled in JSON-RPC batches. Their logs are not decoded
    (a batch has hundreds); on timeout the batches stay "sent" in the journal for the next run."""
    receipts: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + RECEIPT_TIMEOUT_S
    while len(receipts) < len(hashes):
        missing = [h for h in hashes if h not in receipts]
        found = _rpc_batch(chain, [("eth_getTransactionReceipt", [h]) for h in missing])
        receipts.update((h, r) for h, r in zip(missing, found, strict=True) if r)
        if len(receipts) < len(hashes):
            if time.monotonic() > deadline:
                raise TransactionError(
                    f"{len(hashes) - len(receipts)} batch transaction(s) not mined within "
                    f"{RECEIPT_TIMEOUT_S:.0f}s; run the same command again to resume"
                )
            time.sleep(RECEIPT_POLL_S)
    return [receipts[h] for h in hashes]


def explain_revert(target: Target, sender: str, data: bytes, block: int, tx_hash: str) -> TransactionError:
    """Why a mined batch reverted: its call replayed and the revert decoded.

    Replayed first on the state before its block, then (when other transactions in the same block
    made the difference, e.g. an earlier batch reaching the supply cap) on the state after it.
    """
    for state in (block - 1, block):
        try:
            target.chain.w3.eth.call(_call_params(target, sender, data), state)
        except ContractLogicError as exc:
            return target.decoder.decode(revert_data(exc), tx_hash=tx_hash)
        except Web3RPCError as exc:
            return TransactionError(f"batch transaction {tx_hash} reverted: {exc}", tx_hash)
    return TransactionError(
        f"batch transaction {tx_hash} reverted, and its replay does not (out of gas, or state that "
        "changed within its block)",
        tx_hash,
    )


def outcome_of(
    target: Target, batch_id: int, sender: str, data: bytes, tx_hash: str, receipt: dict[str, Any]
) -> Outcome:
    """A receipt as the journal records it: confirmed, or failed with the decoded revert."""
    block, gas_used = _int(receipt["blockNumber"]), _int(receipt["gasUsed"])
    if _int(receipt["status"]) == 1:
        return Outcome(batch_id, "confirmed", block=block, gas_used=gas_used)
    error = explain_revert(target, sender, data, block, tx_hash)
    return Outcome(batch_id, "failed", block=block, gas_used=gas_used, error=str(error))


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


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
    receipts = collect_receipts(target.chain, [s.tx_hash for s in signed])
    outcomes = [
        outcome_of(target, i, s.sender, w.data, s.tx_hash, r)
        for i, s, w, r in zip(ids, signed, window, receipts, strict=True)
    ]
    record_outcomes(journal, outcomes)
    return outcomes


# -- resume -----------------------------------------------------------------------------------------


def _rpc_batch(chain: Chain, requests: Sequence[tuple[str, list[Any]]]) -> list[Any]:
    """The results of a JSON-RPC batch; any error answer stops the run (nothing is guessed)."""
    responses = rpc_batch(chain, requests)
    for response in responses:
        if "error" in response:
            raise TransactionError(f"the node answered with an error: {response['error']}")
    return [response.get("result") for response in responses]


def _on_chain(chain: Chain, tx_hashes: Sequence[str]) -> list[bool]:
    """Whether the node knows each transaction (mined, or pending in its pool)."""
    if not tx_hashes:
        return []
    requests = [("eth_getTransactionByHash", [h]) for h in tx_hashes]
    requests += [("eth_getTransactionReceipt", [h]) for h in tx_hashes]
    results = _rpc_batch(chain, requests)
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
        answers = broadcast(sender, [b.raw_tx for b in resend])
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
                record_outcomes(journal, outcomes)
                journal.note_error(batch.id, str(answer))
                raise TransactionError(
                    f"the node refuses to relay batch transaction {batch.tx_hash} again: {answer}; "
                    "nothing new was sent: fix the cause and run the same command again"
                )
    if known:
        receipts = collect_receipts(target.chain, [b.tx_hash for b in known])
        outcomes += [
            outcome_of(
                target,
                b.id,
                b.sender,
                batch_calldata(target.kind.name, _batch_of(b.reason, b.recipients), target.valid_until),
                b.tx_hash,
                r,
            )
            for b, r in zip(known, receipts, strict=True)
        ]
    record_outcomes(journal, outcomes)
    return outcomes


def _batch_of(reason: str, entries: Sequence[JournalEntry]) -> Batch:
    return Batch(reason, tuple(Recipient(e.line, e.address, e.value, reason) for e in entries))


# -- cards: who already holds one -------------------------------------------------------------------


def existing_members(target: Target, addresses: Sequence[str]) -> set[str]:
    """The addresses that already hold a card (enrolling them would revert the whole batch)."""
    if target.kind.name != "cards" or not addresses:
        return set()
    selector = "0x" + function_signature_to_4byte_selector("balanceOf(address)").hex()
    members: set[str] = set()
    for start in range(0, len(addresses), MEMBER_CHECK_CHUNK):
        chunk = addresses[start : start + MEMBER_CHECK_CHUNK]
        requests = [
            (
                "eth_call",
                [{"to": target.contract.address, "data": selector + a[2:].lower().rjust(64, "0")}, "latest"],
            )
            for a in chunk
        ]
        for address, result in zip(chunk, _rpc_batch(target.chain, requests), strict=True):
            if int(result, 16) != 0:
                members.add(address)
    return members


# -- the whole run ----------------------------------------------------------------------------------


def journal_header(target: Target, csv_path: Path, options: AirdropOptions) -> JournalHeader:
    extra: dict[str, Any] = (
        {"reason": options.reason, "merge": options.merge}
        if target.kind.name == "points"
        else {"valid_until": target.valid_until}
    )
    return JournalHeader(
        csv_digest=file_digest(csv_path),
        kind=target.kind.name,
        chain_id=target.chain.chain_id,
        contract=str(target.contract.address),
        options=extra,
    )


def default_results_path(csv_path: Path) -> Path:
    """``drop.csv`` → ``drop.results.csv``, beside the CSV."""
    return csv_path.with_name(csv_path.stem + ".results.csv")


def run_airdrop(
    chain: Chain,
    program: str | ProgramRecord,
    kind: Kind,
    csv_path: str | os.PathLike[str],
    account: LocalAccount,
    options: AirdropOptions | None = None,
    *,
    on_progress: ProgressCallback | None = None,
) -> AirdropReport:
    """Pay every recipient of the CSV exactly once, resuming whatever an earlier run left."""
    opts = options or AirdropOptions()
    path = Path(csv_path)
    target = open_target(chain, program, kind, opts.valid_until)
    header = journal_header(target, path, opts)  # the digest of the bytes about to be read
    recipients = _load(target, path, opts)
    sender = Sender(chain, account, target.decoder)
    with Journal.open(opts.journal or default_journal_path(path), header) as journal:
        paid_before = journal.paid()
        reconciled = reconcile_journal(target, sender, journal)
        covered = journal.covered()
        todo = [r for r in recipients if r.address not in covered]
        skipped = existing_members(target, [r.address for r in todo])
        todo = [r for r in todo if r.address not in skipped]
        plan = gas_plan(target.kind, int(chain.w3.eth.get_block("latest")["gasLimit"]), opts.batch_size)
        progress = _Progress(len(recipients) - len(todo), len(recipients), on_progress)
        outcomes, stopped = send_batches(
            target, sender, journal, plan_batches(todo, plan.max_recipients), plan, progress
        )
        report = build_report(
            target.kind.name, path, journal, recipients, paid_before, skipped,
            [*reconciled, *outcomes], stopped, opts.results or default_results_path(path),
        )  # fmt: skip
    write_results_csv(report)
    return report


@dataclass
class _Progress:
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
    progress: _Progress | None = None,
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


def airdrop_points(
    chain: Chain,
    program: str | ProgramRecord,
    csv_path: str | os.PathLike[str],
    account: LocalAccount,
    options: AirdropOptions | None = None,
    *,
    on_progress: ProgressCallback | None = None,
) -> AirdropReport:
    """Issue the points of a ``address,amount[,reason]`` CSV (see :func:`run_airdrop`)."""
    return run_airdrop(chain, program, "points", csv_path, account, options, on_progress=on_progress)


def airdrop_cards(
    chain: Chain,
    program: str | ProgramRecord,
    csv_path: str | os.PathLike[str],
    account: LocalAccount,
    options: AirdropOptions | None = None,
    *,
    on_progress: ProgressCallback | None = None,
) -> AirdropReport:
    """Enrol the members of an ``address,tier`` CSV (see :func:`run_airdrop`)."""
    return run_airdrop(chain, program, "cards", csv_path, account, options, on_progress=on_progress)


def plan_airdrop(
    chain: Chain,
    program: str | ProgramRecord,
    kind: Kind,
    csv_path: str | os.PathLike[str],
    account: LocalAccount,
    options: AirdropOptions | None = None,
) -> AirdropPlan:
    """The dry run: validate, plan and estimate every batch, price it; sends and writes nothing."""
    opts = options or AirdropOptions()
    path = Path(csv_path)
    target = open_target(chain, program, kind, opts.valid_until)
    header = journal_header(target, path, opts)
    recipients = _load(target, path, opts)
    sender = Sender(chain, account, target.decoder)
    journal = Journal.read_only(opts.journal or default_journal_path(path), header)
    paid: set[str] = set()
    in_flight: set[str] = set()
    if journal is not None:
        with journal:
            paid = set(journal.paid())
            in_flight = journal.covered() - paid
    todo = [r for r in recipients if r.address not in paid and r.address not in in_flight]
    skipped = existing_members(target, [r.address for r in todo])
    todo = [r for r in todo if r.address not in skipped]
    plan = gas_plan(target.kind, int(chain.w3.eth.get_block("latest")["gasLimit"]), opts.batch_size)
    planned = tuple(
        PlannedBatch(
            s.batch.reason,
            len(s.batch.recipients),
            s.batch.recipients[0].line,
            s.batch.recipients[-1].line,
            s.estimate,
            s.gas_limit,
        )
        for s in size_batches(target, sender, plan_batches(todo, plan.max_recipients), plan)
    )
    return AirdropPlan(
        kind=kind,
        recipients=len(recipients),
        already_paid=len(paid),
        skipped=len(skipped),
        in_flight=len(in_flight),
        gas=plan,
        batches=planned,
        gas_price=int(chain.w3.eth.gas_price),
        max_fee_per_gas=sender.fees()["maxFeePerGas"],
    )


# -- journal → report -------------------------------------------------------------------------------


def build_report(
    kind: Kind,
    csv_path: Path,
    journal: Journal,
    recipients: Sequence[Recipient],
    paid_before: dict[str, str],
    skipped: set[str],
    outcomes: Sequence[Outcome],
    stopped: str | None,
    results_csv: Path | None,
) -> AirdropReport:
    """Each recipient's status from the journal, in file order."""
    paid = journal.paid()
    in_flight = journal.covered() - set(paid)
    failures = journal.last_failures()
    rows = []
    for r in recipients:
        if r.address in paid_before:
            row = RecipientResult(
                r.line, r.address, r.value, r.reason, STATUS_ALREADY_PAID, paid_before[r.address]
            )
        elif r.address in paid:
            row = RecipientResult(r.line, r.address, r.value, r.reason, STATUS_SENT, paid[r.address])
        elif r.address in skipped:
            row = RecipientResult(
                r.line, r.address, r.value, r.reason, STATUS_SKIPPED, detail="already a member"
            )
        elif r.address in in_flight:
            detail = "sent; the receipt was not seen: the next run looks it up on chain"
            row = RecipientResult(r.line, r.address, r.value, r.reason, STATUS_IN_FLIGHT, detail=detail)
        elif r.address in failures:
            tx_hash, error = failures[r.address]
            row = RecipientResult(r.line, r.address, r.value, r.reason, STATUS_FAILED, tx_hash, error)
        else:
            row = RecipientResult(r.line, r.address, r.value, r.reason, STATUS_NOT_SENT, detail=stopped or "")
        rows.append(row)
    confirmed = [o for o in outcomes if o.state == "confirmed"]
    gas = sum(o.gas_used or 0 for o in confirmed)
    return AirdropReport(kind, csv_path, journal.path, results_csv, tuple(rows), len(confirmed), gas, stopped)


def write_results_csv(report: AirdropReport) -> Path | None:
    """``line,address,amount|tier,reason,status,tx_hash,detail`` for every recipient (atomic write)."""
    if report.results_csv is None:
        return None
    path = report.results_csv
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["line", "address", KINDS[report.kind].value_column, "reason", "status", "tx_hash", "detail"]
        )
        for r in report.recipients:
            writer.writerow([r.line, r.address, r.value, r.reason, r.status, r.tx_hash, r.detail])
    tmp.replace(path)
    return path
