"""A member redeems a perk without holding ETH: the brand relays the member's signed request.

    ape run redeem
    python scripts/redeem.py

Deploys a program, enrols a fresh member, gives them points, adds a perk, then runs the gasless
flow: the brand builds the EIP-712 request, the member's wallet signs it, the brand relays it.
"""

from __future__ import annotations

from eth_account import Account

from loyalty_chain.client import LoyaltyClient
from loyalty_chain.gasless import sign_typed_data
from loyalty_chain.program import ProgramOptions, deploy_program
from loyalty_chain.records import PerkSpec
from loyalty_chain.scripting import script_session


def main() -> None:
    with script_session() as (chain, brand_account):
        record = deploy_program(chain, ProgramOptions("redeem-demo"), brand_account)
        brand = LoyaltyClient(chain, record, brand_account)
        member = Account.create()  # a wallet with no ETH at all
        brand.enroll(member.address, "Silver")
        brand.issue(member.address, 150, "welcome")
        perk = brand.add_perk(PerkSpec("Free cappuccino", price=120))

        request = brand.redemption_request(member.address, perk.perk_id)
        signature = sign_typed_data(member, request)  # in real life: the member's wallet
        redemption = brand.relay(request, signature)
        print(
            f"redemption #{redemption.redemption_id}: {member.address} got '{perk.spec.title}' "
            f"for {redemption.points_burned} points without paying gas; "
            f"{brand.balance(member.address)} points left"
        )


if __name__ == "__main__":
    main()
