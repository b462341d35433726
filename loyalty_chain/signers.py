"""What may sign: an eth-account ``LocalAccount``, or an ape account turned into one.

Every public function that takes a signer (``deploy_program``, ``LoyaltyClient``, the airdrops,
``sign_typed_data`` …) passes it through :func:`as_signer` first, so the layers below only ever see
a ``LocalAccount``. ape is never imported here: its accounts are recognised by what they carry.

- ``LocalAccount`` (``Account.from_key``, ``chain.dev_account(N)``, an unlocked keystore): as is;
- ape's test accounts (``accounts.test_accounts[N]``, the ``accounts`` fixture of ``ape test``)
  carry their private key: turned into a ``LocalAccount`` of the same key;
- ape's keyfile accounts (``accounts.load("ALIAS")``) carry the path of their V3 keystore: it is
  decrypted like ``ape:ALIAS`` (password from ``APE_ACCOUNTS_<alias>_PASSPHRASE``,
  ``LOYALTY_CHAIN_PASSWORD_<ALIAS>``, ``LOYALTY_CHAIN_PASSWORD`` or a hidden prompt);
- anything else is refused with an :class:`~loyalty_chain.errors.AccountError` saying what to pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeAlias

from eth_account import Account
from eth_account.signers.local import LocalAccount

from .errors import AccountError

SignerLike: TypeAlias = LocalAccount | Any
"""A ``LocalAccount`` or an ape account (test or keyfile); see :func:`as_signer`."""

_WHAT_TO_PASS = (
    "pass an eth-account LocalAccount (Account.from_key(...), chain.dev_account(N), "
    "loyalty_chain.unlock(NAME)) or an ape account (accounts.test_accounts[N], accounts.load(ALIAS))"
)


def as_signer(account: SignerLike) -> LocalAccount:
    """``account`` as a ``LocalAccount`` that can sign locally (see the module's docstring)."""
    if isinstance(account, LocalAccount):
        return account
    key = getattr(account, "private_key", None)
    if isinstance(key, str | bytes) and key:
        return _from_key(account, key)
    keyfile = getattr(account, "keyfile_path", None)
    if isinstance(keyfile, Path):
        from .accounts import unlock_ape_keyfile

        return _same_address(account, unlock_ape_keyfile(keyfile))
    # never repeat the value: it may be a private key pasted where an account was expected
    raise AccountError(f"cannot sign with a {type(account).__name__}; {_WHAT_TO_PASS}")


def _from_key(account: Any, key: str | bytes) -> LocalAccount:
    try:
        local = Account.from_key(key)
    except (ValueError, TypeError):
        raise AccountError(
            f"{type(account).__name__} carries a private key that is not a valid one; {_WHAT_TO_PASS}"
        ) from None
    assert isinstance(local, LocalAccount)
    return _same_address(account, local)


def _same_address(account: Any, local: LocalAccount) -> LocalAccount:
    claimed = getattr(account, "address", None)
    if claimed is not None and str(claimed).lower() != local.address.lower():
        raise AccountError(
            f"{type(account).__name__} says it is {claimed} but its key is {local.address}'s; "
            "its keyfile was edited or is damaged"
        )
    return local
