"""One account's writes, every one of them through the delivery rules.

``Sender.send`` is the careful path (simulate → a decoded revert before anything is sent; then
deliver and wait); ``send_many`` the fast one (gas limits known in advance, signed locally, sent
in JSON-RPC batches, mined receipts collected together); ``send_txs`` the generic one under both
(plain transfers, contract creation). Any of them takes an idempotency ``key``: the first outcome
under a key is the only one, whatever retries follow (:mod:`.operations`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError

from ..chain import TX_GAS_CAP, Chain
from ..decoding import ErrorDecoder, Event, explain_revert, hex_int, revert_data
from ..errors import NeverMinedError, TransactionError
from .fees import FeePolicy, Fees, Pricer
from .finality import Confirmations, checked_confirmations
from .flights import Flight, Listener, Tx, Version, plan, release_unused
from .nonces import NonceManager
from .operations import OperationsJournal, StoredVersion, digest_of
from .outbox import Outbox, OutboxOptions
from .pace import DEFAULT_BLOCK_GAS, Pace
from .signing import Signer, calldata

GAS_MARGIN = 1.2
"""Multiplier on a gas estimate when the careful path estimates."""


@dataclass(frozen=True)
class DeliveryOptions:
    """How writes are delivered. Every field has a default that suits the chain."""

    fees: FeePolicy = field(default_factory=FeePolicy)
    confirmations: Confirmations | None = None
    """Blocks on top of a transaction's before it counts (None: 1 on local chains, 3 elsewhere), or
    ``"finalized"``: until the node's finalized block covers it."""
    stall_timeout_s: float = 600.0
    """Nothing mined for this long → OutcomeUnknownError (the transactions may still mine)."""
    journal: Path | None = None
    """The operations journal for idempotency keys (None: ``~/.loyalty-chain/operations.sqlite``)."""
    shared_account: bool = False
    """Other processes send for this account too, each write started under a lock they all hold
    (the gateway's sender lock): the next nonce is read from the chain before every write, not
    only when none of this process's is in flight."""

    def confirmations_for(self, chain: Chain) -> Confirmations:
        if self.confirmations is not None:
            return checked_confirmations(self.confirmations)
        return 1 if chain.is_local else 3


@dataclass(frozen=True)
class TxResult:
    """What a mined transaction did; its events are decoded when first asked for."""

    tx_hash: str
    block: int
    gas_used: int
    logs: tuple[Any, ...] = field(default=(), repr=False, compare=False)
    decoder: ErrorDecoder | None = field(default=None, repr=False, compare=False)
    block_hash: str = field(default="", compare=False)

    @cached_property
    def events(self) -> tuple[Event, ...]:
        """The program's events this transaction emitted (decoding thousands of receipts up front
        would cost more than sending them)."""
        return self.decoder.decode_logs(self.logs) if self.decoder else ()

    def event(self, name: str) -> Event:
        for ev in self.events:
            if ev.name == name:
                return ev
        raise KeyError(f"transaction {self.tx_hash} emitted no {name} event")


@dataclass(frozen=True)
class InFlight:
    """Writes begun by :meth:`Sender.start_txs`, to be finished by :meth:`Sender.finish_txs`."""

    txs: list[Tx]
    flights: list[Flight]
    outbox: Outbox
    key: str | None


