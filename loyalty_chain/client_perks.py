"""The catalog half of :class:`~loyalty_chain.client.LoyaltyClient`: perks, redemptions, gasless requests.

A mixin over the client's ``catalog`` contract, ``sender`` and ``decoder``; only the client uses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError

from .decoding import ErrorDecoder, revert_data
from .delivery import Sender, TxResult
from .errors import InputError, InsufficientFundsError, TransactionError, is_insufficient_funds
from .records import Perk, PerkSpec, Redemption
from .relay_policy import RelayPolicy, check_relay
from .values import checked_address, checked_amount, reason_text

if TYPE_CHECKING:
    from .chain import Chain

DEFAULT_REDEMPTION_TTL_S = 3600
"""How long a gasless redemption request stays valid unless a deadline is given."""


class PerkActions:
    """Perks and redemptions; mixed into :class:`~loyalty_chain.client.LoyaltyClient`."""

    chain: Chain
    catalog: Contract
    sender: Sender
    decoder: ErrorDecoder

    @property
    def address(self) -> str:
        raise NotImplementedError

    def tier_index(self, tier: int | str) -> int:
        raise NotImplementedError

    def _perk_args(self, spec: PerkSpec) -> tuple[Any, ...]:
        title = spec.title.encode()
        if not title or len(title) > 32:
            raise InputError(f"perk title must be 1..32 bytes of UTF-8, got {spec.title!r}")
        return (
            title.ljust(32, b"\0"),
            checked_amount(spec.price, "price", bits=96),
            self.tier_index(spec.min_tier),
            checked_amount(spec.stock, "stock", bits=32),
            checked_amount(spec.per_wallet, "per-wallet limit", allow_zero=True, bits=16),
            checked_amount(spec.start, "start", allow_zero=True, bits=32),
            checked_amount(spec.end, "end", allow_zero=True, bits=32),
            bool(spec.active),
        )

    def add_perk(self, spec: PerkSpec, *, key: str | None = None) -> Perk:
        result = self.sender.send(self.catalog.functions.addPerk(*self._perk_args(spec)), key=key)
        perk_id = int(result.event("PerkAdded").args["perkId"])
        return Perk(perk_id, spec, 0)

    def edit_perk(self, perk_id: int, spec: PerkSpec) -> TxResult:
        return self.sender.send(
            self.catalog.functions.updatePerk(checked_amount(perk_id, "perk id"), *self._perk_args(spec))
        )

    def perk(self, perk_id: int) -> Perk:
        try:
            values = self.catalog.functions.perk(checked_amount(perk_id, "perk id")).call()
        except (ContractCustomError, ContractLogicError) as exc:
            raise self.decoder.decode(revert_data(exc)) from None
        title, price, min_tier, stock, per_wallet, start, end, active, sold = values
        spec = PerkSpec(
            reason_text(title),
            int(price),
            int(min_tier),
            int(stock),
            int(per_wallet),
            int(start),
            int(end),
            bool(active),
        )
        return Perk(perk_id, spec, int(sold))

    def perks(self) -> list[Perk]:
        return [self.perk(i) for i in range(1, int(self.catalog.functions.perkCount().call()) + 1)]

    def redeem(
        self, perk_id: int, quantity: int = 1, *, max_cost: int | None = None, key: str | None = None
    ) -> Redemption:
        """Redeem as this client's account (the member pays the gas), burning at most ``max_cost``
        points (default: the price read now times ``quantity``, so a price edit mined first fails it)."""
        perk = checked_amount(perk_id, "perk id")
        units = checked_amount(quantity, "quantity")
        limit = self._max_cost(perk, units, max_cost)
        try:
            call = self.catalog.functions.redeem(perk, units, limit)
            return self._redemption(self.sender.send(call, key=key))
        except TransactionError as exc:
            if is_insufficient_funds(exc):  # members often hold no ETH: point to the gasless path
                raise InsufficientFundsError(self.address, str(exc), gasless=True) from None
            raise

    def redemption_request(
        self,
        member: str,
        perk_id: int,
        quantity: int = 1,
        *,
        deadline: int | None = None,
        relayer: str | None = None,
        max_cost: int | None = None,
    ) -> dict[str, Any]:
        """The EIP-712 typed data (``eth_signTypedData_v4`` JSON) the member's wallet signs.

        It names the relayer (default: this client's account, the one that will :meth:`relay` it;
        only it may submit it) and the most points it may burn (default: the price now times
        ``quantity``), which the wallet shows the member.
        """
        from .gasless import redemption_typed_data

        who = checked_address(member, "member")
        perk, units = checked_amount(perk_id, "perk id"), checked_amount(quantity, "quantity")
        return redemption_typed_data(
            chain_id=self.chain.chain_id,
            catalog=str(self.catalog.address),
            member=who,
            relayer=checked_address(relayer, "relayer") if relayer is not None else self.address,
            perk_id=perk,
            quantity=units,
            max_cost=self._max_cost(perk, units, max_cost),
            nonce=int(self.catalog.functions.nonces(who).call()),
            deadline=deadline if deadline is not None else self._chain_time() + DEFAULT_REDEMPTION_TTL_S,
        )

    def relay(
        self,
        typed_data: dict[str, Any],
        signature: str,
        *,
        policy: RelayPolicy | None = None,
        key: str | None = None,
    ) -> Redemption:
        """Submit a member's signed request as the relayer (this client's account pays the gas).

        Checked before any gas is spent: catalog, chain, relayer, nonce, deadline, the signer, and
        the relay ``policy`` (default :class:`RelayPolicy`: no contract members, a gas ceiling).
        """
        from .relay_policy import relay_call

        call = relay_call(self.catalog, typed_data, signature, relayer=self.address)
        gas = check_relay(self.sender, call, typed_data, signature, policy or RelayPolicy())
        return self._redemption(self.sender.send(call, gas=gas, key=key))

    def cancel_requests(self) -> TxResult:
        """Use up this account's current request nonce: a signed request not relayed yet never will be."""
        return self.sender.send(self.catalog.functions.invalidateNonce())

    def _max_cost(self, perk_id: int, quantity: int, max_cost: int | None) -> int:
        if max_cost is not None:
            return checked_amount(max_cost, "max cost", allow_zero=True)
        return self.perk(perk_id).spec.price * quantity

    def _chain_time(self) -> int:
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])

    def _redemption(self, result: TxResult) -> Redemption:
        ev = result.event("PerkRedeemed")
        return Redemption(
            redemption_id=int(ev.args["redemptionId"]),
            perk_id=int(ev.args["perkId"]),
            member=str(ev.args["member"]),
            quantity=int(ev.args["quantity"]),
            points_burned=int(ev.args["pointsBurned"]),
            tx=result,
        )
