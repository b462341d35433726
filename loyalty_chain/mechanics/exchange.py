"""Partner exchange (coalition): members convert program A's points into program B's in one transaction
(contracts/PartnerExchange.sol: burned in A, issued in B, one ``Exchanged`` event).

    ex = Exchange.open(chain, program_a, program_b, ExchangeTerms(100, 80, minimum=100), brand_a_key)
    Exchange.load(chain, "cafe", "bakery", brand_b_key).open_sides()    # B's admin agrees
    Exchange.load(chain, "cafe", "bakery", member_key).convert(500)     # 500 of A → 400 of B

A program's admin opens its side by granting the agreement its role on the program's token
(REDEEMER_ROLE on A, ISSUER_ROLE on B) and opening it on the agreement; closing revokes that role.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from web3.contract import Contract
from web3.contract.contract import ContractFunction

from ..artifacts import contract_at, load_artifact
from ..chain import Chain
from ..decoding import ErrorDecoder
from ..delivery import DeliveryOptions, Sender, TxResult
from ..deploy import deploy
from ..errors import DeploymentError, InputError
from ..program import load_program, role
from ..registry import ProgramRecord
from ..signers import SignerLike, as_signer
from ..values import checked_address, checked_amount
from .exchange_record import (
    CONTRACT,
    ExchangeRecord,
    ExchangeTerms,
    exchange_path,
    load_exchange_record,
    set_aside_if_stale,
)

SIDE_A, SIDE_B = 0, 1
TOKEN_ROLE = {SIDE_A: "REDEEMER_ROLE", SIDE_B: "ISSUER_ROLE"}
"""The role each side grants the agreement on its own points token."""


@dataclass(frozen=True)
class Conversion:
    member: str
    amount_in: int
    amount_out: int
    fee: int
    tx_hash: str
    gas_used: int


@dataclass(frozen=True)
class ExchangeState:
    open_a: bool
    open_b: bool
    closed: bool

    @property
    def converting(self) -> bool:
        return self.open_a and self.open_b and not self.closed


class Exchange:
    """One recorded agreement from program A to program B, acting as one account."""

    def __init__(
        self,
        chain: Chain,
        record: ExchangeRecord,
        program_a: ProgramRecord,
        program_b: ProgramRecord,
        account: SignerLike,
        delivery: DeliveryOptions | None = None,
    ) -> None:
        self.chain, self.record = chain, record
        self.program_a, self.program_b = program_a, program_b
        self.account = as_signer(account)
        w3 = chain.w3
        self.contract = contract_at(w3, CONTRACT, record.address)
        self.points_a = contract_at(w3, "LoyaltyPoints", program_a.addresses["LoyaltyPoints"])
        self.points_b = contract_at(w3, "LoyaltyPoints", program_b.addresses["LoyaltyPoints"])
        # Later entries win an error selector both define: a balance error is most often A's (the burn),
        # and the agreement's own access errors are its own.
        decoder = ErrorDecoder(
            {
                f"{program_b.name} points": self.points_b,
                f"{program_a.name} points": self.points_a,
                CONTRACT: self.contract,
            }
        )
        self.sender = Sender(chain, self.account, decoder, delivery)

    # -- opening an agreement -----------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        chain: Chain,
        program_a: str | ProgramRecord,
        program_b: str | ProgramRecord,
        terms: ExchangeTerms,
        account: SignerLike,
        *,
        partner_b: str | None = None,
        root: Path | None = None,
        delivery: DeliveryOptions | None = None,
    ) -> Exchange:
        """Deploy an agreement from A to B with ``terms`` (as A's admin), record it, and open the sides
        this account manages: A's always, B's too when it is also B's admin. ``partner_b`` (default: B's
        recorded deployer) receives the role that manages side B."""
        terms.validate()
        a = program_a if isinstance(program_a, ProgramRecord) else load_program(chain, program_a, root)
        b = program_b if isinstance(program_b, ProgramRecord) else load_program(chain, program_b, root)
        if a.name == b.name:
            raise InputError(f"an exchange needs two programs; both sides are {a.name!r}")
        path = exchange_path(chain.chain_id, a.name, b.name, root)
        set_aside_if_stale(chain, a, b, root)  # e.g. a devnet that is gone: the name is free again
        if path.is_file():
            raise DeploymentError(
                f"an exchange from {a.name!r} to {b.name!r} is already recorded ({path}); close it and "
                "remove the record to agree new terms"
            )
        signer = as_signer(account)
        partner = checked_address(partner_b or b.deployer, "partner B")
        points_a = contract_at(chain.w3, "LoyaltyPoints", a.addresses["LoyaltyPoints"])
        if not points_a.functions.hasRole(role("DEFAULT_ADMIN_ROLE"), signer.address).call():
            raise DeploymentError(
                f"{signer.address} is not the admin of program {a.name!r}, so it cannot offer its points in "
                f"an exchange; sign with {a.name}'s admin account (--account)"
            )
        args = (
            a.addresses["LoyaltyPoints"],
            b.addresses["LoyaltyPoints"],
            signer.address,
            partner,
            terms.as_list(),
        )
        sender = Sender(chain, signer, ErrorDecoder({}), delivery)
        deployed = deploy(chain, CONTRACT, *args, sender=sender)
        record = ExchangeRecord(
            a.name,
            b.name,
            chain.chain_id,
            str(deployed.contract.address),
            deployed.tx_hash,
            deployed.block,
            asdict(terms),
            load_artifact(CONTRACT).bytecode_hash,
            root,
        )
        record.save()
        exchange = cls(chain, record, a, b, signer, delivery)
        exchange.open_sides()
        return exchange

    @classmethod
    def load(
        cls,
        chain: Chain,
        program_a: str,
        program_b: str,
        account: SignerLike,
        *,
        root: Path | None = None,
        delivery: DeliveryOptions | None = None,
    ) -> Exchange:
        a, b = load_program(chain, program_a, root), load_program(chain, program_b, root)
        return cls(chain, load_exchange_record(chain, a, b, root), a, b, account, delivery)

    # -- partners -----------------------------------------------------------------------------------

    def sides(self) -> list[int]:
        """The sides this account manages (PARTNER_A_ROLE → A, PARTNER_B_ROLE → B)."""
        me = self.account.address
        return [
            side
            for side, name in ((SIDE_A, "PARTNER_A_ROLE"), (SIDE_B, "PARTNER_B_ROLE"))
            if self.contract.functions.hasRole(role(name), me).call()
        ]

    def _my_sides(self) -> list[int]:
        sides = self.sides()
        if not sides:
            raise InputError(
                f"{self.account.address} manages neither side of the exchange {self.record.program_a}--"
                f"{self.record.program_b}; sign with program {self.record.program_a}'s or "
                f"{self.record.program_b}'s admin account (--account)"
            )
        return sides

    def _token(self, side: int) -> Contract:
        return self.points_a if side == SIDE_A else self.points_b

    def open_sides(self) -> list[TxResult]:
        """Grant the agreement its role on this account's program(s) and open its side(s)."""
        results = []
        for side in self._my_sides():
            token, token_role = self._token(side), role(TOKEN_ROLE[side])
            if not token.functions.hasRole(token_role, self.contract.address).call():
                results.append(self.sender.send(token.functions.grantRole(token_role, self.contract.address)))
            results.append(self.sender.send(self.contract.functions.setOpen(side, True)))
        return results

    def pause_sides(self, pause: bool = True) -> list[TxResult]:
        """Pause (or resume) this account's side(s); the roles stay."""
        calls: list[ContractFunction] = [
            self.contract.functions.setOpen(s, not pause) for s in self._my_sides()
        ]
        return [self.sender.send(c) for c in calls]

    def close(self) -> list[TxResult]:
        """Close the agreement for good from this account's side, and revoke the role(s) it granted."""
        sides = self._my_sides()
        results = [self.sender.send(self.contract.functions.close(sides[0]))]
        for side in sides:
            token, token_role = self._token(side), role(TOKEN_ROLE[side])
            if token.functions.hasRole(token_role, self.contract.address).call():
                results.append(
                    self.sender.send(token.functions.revokeRole(token_role, self.contract.address))
                )
        return results

    # -- members ------------------------------------------------------------------------------------

    def convert(self, amount: int, *, key: str | None = None) -> Conversion:
        """Convert ``amount`` base units of A (the account's) into B's points."""
        result = self.sender.send(self.contract.functions.convert(checked_amount(amount)), key=key)
        args = result.event("Exchanged").args
        return Conversion(
            str(args["member"]),
            int(args["amountIn"]),
            int(args["amountOut"]),
            int(args["fee"]),
            result.tx_hash,
            result.gas_used,
        )

    # -- views --------------------------------------------------------------------------------------

    @property
    def terms(self) -> ExchangeTerms:
        return ExchangeTerms(**self.record.terms)

    def quote(self, amount: int) -> tuple[int, int]:
        """(points of B issued, fee kept back) for ``amount`` of A, by the terms alone."""
        out, fee = self.contract.functions.quote(checked_amount(amount, allow_zero=True)).call()
        return int(out), int(fee)

    def state(self) -> ExchangeState:
        open_a, open_b, closed = self.contract.functions.state().call()
        return ExchangeState(bool(open_a), bool(open_b), bool(closed))

    def remaining(self, member: str) -> tuple[int | None, int | None]:
        """(points of A ``member`` may still convert this period, when the period ends); (None, None)
        without a cap."""
        left, ends = self.contract.functions.remaining(checked_address(member, "member")).call()
        return (None, None) if int(ends) == 0 else (int(left), int(ends))
