"""Signing accounts: encrypted JSON keystores, ape's keystores, and the dev keys of local chains.

A keystore account is one standard Web3 Secret Storage (V3) JSON file, ``<name>.json`` with its
``address``, encrypted by eth-account with the scrypt KDF, file mode 0600, in :func:`keystore_dir`
(``$LOYALTY_CHAIN_KEYSTORE`` or ``~/.loyalty-chain/keystore``). A private key is never written to a
file unencrypted and is never taken from a command line: :func:`import_private_key` exists for the
CLI to call with a key it read from a hidden prompt or from stdin.

Passwords come, in this order, from the ``password`` argument, ``LOYALTY_CHAIN_PASSWORD_<NAME>``
(the account name upper-cased, every other character than A-Z and 0-9 turned into ``_``),
``LOYALTY_CHAIN_PASSWORD``, and last a hidden prompt when stdin is a terminal
(see :func:`password_for`).

:func:`resolve_account` turns what a user typed into a signer:

- ``dev:N`` — dev account N of the chain; refused on any chain that is not local
  (:class:`~loyalty_chain.errors.DevKeyRefusedError`);
- ``ape:NAME`` — ape's keyfile account NAME. ape stores it as a standard V3 keystore at
  ``$APE_DATA_FOLDER/accounts/NAME.json`` (``~/.ape/accounts/NAME.json`` by default), so it is
  decrypted here with eth-account and ape itself is never imported (importing ape is slow and
  does work at import time); ape's own ``APE_ACCOUNTS_NAME_PASSPHRASE`` variable is honoured too;
- anything else — a keystore account of ours by that name.
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import is_hex_address, to_checksum_address

from .chain import Chain
from .errors import AccountError

KEYSTORE_ENV = "LOYALTY_CHAIN_KEYSTORE"
"""Overrides the keystore folder."""

PASSWORD_ENV = "LOYALTY_CHAIN_PASSWORD"
"""The password of every account, unless a per-account variable is set."""

DEFAULT_KEYSTORE = Path("~/.loyalty-chain/keystore")

Kdf = Literal["scrypt", "pbkdf2"]

KEYSTORE_KDF: Kdf = "scrypt"
"""With eth-account's default work factor (n = 2**18), slow to guess on purpose (~1 s per try)."""

KEYSTORE_FILE_MODE = 0o600
KEYSTORE_DIR_MODE = 0o700

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class AccountInfo:
    """A keystore account as listed: no password is needed to know these."""

    name: str
    address: str
    path: Path


def keystore_dir() -> Path:
    """The keystore folder: ``$LOYALTY_CHAIN_KEYSTORE`` or ``~/.loyalty-chain/keystore``."""
    configured = os.environ.get(KEYSTORE_ENV)
    return Path(configured).expanduser() if configured else DEFAULT_KEYSTORE.expanduser()


def password_env_var(name: str) -> str:
    """The per-account password variable: ``LOYALTY_CHAIN_PASSWORD_<NAME>``."""
    return f"{PASSWORD_ENV}_{re.sub(r'[^A-Z0-9]', '_', name.upper())}"


# ---------------------------------------------------------------------------- create and import


def new_account(
    name: str,
    password: str,
    *,
    directory: Path | None = None,
    kdf: Kdf = KEYSTORE_KDF,
    iterations: int | None = None,
) -> AccountInfo:
    """Create account ``name`` with a fresh random key, encrypted with ``password``.

    ``kdf``/``iterations`` are eth-account's (``iterations`` is scrypt's n, a power of two): leave
    them alone except in tests, where a small n makes the keystore fast to write and read.
    """
    path = _new_path(name, directory)
    _check_new_password(name, password)
    key = Account.create().key
    return _write_keystore(name, path, Account.encrypt(key, password, kdf=kdf, iterations=iterations))


def import_private_key(
    name: str,
    password: str,
    key_hex: str,
    *,
    directory: Path | None = None,
    kdf: Kdf = KEYSTORE_KDF,
    iterations: int | None = None,
) -> AccountInfo:
    """Encrypt an existing private key as account ``name``.

    Only for a key read from a hidden prompt or from stdin: never accept one on a command line
    (it would end up in the shell history and in ``ps``). Error messages never repeat the key.
    """
    path = _new_path(name, directory)
    _check_new_password(name, password)
    text = key_hex.strip()
    text = text[2:] if text[:2].lower() == "0x" else text
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raise AccountError(
            f"cannot import {name!r}: a private key is 64 hex digits (32 bytes), optionally after 0x; "
            "check what was pasted"
        )
    try:
        account = _local_account(bytes.fromhex(text))
    except Exception:  # eth-keys' messages may quote the key: never chain them
        raise AccountError(
            f"cannot import {name!r}: that is not a valid secp256k1 private key; check what was pasted"
        ) from None
    encrypted = Account.encrypt(account.key, password, kdf=kdf, iterations=iterations)
    return _write_keystore(name, path, encrypted)


