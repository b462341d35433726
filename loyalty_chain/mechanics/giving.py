"""Giving: charities registered per program, members donating points to them (contracts/CharityRegistry.sol).

A donation burns the member's points through the registry (so it works under every transfer policy)
and adds them to the charity's running total; the brand settles the totals with the charities.

    giving = Giving.enable(brand)            # once, by the program's admin: deploys and wires the registry
    charity = giving.add_charity("0x…", "Food Bank")
    Giving(member_client).donate(charity.charity_id, 50)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from web3.contract.contract import ContractFunction

from ..delivery import TxResult
from ..errors import InputError
from ..program import role
from ..values import checked_address, checked_amount, reason_text
from .addons import addon_contract, addon_sender, attach

if TYPE_CHECKING:
    from web3.contract import Contract

    from ..client import LoyaltyClient

CONTRACT = "CharityRegistry"
ENABLE_HINT = "enable giving first: loyalty-chain giving enable PROGRAM (as the program's admin)"


@dataclass(frozen=True)
class Charity:
    """A registered charity and the points donated to it so far."""

    charity_id: int
    wallet: str
    """Who the brand pays the donated value to (it never receives points)."""
    name: str
    active: bool
    """Whether it accepts donations now."""
    donated: int
    """Points donated so far, in base units."""


@dataclass(frozen=True)
class Donation:
    """One donation, as its ``Donated`` event tells it."""

    member: str
    charity_id: int
    amount: int
    charity_total: int
    """The charity's running total after this donation."""
    tx_hash: str
    gas_used: int


def _name_code(name: str) -> bytes:
    raw = name.strip().encode()
    if not raw or len(raw) > 32:
        raise InputError(f"charity name must be 1..32 bytes of UTF-8, got {name!r}")
    return raw.ljust(32, b"\0")


class Giving:
    """The program's charity registry, acting as the client's account."""

    def __init__(self, client: LoyaltyClient) -> None:
        self.client = client
        self.registry: Contract = addon_contract(client, CONTRACT, ENABLE_HINT)
        self.sender = addon_sender(client, {CONTRACT: self.registry})

    @classmethod
    def enable(cls, client: LoyaltyClient) -> Giving:
        """Deploy the program's charity registry and give it REDEEMER_ROLE on the points (admin, once);
        the client's record (and its file) then name it."""

        def wiring(registry: Contract) -> list[ContractFunction]:
            return [client.points.functions.grantRole(role("REDEEMER_ROLE"), registry.address)]

        attach(client, CONTRACT, (client.points.address, client.address), wiring)
        return cls(client)

    @property
    def address(self) -> str:
        return str(self.registry.address)

    # -- charities (charity manager) ------------------------------------------------------------

    def add_charity(self, wallet: str, name: str, *, key: str | None = None) -> Charity:
        """Register a charity; it accepts donations at once."""
        call = self.registry.functions.addCharity(checked_address(wallet, "charity wallet"), _name_code(name))
        result = self.sender.send(call, key=key)
        charity_id = int(result.event("CharityAdded").args["charityId"])
        return self.charity(charity_id)

    def update_charity(self, charity_id: int, wallet: str, name: str) -> TxResult:
        """Change a charity's wallet and name (its total and active flag stay)."""
        call = self.registry.functions.updateCharity(
            checked_amount(charity_id, "charity id"),
            checked_address(wallet, "charity wallet"),
            _name_code(name),
        )
        return self.sender.send(call)

    def set_active(self, charity_id: int, active: bool) -> TxResult:
        """Open (True) or close a charity to donations."""
        call = self.registry.functions.setCharityActive(
            checked_amount(charity_id, "charity id"), bool(active)
        )
        return self.sender.send(call)

    # -- giving (any member) --------------------------------------------------------------------

    def donate(self, charity_id: int, amount: int, *, key: str | None = None) -> Donation:
        """Donate ``amount`` base units of the account's points to ``charity_id`` (they are burned)."""
        call = self.registry.functions.donate(
            checked_amount(charity_id, "charity id"), checked_amount(amount)
        )
        result = self.sender.send(call, key=key)
        args = result.event("Donated").args
        return Donation(
            str(args["member"]),
            int(args["charityId"]),
            int(args["amount"]),
            int(args["charityTotal"]),
            result.tx_hash,
            result.gas_used,
        )

    # -- views ------------------------------------------------------------------------------------

    def charity(self, charity_id: int) -> Charity:
        from web3.exceptions import ContractCustomError, ContractLogicError

        from ..decoding import revert_data

        try:
            wallet, name, active, donated = self.registry.functions.charity(
                checked_amount(charity_id, "charity id")
            ).call()
        except (ContractCustomError, ContractLogicError) as exc:
            raise self.sender.decoder.decode(revert_data(exc)) from None
        return Charity(charity_id, str(wallet), reason_text(name), bool(active), int(donated))

    def charities(self) -> list[Charity]:
        """Every registered charity, in id order."""
        count = int(self.registry.functions.charityCount().call())
        return [self.charity(i) for i in range(1, count + 1)]

    def find(self, ref: str | int) -> Charity:
        """A charity by id (``3``, ``"3"``) or by its exact name (case-insensitive)."""
        if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
            return self.charity(int(ref))
        wanted = ref.strip().lower()
        matches = [c for c in self.charities() if c.name.lower() == wanted]
        if not matches:
            known = ", ".join(f"{c.charity_id} {c.name}" for c in self.charities()) or "none yet"
            raise InputError(
                f"no charity named {ref!r} in this program (charities: {known}); give its id or name"
            )
        return matches[0]
