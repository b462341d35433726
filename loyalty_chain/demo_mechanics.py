"""The demo's issue 12 part: a donation, an early-access perk and a conversion to a partner brand.

Runs after the demo's redemptions, with members that hold ETH (they paid their own gas there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from .chain import Chain
from .client import LoyaltyClient
from .errors import ContractRevertError
from .mechanics.early_access import set_early_access
from .mechanics.exchange import Exchange
from .mechanics.exchange_record import ExchangeTerms
from .mechanics.giving import Giving
from .program import ProgramOptions, deploy_program
from .records import PerkSpec

Say = Callable[[str], None]

DONATION = 20
CONVERSION = 100
EARLY_DAYS = 7
EARLY_PRICE = 50


@dataclass(frozen=True)
class MechanicsResult:
    donated: int
    donations: int
    charity: str
    early_perk_id: int
    early_perk_title: str
    early_redemptions: int
    early_refused: int
    converted_in: int
    converted_out: int
    partner: str
    gas_used: int
    transactions: int


def run_mechanics(
    chain: Chain,
    brand: LoyaltyClient,
    members: Sequence[LocalAccount],
    tier_of: dict[str, str],
    say: Say,
    root: Path,
) -> MechanicsResult:
    """Giving, early access and a partner exchange with ``members`` (who hold ETH and some points)."""
    gas = txs = 0
    rich = [m for m in members if brand.balance(m.address) >= DONATION + CONVERSION]

    giving = Giving.enable(brand)
    charity = giving.add_charity(chain.dev_account(3).address, "Coffee Farmers Fund")
    txs += 4
    donations = [
        Giving(LoyaltyClient(chain, brand.record, m)).donate(charity.charity_id, DONATION) for m in rich[:3]
    ]
    gas += sum(d.gas_used for d in donations)
    txs += len(donations)
    say(
        f"{len(donations)} members donated {DONATION} points each to {charity.name} "
        "(burned, totalled on chain)"
    )

    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    perk = brand.add_perk(PerkSpec("Harvest preview", price=EARLY_PRICE, start=now + EARLY_DAYS * 86_400))
    set_early_access(brand, perk.perk_id, now - 1, min_tier="Gold")
    txs += 2
    able = [m for m in members if brand.balance(m.address) >= EARLY_PRICE]
    gold = next((m for m in able if tier_of[m.address] == "Gold"), None)
    other = next((m for m in able if tier_of[m.address] != "Gold"), None)
    early = refused = 0
    if gold is not None:
        redeemed = LoyaltyClient(chain, brand.record, gold).redeem(perk.perk_id)
        early, gas, txs = 1, gas + redeemed.tx.gas_used, txs + 1
    if other is not None:
        try:
            LoyaltyClient(chain, brand.record, other).redeem(perk.perk_id)
        except ContractRevertError as exc:
            refused = int(exc.error_name == "CatalogNotEarlyEligible")
    say(
        f"'Harvest preview' opens in {EARLY_DAYS} days, to Gold members now: {early} Gold member redeemed "
        f"early, {refused} {tier_of[other.address] if other else ''} member refused (checked live)"
    )

    partner_key = chain.dev_account(4)
    partner = deploy_program(chain, ProgramOptions("crumb-bakery", symbol="CRUMB"), partner_key, root=root)
    terms = ExchangeTerms(100, 80, minimum=100, cap=1_000, period=30 * 86_400)
    Exchange.open(chain, brand.record, partner, terms, brand.account, root=root)
    Exchange.load(chain, brand.record.name, partner.name, partner_key, root=root).open_sides()
    txs += 4
    member = next(m for m in members if m not in (gold, other) and brand.balance(m.address) >= CONVERSION)
    done = Exchange.load(chain, brand.record.name, partner.name, member, root=root).convert(CONVERSION)
    gas += done.gas_used
    txs += 1
    say(
        f"a member converted {done.amount_in} BEAN into {done.amount_out} CRUMB at the partner bakery "
        f"(burned here, issued there, one transaction, {done.gas_used:,} gas)"
    )
    return MechanicsResult(
        donated=sum(d.amount for d in donations),
        donations=len(donations),
        charity=charity.name,
        early_perk_id=perk.perk_id,
        early_perk_title=perk.spec.title,
        early_redemptions=early,
        early_refused=refused,
        converted_in=done.amount_in,
        converted_out=done.amount_out,
        partner=partner.name,
        gas_used=gas,
        transactions=txs,
    )
