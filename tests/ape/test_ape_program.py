"""An ape user's own accounts sign for the library: ``ape test``'s accounts are its test accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loyalty_chain import LoyaltyClient, PerkSpec, ProgramOptions, connect, deploy_program, sign_typed_data


def test_ape_test_accounts_deploy_issue_redeem_and_sign(accounts: Any, networks: Any, tmp_path: Path) -> None:
    chain = connect(networks.provider.http_uri)
    brand_account, alice = accounts[0], accounts[1]  # ape TestAccount objects, not LocalAccounts
    record = deploy_program(chain, ProgramOptions("ape-cafe"), brand_account, root=tmp_path)
    brand = LoyaltyClient(chain, record, brand_account)
    brand.enroll(alice.address)
    brand.issue(alice.address, 300, "welcome")
    perk = brand.add_perk(PerkSpec("Espresso", price=100))
    LoyaltyClient(chain, record, alice).redeem(perk.perk_id)
    request = brand.redemption_request(alice.address, perk.perk_id)
    brand.relay(request, sign_typed_data(alice, request))
    assert brand.balance(alice.address) == 100