class Sender:
    """Signs and delivers for one account."""

    def __init__(
        self,
        chain: Chain,
        account: LocalAccount,
        decoder: ErrorDecoder,
        options: DeliveryOptions | None = None,
        *,
        listener: Listener | None = None,
    ) -> None:
        self.chain = chain
        self.account = account
        self.decoder = decoder
        self.options = options or DeliveryOptions()
        self.listener = listener
        self.signer = Signer.from_account(account)
        self.nonces = NonceManager.of(chain, self.signer.address)
        self._pricer: Pricer | None = None
        self._journal: OperationsJournal | None = None
        self.key_prefix: str | None = None
        """With no key given, each write of this sender gets ``PREFIX#n`` (n counts its writes): a
        command line run once per ``--idempotency-key`` names each of its writes the same way."""
        self._writes = 0
        self.pace = Pace(chain)
        """The chain's head and block time, shared by every outbox of this sender."""

    @property
    def address(self) -> str:
        return self.signer.address

    @property
    def pricer(self) -> Pricer:
        """The fee policy applied, started at the first write (the budget counts from there)."""
        if self._pricer is None:
            base = int(self.chain.w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
            tip = 0 if self.chain.is_local else int(self.chain.w3.eth.max_priority_fee)
            self._pricer = Pricer.start(
                self.options.fees, self.chain.chain_id, self.chain.is_local, base, tip
            )
        return self._pricer

    def fees(self) -> Fees:
        """What a transaction signed now would offer (the fee cap applied)."""
        base = int(self.chain.w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
        return self.pricer.price(base)

    def block_gas_limit(self) -> int:
        """The chain's block gas limit (read once: it changes rarely and only a little)."""
        if self.pace.block_gas is None:
            self.pace.head()
        return self.pace.block_gas or DEFAULT_BLOCK_GAS

    def outbox(self) -> Outbox:
        return Outbox(
            self.chain,
            self.pricer,
            OutboxOptions(
                confirmations=self.options.confirmations_for(self.chain),
                stall_timeout_s=self.options.stall_timeout_s,
            ),
            self.listener,
            self.pace,
        )

    # -- the careful path ---------------------------------------------------------------------

    def simulate(self, call: ContractFunction) -> int:
        """Estimate gas, turning a revert into our decoded error before anything is sent."""
        try:
            return int(call.estimate_gas({"from": self.address}))
        except (ContractCustomError, ContractLogicError) as exc:
            raise self.decoder.decode(revert_data(exc)) from None

    def _key(self, key: str | None) -> str | None:
        if key is not None or self.key_prefix is None:
            return key
        self._writes += 1
        return f"{self.key_prefix}#{self._writes}"

    def send(self, call: ContractFunction, *, gas: int | None = None, key: str | None = None) -> TxResult:
        """Simulate (decoded revert, nothing sent), deliver, wait; the revert of a mined failure decoded.

        Under a ``key`` already used, nothing is simulated or signed: the first outcome is returned
        (waited for if it is still in flight)."""
        key = self._key(key)
        earlier = self._journal_open().find(key, self.chain.chain_id, self.address) if key else None
        replay = earlier is not None and bool(earlier.versions)
        if gas is not None or replay:
            limit = gas or 0
        else:
            limit = min(int(self.simulate(call) * GAS_MARGIN), TX_GAS_CAP)
        (result,) = self.send_many([call], gas=limit, key=key)
        if isinstance(result, TransactionError):
            raise result
        return result

    # -- the fast path ------------------------------------------------------------------------

    def send_many(
        self, calls: Sequence[ContractFunction], *, gas: int | Sequence[int], key: str | None = None
    ) -> list[TxResult | TransactionError]:
        """Every call delivered (signed locally with the given gas limits, sent in batches); each
        outcome in its place: a :class:`TxResult`, or the decoded error of one that failed."""
        txs = self._txs(calls, gas)
        receipts = self.send_txs(txs, key=key)
        return [
            r if isinstance(r, TransactionError) else self._result(r, txs[i]) for i, r in enumerate(receipts)
        ]

    @staticmethod
    def _txs(calls: Sequence[ContractFunction], gas: int | Sequence[int]) -> list[Tx]:
        limits = [gas] * len(calls) if isinstance(gas, int) else list(gas)
        if len(limits) != len(calls):
            raise ValueError(f"{len(calls)} calls but {len(limits)} gas limits")
        return [
            Tx(str(c.address), calldata(c), min(g, TX_GAS_CAP)) for c, g in zip(calls, limits, strict=True)
        ]

    def send_txs(
        self, txs: Sequence[Tx], *, key: str | None = None, what: str = ""
    ) -> list[dict[str, Any] | TransactionError]:
        """The generic path: raw receipts (status checked by the caller) or the refusal, in order."""
        if not txs:
            return []
        return self.finish_txs(self.start_txs(txs, key=key, what=what, broadcast=False))

    def start_txs(
        self, txs: Sequence[Tx], *, key: str | None = None, what: str = "", broadcast: bool = True
    ) -> InFlight:
        """Reserve nonces for ``txs`` (under ``key``: begin or resume its operation) and, with
        ``broadcast``, sign every one, write it down and broadcast it now; :meth:`finish_txs` then
        waits for them. Pipelining: start the next writes while earlier ones are being mined
        (one thread starts them in nonce order, others finish them)."""
        key = self._key(key)
        outbox = self.outbox()
        if self.options.shared_account:
            self.nonces.catch_up()
        if key is None:
            flights = plan(self.signer, self.nonces, txs)
        else:
            journal = self._journal_open()
            digest = digest_of([(t.to, t.data, t.value) for t in txs])
            earlier = journal.begin(
                key, self.chain.chain_id, self.address, digest, what or f"{len(txs)} transaction(s)", len(txs)
            )
            flights = (
                plan(self.signer, self.nonces, txs)
                if earlier is None
                else self._resume(txs, earlier.versions)
            )
            outbox.on_signed = self._remembering(key, flights)
        if broadcast:
            try:
                outbox.sign(flights)  # written down (on_signed) before anything is broadcast
                outbox.send(flights)
            except BaseException:
                release_unused(self.nonces, flights)
                raise
        return InFlight(list(txs), flights, outbox, key)

    def finish_txs(self, started: InFlight) -> list[dict[str, Any] | TransactionError]:
        """Drive writes begun by :meth:`start_txs` until every one is final, refused or replaced."""
        results = self._drive(started.flights, started.outbox)
        if started.key is not None:
            self._journal_open().settle(started.key, self.chain.chain_id, self.address)
        return results

    def start_many(
        self, calls: Sequence[ContractFunction], *, gas: int | Sequence[int], key: str | None = None
    ) -> InFlight:
        """:meth:`send_many`'s first half: every call signed, written down and broadcast now;
        :meth:`finish_many` waits for the outcomes."""
        return self.start_txs(self._txs(calls, gas), key=key)

    def finish_many(self, started: InFlight) -> list[TxResult | TransactionError]:
        receipts = self.finish_txs(started)
        return [
            r if isinstance(r, TransactionError) else self._result(r, started.txs[i])
            for i, r in enumerate(receipts)
        ]

    def _remembering(self, key: str, flights: list[Flight]) -> Callable[[Sequence[Flight]], None]:
        """What the outbox calls with newly signed versions: the journal writes them down."""
        journal = self._journal_open()
        positions = {id(f): i for i, f in enumerate(flights)}

        def remember(signed: Sequence[Flight]) -> None:
            journal.add_versions(
                key,
                self.chain.chain_id,
                self.address,
                [
                    StoredVersion(positions[id(f)], f.nonce, v.tx_hash, v.raw)
                    for f in signed
                    if id(f) in positions
                    for v in f.versions
                ],
            )

        return remember

    def _resume(self, txs: Sequence[Tx], stored: Sequence[StoredVersion]) -> list[Flight]:
        """The flights of an operation started earlier: signed ones watched again (same bytes,
        every version), never-signed ones planned at new nonces."""
        by_position: dict[int, list[StoredVersion]] = {}
        for v in stored:
            by_position.setdefault(v.position, []).append(v)
        flights: list[Flight] = []
        fresh = [i for i in range(len(txs)) if i not in by_position]
        new = iter(plan(self.signer, self.nonces, [txs[i] for i in fresh]) if fresh else [])
        for i, tx in enumerate(txs):
            versions = by_position.get(i)
            if versions is None:
                flights.append(next(new))
                continue
            flight = Flight(tx, self.signer, versions[0].nonce, state="signed")
            flight.versions = [Version(v.raw, v.tx_hash, fees_of(v.raw)) for v in versions]
            flights.append(flight)
        return flights

    def _drive(
        self, flights: list[Flight], outbox: Outbox | None = None
    ) -> list[dict[str, Any] | TransactionError]:
        outbox = outbox or self.outbox()
        try:
            outbox.drive(flights)
        finally:
            release_unused(self.nonces, flights)
        out: list[dict[str, Any] | TransactionError] = []
        for f in flights:
            if f.receipt is not None:
                out.append(f.receipt)
            elif f.state == "replaced":
                out.append(NeverMinedError(str(f.error), f.hashes[-1] if f.hashes else None))
            else:
                out.append(TransactionError(f"the node refused the transaction: {f.error}"))
        return out

    def _journal_open(self) -> OperationsJournal:
        if self._journal is None:
            self._journal = OperationsJournal(self.options.journal)
        return self._journal

    def _result(self, receipt: dict[str, Any], tx: Tx) -> TxResult | TransactionError:
        tx_hash = str(receipt["transactionHash"])
        block = hex_int(receipt["blockNumber"])
        if hex_int(receipt["status"]):
            logs = tuple(receipt["logs"])
            return TxResult(
                tx_hash,
                block,
                hex_int(receipt["gasUsed"]),
                logs,
                self.decoder,
                str(receipt.get("blockHash", "")),
            )
        params = {"from": self.address, "to": tx.to, "data": tx.data}
        return explain_revert(self.chain, self.decoder, params, block, tx_hash)


def fees_of(raw: bytes) -> Fees:
    """The fee fields of a signed type-2 transaction (for bumping one read back from a journal)."""
    import rlp

    fields = rlp.decode(raw[1:])
    return {
        "maxPriorityFeePerGas": int.from_bytes(fields[2], "big"),
        "maxFeePerGas": int.from_bytes(fields[3], "big"),
    }


def send_from_many(
    chain: Chain, items: Sequence[tuple[Sender, Tx]]
) -> list[dict[str, Any] | TransactionError]:
    """One transaction from each of many accounts (e.g. members redeeming), delivered together."""
    if not items:
        return []
    flights = [plan(s.signer, s.nonces, [tx])[0] for s, tx in items]
    sender = items[0][0]
    outbox = sender.outbox()
    try:
        outbox.drive(flights)
    finally:
        for (s, _), f in zip(items, flights, strict=True):
            release_unused(s.nonces, [f])
    return [
        f.receipt if f.receipt is not None else TransactionError(f"not mined: {f.error}") for f in flights
    ]