def import_keystore(
    name: str,
    source_json_path: Path | str,
    password: str,
    *,
    directory: Path | None = None,
    kdf: Kdf = KEYSTORE_KDF,
    iterations: int | None = None,
) -> AccountInfo:
    """Copy a V3 keystore (geth, MetaMask export, ape, another loyalty-chain) in as account ``name``.

    The file is checked first: it must decrypt with ``password``, and an ``address`` it names must
    be the key's. The key is then re-encrypted with our own KDF settings (scrypt, eth-account's
    default work factor) under the same password: an imported file's weak KDF (a low scrypt ``n``
    or few pbkdf2 rounds, which make the password quick to guess) is never kept. ``kdf`` and
    ``iterations`` are as for :func:`new_account` (leave them alone except in tests).
    """
    path = _new_path(name, directory)
    source = Path(source_json_path).expanduser()
    keystore = _read_keystore(source, what=f"keystore {source}")
    key = _decrypt(keystore, password, what=f"keystore {source}")
    address = _local_account(key).address
    claimed = keystore.get("address")
    if claimed is not None and _normal_address(claimed) != address:
        raise AccountError(
            f"keystore {source} says it holds {claimed} but its key is {address}'s; "
            "the file was edited or is damaged: export it again"
        )
    return _write_keystore(name, path, Account.encrypt(key, password, kdf=kdf, iterations=iterations))


# ---------------------------------------------------------------------------- list and unlock


def list_accounts(*, directory: Path | None = None) -> list[AccountInfo]:
    """Every keystore account, by name; files that are not keystores with an address are skipped."""
    folder = directory or keystore_dir()
    found = []
    for path in sorted(folder.glob("*.json")):
        if not _NAME.match(path.stem):
            continue
        try:
            address = _normal_address(json.loads(path.read_text(encoding="utf-8")).get("address"))
        except (OSError, ValueError, AttributeError):
            continue
        if address is not None:
            found.append(AccountInfo(name=path.stem, address=address, path=path))
    return found


def unlock(name: str, password: str | None = None, *, directory: Path | None = None) -> LocalAccount:
    """Decrypt keystore account ``name``; the password is found as :func:`password_for` says."""
    path = _existing_path(name, directory)
    keystore = _read_keystore(path, what=f"account {name!r} ({path})")
    secret = password if password is not None else password_for(name)
    return _local_account(_decrypt(keystore, secret, what=f"account {name!r}"))


def password_for(name: str, *, extra_env: tuple[str, ...] = ()) -> str:
    """The password of account ``name`` when none was given.

    From the first set of ``extra_env``, ``LOYALTY_CHAIN_PASSWORD_<NAME>``,
    ``LOYALTY_CHAIN_PASSWORD``; else a hidden prompt on the terminal; with no terminal (CI, a
    pipe) an :class:`AccountError` saying what to set, rather than a hang.
    """
    for variable in (*extra_env, password_env_var(name), PASSWORD_ENV):
        value = os.environ.get(variable)
        if value is not None:
            return value
    if not _stdin_is_tty():
        raise AccountError(
            f"no password for account {name!r}: set {PASSWORD_ENV} (or {password_env_var(name)}) "
            "or run in a terminal"
        )
    import click

    return str(click.prompt(f"Password for account {name!r}", hide_input=True, err=True))


def resolve_account(spec: str, chain: Chain, password: str | None = None) -> LocalAccount:
    """The signer ``spec`` names: ``dev:N``, ``ape:NAME`` or a keystore account name."""
    kind, _, rest = spec.partition(":")
    if kind == "dev" and rest:
        if not rest.isdigit():
            raise AccountError(f"{spec!r}: a dev account is dev:N with N a number, e.g. dev:0")
        return chain.dev_account(int(rest))  # refuses non-local chains
    if kind == "ape" and rest:
        return unlock_ape(rest, password)
    return unlock(spec, password)


# ---------------------------------------------------------------------------- ape


