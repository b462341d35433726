"""The typed client over one deployed program: points, cards, perks and gasless redemptions.

Every write checks what can be checked locally first (addresses, amounts, tiers) and simulates the
transaction, so a bad argument or a revert is raised as our own error before anything is sent.
Results are small frozen records, not raw receipts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from web3.contract import Contract
from web3.contract.contract import ContractFunction

from .artifacts import contract_at
from .chain import TX_GAS_CAP, Chain
from .client_perks import DEFAULT_REDEMPTION_TTL_S, PerkActions
from .client_reads import BulkReads
from .decoding import ErrorDecoder, Event
from .delivery import DeliveryOptions, Sender, TxResult
from .errors import (
    ChainError,
    InputError,
    PartialBatchError,
    TransactionError,
)
from .expiry import ExpiryTerms, NextExpiry, next_expiry
from .program import ProgramRecord, TransferPolicy, load_program
from .records import Card, Enrolment
from .signers import SignerLike, as_signer
from .values import checked_address, checked_amount, reason_code

if TYPE_CHECKING:
    from .reports import ProgramReport

BATCH_GAS_PER_RECIPIENT = 30_000
"""Upper bound of one fresh recipient in issueBatch/enrollBatch (measured ~25k; see BENCHMARKS.md)."""

BATCH_GAS_OVERHEAD = 80_000
"""Fixed gas of one batch transaction beyond its recipients (intrinsic cost, event, calldata head)."""

ISSUE_GAS = 100_000
"""Gas limit of one ``issue`` (a fresh recipient costs ~75k): known, so never estimated per tx."""

MAX_BATCH = (TX_GAS_CAP - BATCH_GAS_OVERHEAD) // BATCH_GAS_PER_RECIPIENT
"""Most recipients one batch may carry and stay under the EIP-7825 per-transaction cap."""

__all__ = ["DEFAULT_REDEMPTION_TTL_S", "LoyaltyClient"]


# -- the client ---------------------------------------------------------------------------------


class LoyaltyClient(PerkActions, BulkReads):
    """One program on one chain, acting as one account."""

    def __init__(
        self,
        chain: Chain,
        record: ProgramRecord,
        account: SignerLike,
        delivery: DeliveryOptions | None = None,
    ) -> None:
        record_chain = record.chain_id
        chain.require_chain_id(record_chain, f"program {record.name!r}")
        self.chain = chain
        self.record = record
        self.account = as_signer(account)  # a LocalAccount, or an ape account turned into one
        w3 = chain.w3

        def contract(name: str, artifact: str | None = None) -> Contract:
            return contract_at(w3, artifact or name, record.addresses[name])

        self.points = contract("LoyaltyPoints", record.points_contract)  # ExpiringPoints if points expire
        self.card = contract("MembershipCard")
        self.catalog = contract("PerkCatalog")
        self.airdrop = contract("AirdropDistributor")
        self.decoder = ErrorDecoder(
            {
                "LoyaltyPoints": self.points,
                "MembershipCard": self.card,
                "PerkCatalog": self.catalog,
                "AirdropDistributor": self.airdrop,
            }
        )
        self.sender = Sender(chain, self.account, self.decoder, delivery)
        self._tiers: tuple[str, ...] | None = None

    @classmethod
    def load(
        cls, chain: Chain, program: str, account: SignerLike, *, root: Path | None = None
    ) -> LoyaltyClient:
        """The client for the program recorded under ``program`` on this chain."""
        return cls(chain, load_program(chain, program, root), account)

    @property
    def address(self) -> str:
        return str(self.account.address)

    # -- points -------------------------------------------------------------------------------

    def balance(self, holder: str) -> int:
        return int(self.points.functions.balanceOf(checked_address(holder, "holder")).call())

    def total_supply(self) -> int:
        return int(self.points.functions.totalSupply().call())

    def decimals(self) -> int:
        return int(self.points.functions.decimals().call())

    @property
    def expiry(self) -> ExpiryTerms | None:
        """How the program's points expire (epochs, validity), or None if they never do."""
        return ExpiryTerms.from_options(self.record.options)

    def next_expiry(self, holder: str) -> NextExpiry | None:
        """``holder``'s points closest to expiry and when they expire; None if none can expire."""
        terms = self.expiry
        if terms is None:
            return None
        return next_expiry(self.points, checked_address(holder, "holder"), terms)

    def issue(self, to: str, amount: int, reason: str | bytes = "", *, key: str | None = None) -> TxResult:
        """Mint ``amount`` base units to ``to``, tagged with ``reason`` (e.g. "purchase").

        ``key`` (every write takes one) is an idempotency key: the same key again returns the first
        outcome and sends nothing, so a caller that retries until success pays once."""
        call = self.points.functions.issue(
            checked_address(to, "recipient"), checked_amount(amount), reason_code(reason)
        )
        return self.sender.send(call, key=key)

    def issue_many(
        self,
        recipients: Sequence[tuple[str, int]],
        reason: str | bytes = "",
        *,
        batch_size: int = MAX_BATCH,
        key: str | None = None,
    ) -> list[TxResult]:
        """Mint to many in as few transactions as fit under the per-transaction gas cap."""
        if not recipients:
            raise InputError("issue_many needs at least one recipient")
        words = [
            (int(checked_address(a, f"recipient #{i + 1}"), 16) << 96)
            | checked_amount(v, f"amount #{i + 1}", bits=96)
            for i, (a, v) in enumerate(recipients)
        ]
        code = reason_code(reason)
        return self._send_batched(
            lambda chunk: self.points.functions.issueBatch(chunk, code), words, batch_size, key
        )

    def issue_each(
        self, recipients: Sequence[tuple[str, int]], reason: str | bytes = "", *, key: str | None = None
    ) -> list[TxResult | TransactionError]:
        """One ``issue`` transaction per recipient, sent the fast way.

        Everything is checked locally and the first call simulated; then all transactions are
        signed with a known gas limit (no per-transaction estimate), sent in JSON-RPC batches and
        their receipts fetched together. Each outcome is in its place: a failed one is its decoded
        error, and the others stand.
        """
        if not recipients:
            raise InputError("issue_each needs at least one recipient")
        code = reason_code(reason)
        calls = [
            self.points.functions.issue(checked_address(a, f"recipient #{i + 1}"), checked_amount(v), code)
            for i, (a, v) in enumerate(recipients)
        ]
        self.sender.simulate(calls[0])
        return self.sender.send_many(calls, gas=ISSUE_GAS, key=key)

    def set_transfer_policy(self, policy: str | int | TransferPolicy) -> TxResult:
        """Open, locked (only issue, burn and redemption move points) or allowlist (admin)."""
        return self.sender.send(self.points.functions.setTransferPolicy(int(TransferPolicy.parse(policy))))

    def transfer_policy(self) -> TransferPolicy:
        return TransferPolicy(int(self.points.functions.transferPolicy().call()))

    def allow_recipient(self, account: str, allowed: bool = True) -> TxResult:
        """Under the allowlist policy, let holders send points to ``account`` (or stop them; admin)."""
        who = checked_address(account, "recipient")
        return self.sender.send(self.points.functions.setRecipientAllowed(who, allowed))

    def pause(self) -> TxResult:
        """Stop every movement of points (pauser role)."""
        return self.sender.send(self.points.functions.pause())

    def unpause(self) -> TxResult:
        return self.sender.send(self.points.functions.unpause())

    def paused(self) -> bool:
        return bool(self.points.functions.paused().call())

    def transfer(self, to: str, amount: int, *, key: str | None = None) -> TxResult:
        call = self.points.functions.transfer(checked_address(to, "recipient"), checked_amount(amount))
        return self.sender.send(call, key=key)

    def burn(self, amount: int) -> TxResult:
        return self.sender.send(self.points.functions.burn(checked_amount(amount)))

    # -- membership ---------------------------------------------------------------------------

    def tiers(self) -> tuple[str, ...]:
        if self._tiers is None:
            count = int(self.card.functions.tierCount().call())
            self._tiers = tuple(str(self.card.functions.tierName(i).call()) for i in range(count))
        return self._tiers

    def tier_index(self, tier: int | str) -> int:
        names = self.tiers()
        if isinstance(tier, int) and not isinstance(tier, bool):
            if 0 <= tier < len(names):
                return tier
        elif isinstance(tier, str):
            lowered = [n.lower() for n in names]
            if tier.strip().lower() in lowered:
                return lowered.index(tier.strip().lower())
            if tier.strip().isdigit() and int(tier) < len(names):
                return int(tier)
        raise InputError(f"unknown tier {tier!r}; this program's tiers are {', '.join(names)}")

    def enroll(
        self, member: str, tier: int | str = 0, valid_until: int = 0, *, key: str | None = None
    ) -> Enrolment:
        """Issue a membership card to ``member`` at ``tier`` (name or index)."""
        who = checked_address(member, "member")
        index = self.tier_index(tier)
        result = self.sender.send(
            self.card.functions.enroll(
                who, index, checked_amount(valid_until, "valid_until", allow_zero=True, bits=64)
            ),
            key=key,
        )
        event = result.event("MemberEnrolled")
        return Enrolment(member=who, token_id=int(event.args["tokenId"]), tier=index, tx=result)

    def enroll_many(
        self,
        members: Sequence[tuple[str, int | str]],
        valid_until: int = 0,
        *,
        batch_size: int = MAX_BATCH,
        key: str | None = None,
    ) -> list[TxResult]:
        """Issue cards to many members in as few transactions as fit under the gas cap.

        A member who already holds a card by the time its batch is mined is skipped, not an error:
        :meth:`skipped_enrolments` lists them from the results."""
        if not members:
            raise InputError("enroll_many needs at least one member")
        until = checked_amount(valid_until, "valid_until", allow_zero=True, bits=64)
        words = [
            int(checked_address(a, f"member #{i + 1}"), 16) | (self.tier_index(t) << 160) | (until << 168)
            for i, (a, t) in enumerate(members)
        ]
        return self._send_batched(self.card.functions.enrollBatch, words, batch_size, key)

    @staticmethod
    def skipped_enrolments(results: Sequence[TxResult]) -> list[tuple[str, int]]:
        """(member, card it already held) for every member ``enroll_many`` left out."""
        return [
            (str(ev.args["member"]), int(ev.args["tokenId"]))
            for r in results
            for ev in r.events
            if ev.name == "EnrolmentSkipped"
        ]

    def accept_card_transfer(self, accept: bool = True) -> TxResult:
        """Agree (or stop agreeing) to receive a card by transfer; the next card received uses it up."""
        return self.sender.send(self.card.functions.setAcceptsTransfer(bool(accept)))

    def transfer_card(self, to: str) -> TxResult:
        """Give this account's card to ``to``, which must have agreed (:meth:`accept_card_transfer`).

        The card is then on hold for the program's holding period: no perk is redeemed with it meanwhile.
        """
        who = checked_address(to, "recipient")
        token_id = int(self.card.functions.cardOf(self.address).call())
        if token_id == 0:
            raise InputError(f"{self.address} holds no card to transfer")
        return self.sender.send(self.card.functions.transferFrom(self.address, who, token_id))

    def set_tier(self, member: str, tier: int | str) -> TxResult:
        return self.sender.send(
            self.card.functions.setTier(checked_address(member, "member"), self.tier_index(tier))
        )

    def renew(self, member: str, valid_until: int) -> TxResult:
        """Set the card's expiry (unix seconds; 0 = never expires)."""
        until = checked_amount(valid_until, "valid_until", allow_zero=True, bits=64)
        return self.sender.send(self.card.functions.setValidUntil(checked_address(member, "member"), until))

    def set_tier_many(
        self, members: Sequence[tuple[str, int | str]], *, batch_size: int = MAX_BATCH
    ) -> list[TxResult]:
        """Change many members' tiers in as few transactions as fit under the gas cap."""
        if not members:
            raise InputError("set_tier_many needs at least one member")
        words = [
            int(checked_address(a, f"member #{i + 1}"), 16) | (self.tier_index(t) << 160)
            for i, (a, t) in enumerate(members)
        ]
        return self._send_batched(self.card.functions.setTierBatch, words, batch_size)

    def cancel(self) -> TxResult:
        """Give up this account's own card."""
        return self.sender.send(self.card.functions.cancel())

    def revoke(self, member: str) -> TxResult:
        return self.sender.send(self.card.functions.revoke(checked_address(member, "member")))

    def card_of(self, holder: str) -> Card | None:
        who = checked_address(holder, "holder")
        token_id = int(self.card.functions.cardOf(who).call())
        if token_id == 0:
            return None
        _owner, tier, valid_until = self.card.functions.cardInfo(token_id).call()
        active, _ = self.card.functions.activeTierOf(who).call()
        return Card(who, token_id, int(tier), self.tiers()[int(tier)], int(valid_until), bool(active))

    # -- events -------------------------------------------------------------------------------

    def events(
        self, from_block: int | None = None, to_block: int | str = "latest", *, page: int = 5_000
    ) -> list[Event]:
        """Every event of the program's four contracts, oldest first, fetched in pages of blocks."""
        start = self.record.block if from_block is None else from_block
        end = int(self.chain.w3.eth.block_number) if to_block == "latest" else int(to_block)
        addresses = [self.points.address, self.card.address, self.catalog.address, self.airdrop.address]
        out: list[Event] = []
        for lo in range(start, end + 1, page):
            hi = min(end, lo + page - 1)
            # the node's JSON as it comes: web3 would turn each log into an AttributeDict of HexBytes first
            query = {"address": addresses, "fromBlock": hex(lo), "toBlock": hex(hi)}
            (answer,) = self.chain.batch([("eth_getLogs", [query])])
            if "error" in answer:
                raise ChainError(
                    f"reading the program's events in blocks {lo}-{hi} failed: {answer['error']}; "
                    "try a smaller page (events(page=...)) or a node that keeps these blocks' logs"
                )
            out.extend(self.decoder.decode_logs(answer["result"]))
        return out

    def summary(
        self,
        since: int | None = None,
        until: int | None = None,
        *,
        value_per_point: str = "0",
        cache: str | os.PathLike[str] | None = None,
    ) -> ProgramReport:
        """The program's KPIs for ``[since, until]`` (unix seconds; default everything), from the local
        index cache brought up to date first (see :func:`loyalty_chain.reports.program_report`)."""
        from .reports import program_report

        return program_report(
            self.chain, self.record, since=since, until=until, value_per_point=value_per_point, cache=cache
        )

    # -- helpers ------------------------------------------------------------------------------

    def _send_batched(
        self,
        function: Callable[[list[int]], ContractFunction],
        words: list[int],
        batch_size: int,
        key: str | None = None,
    ) -> list[TxResult]:
        """``function`` over ``words`` in chunks of ``batch_size``, each chunk one transaction with a
        gas limit known from its size; the first is simulated, so a role or pause problem surfaces
        before anything is sent."""
        if not 1 <= batch_size <= MAX_BATCH:
            raise InputError(f"batch_size must be 1..{MAX_BATCH}, got {batch_size}")
        calls = [function(words[start : start + batch_size]) for start in range(0, len(words), batch_size)]
        gas = [BATCH_GAS_OVERHEAD + BATCH_GAS_PER_RECIPIENT * len(c.args[0]) for c in calls]
        self.sender.simulate(calls[0])
        return self._all_ok(self.sender.send_many(calls, gas=gas, key=key))

    @staticmethod
    def _all_ok(results: Sequence[TxResult | Exception]) -> list[TxResult]:
        """All results, or :class:`PartialBatchError` carrying the ones that went through too."""
        if any(isinstance(r, Exception) for r in results):
            raise PartialBatchError(results)
        return [r for r in results if isinstance(r, TxResult)]
