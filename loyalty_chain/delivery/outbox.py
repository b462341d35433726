"""Getting signed transactions mined, whatever the node and the network do meanwhile.

An :class:`Outbox` drives a list of :class:`Flight`\\ s (one nonce each) from unsigned to final::

    planned ─► signed ─► sent ─► mined ─► final
                 │         │  ▲      │
                 │         │  └──────┘ reorged away: back to sent (the same bytes are re-sent)
                 │         └──► replaced   its nonce mined another transaction: it never will
                 └────────────► refused    the node said no for good (e.g. insufficient funds)

The rules that make it trustworthy:

- **The hash is known before sending**, so an error never means "failed": a lost answer, "already
  known" and "nonce too low" all leave the flight *sent*, and what the chain does decides. A
  flight is ``replaced`` only when its nonce is mined and none of its hashes has a receipt after
  the receipt lag has had time to pass.
- **Mined is seen by the account's nonce** (one ``eth_getTransactionCount`` per new block and
  sender), and only then are receipts fetched: about one receipt request per transaction, polled
  at the chain's block pace.
- **Pool pressure is backpressure**: "txpool is full" and friends keep a flight signed and halve the
  window; it is sent again, same bytes, when something mines.
- **Stuck flights are looked at, not timed out**: a sent flight that has not mined for a few blocks
  is looked up; gone from the pool → the same bytes again; priced under the base fee → replaced at
  the same nonce with a ≥12.5% bump, up to the cap. Every version's hash is kept; whichever mines
  settles it.
- **A gap is never left**: a refused nonce below an accepted one is filled with a 0-value
  transfer to ourselves; refused nonces at the top are given back to the :class:`NonceManager`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..chain import Chain
from ..decoding import hex_int
from ..errors import (
    FeeCapError,
    OutcomeUnknownError,
    RpcLimitError,
    RpcUnavailableError,
    TransactionError,
)
from .fees import Fees, Pricer
from .finality import Confirmations, finalize
from .flights import FILLER_GAS, Flight, Listener, Tx, Version, classify_send_error
from .pace import Head, Pace
from .signing import sign_eip1559, tx_hash

STUCK_BLOCKS = 3
"""A sent flight not mined after this many new blocks is looked up (dropped? underpriced?)."""
STUCK_MIN_S = 2.0
"""…and after at least this long, so a fast devnet's blocks don't make us impatient."""
REPLACED_AFTER_CHECKS = 6
"""Receipt misses (with backoff, ~30 s in all) after the nonce mined before a flight is replaced."""


@dataclass(frozen=True)
class OutboxOptions:
    confirmations: Confirmations = 1
    """New blocks on top before a mined flight is final (1: mined is enough), or ``"finalized"``."""
    max_in_flight: int = 2_000
    max_in_flight_gas: int | None = None
    """Gas limits in flight at once; None: one block's gas (an automining node mines one block per
    submission and would leave the rest pending)."""
    stall_timeout_s: float = 600.0
    """Give up (OutcomeUnknownError) when nothing has progressed for this long."""


class Outbox:
    """Drives flights of one chain to final. See the module docstring for the rules."""

    def __init__(
        self,
        chain: Chain,
        pricer: Pricer,
        options: OutboxOptions | None = None,
        listener: Listener | None = None,
        pace: Pace | None = None,
    ) -> None:
        self.chain = chain
        self.pace = pace or Pace(chain)
        self.pricer = pricer
        self.options = options or OutboxOptions()
        self.listener = listener
        self.on_signed: Callable[[Sequence[Flight]], None] | None = None
        """Called with newly signed versions before they are broadcast (journals write them down)."""
        self.on_mined: Callable[[Flight], None] | None = None
        self.window = self.options.max_in_flight
        self._nonce_block = -1
        self._mined_nonce: dict[str, int] = {}

    def _written(self, flights: Sequence[Flight]) -> None:
        """Tell :attr:`on_signed` of newly signed versions (before they are broadcast)."""
        if self.on_signed is not None:
            self.on_signed(flights)

    def _say(self, message: str) -> None:
        if self.listener is not None:
            self.listener(message)

    # -- signing ------------------------------------------------------------------------------

    def _sign(self, flight: Flight, fees: Fees) -> Version:
        self.pricer.reserve(flight.key, flight.tx.gas, fees)
        raw = sign_eip1559(
            flight.signer.key,
            self.chain.chain_id,
            flight.nonce,
            flight.tx.to,
            flight.tx.value,
            flight.tx.data,
            flight.tx.gas,
            fees,
        )
        version = Version(raw, tx_hash(raw), dict(fees))
        flight.versions.append(version)
        if flight.state == "planned":
            flight.state = "signed"
        return version

    def _fees_now(self, started: float) -> Fees:
        """Fees to sign at, waiting while the base fee is over the cap (FeeCapError past the wait)."""
        head = self.pace.last or self.pace.head()
        while self.pricer.over_cap(head.base_fee):
            waited = time.monotonic() - started
            if waited > self.pricer.policy.wait_for_s:
                raise FeeCapError(head.base_fee, self.pricer.cap or 0, waited)
            self._say(
                f"waiting: base fee {head.base_fee / 1e9:,.2f} gwei is over the cap of "
                f"{(self.pricer.cap or 0) / 1e9:,.2f} gwei"
            )
            time.sleep(max(self.pace.poll_interval(), 0.5))
            head = self.pace.head()
        return self.pricer.price(head.base_fee)

    def sign(self, flights: Sequence[Flight], started: float | None = None) -> None:
        """Sign planned flights at today's fees now (waiting while over the cap, counted from
        ``started``), and tell :attr:`on_signed`: for callers that write them down before anything
        is broadcast."""
        unsigned = [f for f in flights if not f.versions]
        if not unsigned:
            return
        fees = self._fees_now(time.monotonic() if started is None else started)
        for f in unsigned:
            self._sign(f, fees)
        self._written(unsigned)

    def send(self, flights: Sequence[Flight]) -> None:
        """Broadcast signed flights once (what the node answers decides each one's state)."""
        self._broadcast([f for f in flights if f.state == "signed"], self.pace.last or self.pace.head())

    # -- driving ------------------------------------------------------------------------------

    def drive(self, flights: Sequence[Flight]) -> None:
        """Sign, send and watch ``flights`` (consecutive nonces per signer, planned or already
        signed) until every one is final, refused or replaced. Raises FeeCapError /
        BudgetExceededError before signing more than the limits allow, OutcomeUnknownError when
        the node stops answering or nothing progresses for ``stall_timeout_s``; the flights keep
        their state either way."""
        try:
            self._drive(list(flights))
        except (RpcUnavailableError, RpcLimitError) as exc:
            unsure = [f for f in flights if f.state in ("sent", "mined")]
            if unsure:
                raise OutcomeUnknownError(
                    [h for f in unsure for h in f.hashes], [f.nonce for f in unsure], str(exc)
                ) from None
            raise

    def _drive(self, flights: list[Flight]) -> None:
        started = last_progress = time.monotonic()
        head = self.pace.head()
        gas_cap = self.options.max_in_flight_gas or self.pace.block_gas or 30_000_000
        while True:
            active = [f for f in flights if f.state in ("sent", "mined")]
            queue = [f for f in flights if f.state in ("planned", "signed")]
            if not active and not queue:
                break
            # signed ones the node pushed back go again whatever the window: later nonces of
            # ours may wait behind them; the window only holds back signing new ones
            batch = [f for f in queue if f.versions]
            room = min(self.window, self.options.max_in_flight) - len(active) - len(batch)
            used_gas = sum(f.tx.gas for f in active + batch)
            for f in (f for f in queue if not f.versions):
                if room <= 0 or ((batch or active) and used_gas + f.tx.gas > gas_cap):
                    break
                batch.append(f)
                used_gas += f.tx.gas
                room -= 1
            if batch:
                self.sign(batch, started)
                self._broadcast(batch, head)
            if self._settle_refused(flights):
                continue
            time.sleep(self.pace.wait())  # quick looks after an accepted broadcast, else a poll interval
            new_head = self.pace.head()
            progressed = self._poll(flights, new_head, new_head.number != head.number)
            head = new_head
            self.pace.looked(progressed)
            if progressed:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > self.options.stall_timeout_s:
                stuck = [f for f in flights if f.state in ("sent", "mined", "signed")]
                raise OutcomeUnknownError(
                    [h for f in stuck for h in f.hashes],
                    [f.nonce for f in stuck],
                    f"nothing mined for {self.options.stall_timeout_s:.0f}s",
                )

    def _broadcast(self, flights: Sequence[Flight], head: Head, *, versions: str = "latest") -> None:
        calls = [("eth_sendRawTransaction", ["0x" + f.versions[-1].raw.hex()]) for f in flights]
        try:
            # a lost answer is not asked again by the transport (a provider that loses 5% of send
            # answers loses nearly every batch of 100): the next poll looks the hash up instead
            answers = self.chain.batch(calls, resend_lost=False)
        except (RpcUnavailableError, RpcLimitError) as exc:
            # maybe delivered: the chain will tell (a stuck check re-sends the same bytes if not)
            answers = [{"error": {"message": f"answer lost: {exc}", "lost": True}}] * len(flights)
        pressure = False
        now = time.monotonic()
        for flight, answer in zip(flights, answers, strict=True):
            error = answer.get("error")
            kind = "accepted" if error is None or error.get("lost") else classify_send_error(error)
            if kind == "accepted":
                self.pace.accepted()
                flight.state = "sent"
                flight.sent_block, flight.sent_at = head.number, now
                flight.lost = bool(error and error.get("lost"))
            elif kind == "pressure":
                pressure = True
            elif kind == "underpriced":
                fees = self.pricer.bump(flight.versions[-1].fees, head.base_fee)
                if fees is not None and flight.state == "signed":
                    # never sent: a re-signed version at today's price replaces nothing
                    flight.versions.pop()
                    self._sign(flight, fees)
                    self._written([flight])
            else:
                flight.state = "refused"
                flight.error = str(error.get("message", error) if isinstance(error, dict) else error)
                self.pricer.release(flight.key)
        if pressure:
            self.window = max(1, min(self.window, len(flights)) // 2)
            self._say(f"the node's pool is under pressure: {self.window} transaction(s) in flight at most")

    def _settle_refused(self, flights: list[Flight]) -> bool:
        """Fill each gap under an accepted nonce with a 0-value transfer to ourselves (refused nonces
        at the top are given back later, see :func:`release_unused`). True if fillers were added."""
        added = False
        for f in list(flights):
            if f.state != "refused":
                continue
            if f.filler:
                raise TransactionError(
                    f"nonce {f.nonce} of {f.signer.address} was refused ({f.error}) and the gap it leaves "
                    "could not be filled either; later transactions of this account wait behind it: fix "
                    "the cause (e.g. fund the account) and run again"
                )
            above = any(
                g.signer == f.signer and g.nonce > f.nonce and g.state not in ("planned", "signed", "refused")
                for g in flights
            )
            if above and not any(g.filler and g.signer == f.signer and g.nonce == f.nonce for g in flights):
                flights.append(Flight(Tx(f.signer.address, b"", FILLER_GAS), f.signer, f.nonce, filler=True))
                added = True
        return added

    def _poll(self, flights: list[Flight], head: Head, new_block: bool) -> bool:
        """Read what the chain did; True if anything settled or mined.

        Each account's mined nonce is read once per new block (and at the first poll); receipts
        are fetched only for flights under it, each on its own backoff while its receipt lags."""
        progressed = False
        self._resend_unknown([f for f in flights if f.state == "sent" and f.lost], head)
        sent = [f for f in flights if f.state == "sent"]
        if sent and (new_block or head.number != self._nonce_block):
            senders = sorted({f.signer.address for f in sent})
            counts = self.chain.batch([("eth_getTransactionCount", [s, "latest"]) for s in senders])
            self._mined_nonce.update(
                {s: hex_int(c.get("result", "0x0")) for s, c in zip(senders, counts, strict=True)}
            )
            self._nonce_block = head.number
            waiting = [f for f in sent if f.nonce >= self._mined_nonce.get(f.signer.address, 0)]
            self._check_stuck(waiting, head, min_blocks=STUCK_BLOCKS, min_age=STUCK_MIN_S)
        elif sent:
            # no new block: a node with nothing left to mine (e.g. all dropped) stays still
            waiting = [f for f in sent if f.nonce >= self._mined_nonce.get(f.signer.address, 0)]
            self._check_stuck(waiting, head, min_blocks=0, min_age=STUCK_MIN_S * 4)
        now = time.monotonic()
        due = [
            f
            for f in flights
            if f.state == "sent"
            and f.nonce < self._mined_nonce.get(f.signer.address, 0)
            and now >= f.next_check
        ]
        progressed |= self._fetch_receipts(due, now)
        mined = [f for f in flights if f.state == "mined"]
        progressed |= finalize(self.chain, self.pricer, mined, head, self.options.confirmations, self._say)
        return progressed

    def _fetch_receipts(self, due: list[Flight], now: float) -> bool:
        if not due:
            return False
        hashes = [(f, h) for f in due for h in f.hashes]
        answers = self.chain.batch([("eth_getTransactionReceipt", [h]) for _, h in hashes])
        found: dict[int, dict[str, Any]] = {}
        for (flight, _), answer in zip(hashes, answers, strict=True):
            receipt = answer.get("result")
            if receipt:
                found[id(flight)] = receipt
        progressed = False
        missing: list[Flight] = []
        for flight in due:
            receipt = found.get(id(flight))
            if receipt is None:
                missing.append(flight)
                continue
            flight.receipt = receipt
            flight.state = "mined"
            price = hex_int(receipt.get("effectiveGasPrice", 0) or 0)
            self.pricer.settle(flight.key, hex_int(receipt["gasUsed"]), price)
            if self.on_mined is not None:
                self.on_mined(flight)
            progressed = True
        for flight in missing:
            flight.misses += 1
            flight.next_check = now + min(8.0, 0.5 * 2**flight.misses)
            if flight.misses >= REPLACED_AFTER_CHECKS and not self._any_mined(flight):
                flight.state = "replaced"
                flight.error = f"nonce {flight.nonce} was used by another transaction"
                self.pricer.release(flight.key)
                progressed = True
        return progressed

    def _any_mined(self, flight: Flight) -> bool:
        """Whether the node says one of the flight's versions is in a block (its receipt lags)."""
        answers = self.chain.batch([("eth_getTransactionByHash", [h]) for h in flight.hashes])
        return any((a.get("result") or {}).get("blockNumber") for a in answers)

    def _resend_unknown(self, lost: list[Flight], head: Head) -> None:
        """Flights whose send answer was lost: the lowest nonce of each account is looked up once;
        unknown to the node → those flights' same bytes again (a request reaches the node whole or
        not at all; anything else unknown is the stuck check's)."""
        if not lost:
            return
        lowest: dict[str, Flight] = {}
        for flight in sorted(lost, key=lambda f: f.nonce):
            lowest.setdefault(flight.signer.address, flight)
            flight.lost = False
        heads = list(lowest.values())
        known = self.chain.batch([("eth_getTransactionByHash", [f.versions[-1].tx_hash]) for f in heads])
        unknown = {f.signer.address for f, a in zip(heads, known, strict=True) if not a.get("result")}
        again = [f for f in lost if f.signer.address in unknown]
        if again:
            self._broadcast(again, head)

    def _check_stuck(self, waiting: list[Flight], head: Head, *, min_blocks: int, min_age: float) -> None:
        """Look at flights that should have mined by now: re-price the underpriced, re-send the
        dropped. Only the lowest nonce of each account is looked up: the rest queue behind it."""
        now = time.monotonic()
        old = [f for f in waiting if head.number - f.sent_block >= min_blocks and now - f.sent_at >= min_age]
        if not old:
            return
        again: list[Flight] = []
        rest: list[Flight] = []
        for flight in old:
            if flight.versions[-1].fees["maxFeePerGas"] >= head.base_fee:
                rest.append(flight)
                continue
            fees = self.pricer.bump(flight.versions[-1].fees, head.base_fee)
            if fees is None:
                self._say(
                    f"waiting: nonce {flight.nonce} is priced under the base fee "
                    f"({head.base_fee / 1e9:,.2f} gwei) and the cap leaves no room to replace it"
                )
                flight.sent_block, flight.sent_at = head.number, now
                continue
            self._sign(flight, fees)
            self._written([flight])
            again.append(flight)
        if again:
            price = again[-1].versions[-1].fees["maxFeePerGas"] / 1e9
            self._say(f"re-priced {len(again)} transaction(s) at {price:,.2f} gwei")
        lowest: dict[str, Flight] = {}
        for flight in sorted(rest, key=lambda f: f.nonce):
            lowest.setdefault(flight.signer.address, flight)
        heads = list(lowest.values())
        known = self.chain.batch([("eth_getTransactionByHash", [f.versions[-1].tx_hash]) for f in heads])
        dropped = {f.signer.address for f, a in zip(heads, known, strict=True) if not a.get("result")}
        for flight in rest:
            if flight.signer.address in dropped:
                again.append(flight)  # gone from the pool, or never got there: the same bytes again
            else:
                flight.sent_block, flight.sent_at = head.number, now
        if again:
            self._broadcast(again, head)