def ape_accounts_dir() -> Path:
    """ape's keyfile accounts: ``$APE_DATA_FOLDER/accounts`` or ``~/.ape/accounts``."""
    data = os.environ.get("APE_DATA_FOLDER")
    return (Path(data).expanduser() if data else Path.home() / ".ape") / "accounts"


def unlock_ape(alias: str, password: str | None = None) -> LocalAccount:
    """Decrypt ape's account ``alias`` (a standard V3 keystore) without importing ape.

    Its password: the argument, ape's ``APE_ACCOUNTS_<alias>_PASSPHRASE``, then as for ours.
    """
    folder = ape_accounts_dir()
    path = folder / f"{alias}.json"
    if not _NAME.match(alias) or not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
        hint = f"ape accounts here: {', '.join(known)}" if known else "none exist (ape accounts import NAME)"
        raise AccountError(f"no ape account named {alias!r} in {folder}; {hint}")
    return unlock_ape_keyfile(path, password)


def unlock_ape_keyfile(path: Path, password: str | None = None) -> LocalAccount:
    """Decrypt the ape keyfile at ``path`` (its alias is the file's stem); passwords as :func:`unlock_ape`."""
    alias = path.stem
    keystore = _read_keystore(path, what=f"ape account {alias!r} ({path})")
    secret = (
        password
        if password is not None
        else password_for(alias, extra_env=(f"APE_ACCOUNTS_{alias}_PASSPHRASE",))
    )
    return _local_account(_decrypt(keystore, secret, what=f"ape account {alias!r}"))


# ---------------------------------------------------------------------------- internals


def _local_account(key: bytes) -> LocalAccount:
    account = Account.from_key(key)
    assert isinstance(account, LocalAccount)
    return account


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):  # replaced or closed stdin
        return False


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise AccountError(
            f"account name {name!r} must be 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (it names a file)"
        )


def _check_new_password(name: str, password: str) -> None:
    if not password:
        raise AccountError(f"refusing to store account {name!r} with an empty password; choose one")


def _new_path(name: str, directory: Path | None) -> Path:
    _check_name(name)
    path = (directory or keystore_dir()) / f"{name}.json"
    if path.exists():
        raise AccountError(f"an account named {name!r} already exists ({path}); choose another name")
    return path


def _existing_path(name: str, directory: Path | None) -> Path:
    folder = directory or keystore_dir()
    path = folder / f"{name}.json"
    if _NAME.match(name) and path.is_file():
        return path
    known = [info.name for info in list_accounts(directory=folder)]
    hint = (
        f"known accounts: {', '.join(known)}"
        if known
        else "there are none yet: create one (loyalty-chain accounts new) or import a keystore"
    )
    raise AccountError(f"no account named {name!r} in {folder}; {hint}")


def _read_keystore(path: Path, *, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AccountError(f"{what}: file not found; check the path") from None
    except (OSError, ValueError) as exc:
        raise AccountError(f"{what}: cannot read it as JSON ({exc}); is it a keystore file?") from None
    crypto = data.get("crypto", data.get("Crypto")) if isinstance(data, dict) else None
    if not isinstance(crypto, dict) or data.get("version") != 3:
        raise AccountError(f"{what}: not a version 3 keystore (no 'crypto' section); export it again")
    return dict(data)


def _decrypt(keystore: dict[str, Any], password: str, *, what: str) -> bytes:
    try:
        return bytes(Account.decrypt(keystore, password))
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise AccountError(f"wrong password for {what}") from None
        raise AccountError(f"{what}: cannot decrypt it ({exc}); the file may be damaged") from None
    except (KeyError, TypeError, NotImplementedError) as exc:
        raise AccountError(f"{what}: unsupported or damaged keystore ({exc!r})") from None


def _normal_address(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value if value[:2].lower() == "0x" else "0x" + value
    return to_checksum_address(text) if is_hex_address(text) else None


def _write_keystore(name: str, path: Path, keystore: dict[str, Any]) -> AccountInfo:
    """Write ``keystore`` to ``path`` atomically, mode 0600, never over an existing file."""
    path.parent.mkdir(mode=KEYSTORE_DIR_MODE, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEYSTORE_FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), KEYSTORE_FILE_MODE)  # exactly 0600, whatever the umask
            json.dump(keystore, out, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)  # fails if the name was taken meanwhile: nothing is overwritten
        except FileExistsError:
            raise AccountError(
                f"an account named {name!r} already exists ({path}); choose another name"
            ) from None
    finally:
        tmp.unlink(missing_ok=True)
    address = _normal_address(keystore.get("address"))
    assert address is not None
    return AccountInfo(name=name, address=address, path=path)
