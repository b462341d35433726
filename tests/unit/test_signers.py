"""Signers: a LocalAccount as is, ape's accounts turned into one, anything else refused clearly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from loyalty_chain.errors import AccountError
from loyalty_chain.signers import as_signer

KEY = "0x" + "11" * 32
ADDRESS = Account.from_key(KEY).address


@dataclass
class ApeTestAccountLike:
    """What ape's TestAccount carries (ape_test.accounts.TestAccount: private_key, address)."""

    private_key: str
    address: str


@dataclass
class ApeKeyfileAccountLike:
    """What ape's KeyfileAccount carries (ape_accounts.accounts.KeyfileAccount: keyfile_path, address)."""

    keyfile_path: Path
    address: str


def test_a_local_account_is_taken_as_it_is() -> None:
    local = Account.from_key(KEY)
    assert as_signer(local) is local


def test_an_ape_test_account_signs_with_its_key() -> None:
    signer = as_signer(ApeTestAccountLike(KEY, ADDRESS))
    assert signer.address == ADDRESS


def test_an_ape_account_whose_key_is_not_its_address_is_refused() -> None:
    with pytest.raises(AccountError, match="says it is"):
        as_signer(ApeTestAccountLike(KEY, "0x" + "22" * 20))


def test_an_ape_keyfile_account_is_decrypted_with_apes_passphrase_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyfile = tmp_path / "brand.json"
    keyfile.write_text(__import__("json").dumps(Account.encrypt(KEY, "s3cret", kdf="pbkdf2", iterations=2)))
    monkeypatch.setenv("APE_ACCOUNTS_brand_PASSPHRASE", "s3cret")
    assert as_signer(ApeKeyfileAccountLike(keyfile, ADDRESS)).address == ADDRESS


@pytest.mark.parametrize("thing", ["dev:0", KEY, 42, None])
def test_anything_else_is_refused_saying_what_to_pass(thing: object) -> None:
    with pytest.raises(AccountError, match=r"cannot sign with .*pass an eth-account LocalAccount"):
        as_signer(thing)


def test_a_pasted_private_key_is_not_repeated_in_the_error() -> None:
    with pytest.raises(AccountError) as caught:
        as_signer(KEY)
    assert "11" * 32 not in str(caught.value)


def test_the_library_takes_an_ape_account_wherever_it_takes_a_signer(chain: Any, tmp_path: Path) -> None:
    from loyalty_chain import LoyaltyClient, ProgramOptions, deploy_program, sign_typed_data
    from loyalty_chain.records import PerkSpec

    def ape_like(index: int) -> ApeTestAccountLike:
        local = chain.dev_account(index)
        return ApeTestAccountLike("0x" + bytes(local.key).hex(), local.address)

    brand_account, alice = ape_like(0), ape_like(1)
    record = deploy_program(chain, ProgramOptions("ape-cafe"), brand_account, root=tmp_path)
    brand = LoyaltyClient(chain, record, brand_account)
    brand.enroll(alice.address)
    brand.issue(alice.address, 300)
    perk = brand.add_perk(PerkSpec("Espresso", price=100))
    LoyaltyClient(chain, record, alice).redeem(perk.perk_id)
    request = brand.redemption_request(alice.address, perk.perk_id)
    brand.relay(request, sign_typed_data(alice, request))
    assert brand.balance(alice.address) == 100
