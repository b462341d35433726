"""loyalty_chain.accounts: keystores on disk, passwords from wherever they may come, signer specs.

Every test gets an empty keystore folder (``$LOYALTY_CHAIN_KEYSTORE``), an empty ape data folder
and no password variables. Keystores are written with scrypt n=2 (``FAST``) so that the suite stays
fast; one test checks that the default is eth-account's full-strength scrypt.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from loyalty_chain import accounts
from loyalty_chain.accounts import (
    AccountInfo,
    import_keystore,
    import_private_key,
    keystore_dir,
    list_accounts,
    new_account,
    password_env_var,
    resolve_account,
    unlock,
    unlock_ape,
)
from loyalty_chain.chain import Chain, dev_keys
from loyalty_chain.errors import AccountError, DevKeyRefusedError

FAST: dict[str, Any] = {"kdf": "scrypt", "iterations": 2}
"""Tests only: a trivially weak work factor."""

# a well-known test key (never holds value): hardhat/anvil dev account 1
KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
KEY_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.fixture(autouse=True)
def keystore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "keystore"
    monkeypatch.setenv("LOYALTY_CHAIN_KEYSTORE", str(folder))
    monkeypatch.setenv("APE_DATA_FOLDER", str(tmp_path / "ape"))
    for name in list(os.environ):
        if name.startswith(("LOYALTY_CHAIN_PASSWORD", "APE_ACCOUNTS_")):
            monkeypatch.delenv(name)
    monkeypatch.setattr(accounts, "_stdin_is_tty", lambda: False)
    return folder


def local_chain(chain_id: int = 31337) -> Chain:
    """A Chain value with no node behind it: enough for what resolve_account asks of it."""
    return Chain(w3=Web3(), chain_id=chain_id, rpc_url="http://127.0.0.1:1", kind="rpc")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- where --------------------------------------------------------------------------------------


def test_keystore_dir_default_and_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LOYALTY_CHAIN_KEYSTORE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert keystore_dir() == tmp_path / ".loyalty-chain" / "keystore"
    monkeypatch.setenv("LOYALTY_CHAIN_KEYSTORE", "~/elsewhere")
    assert keystore_dir() == tmp_path / "elsewhere"


# --- create -------------------------------------------------------------------------------------


def test_new_account_writes_a_standard_v3_keystore_mode_0600(keystore: Path) -> None:
    info = new_account("alice", "correct horse", **FAST)
    assert info == AccountInfo(name="alice", address=info.address, path=keystore / "alice.json")
    assert Web3.is_checksum_address(info.address)
    assert mode(info.path) == 0o600
    assert mode(keystore) == 0o700
    data = json.loads(info.path.read_text())
    assert data["version"] == 3
    assert data["crypto"]["kdf"] == "scrypt"
    assert Web3.to_checksum_address("0x" + data["address"]) == info.address
    account = unlock("alice", "correct horse")
    assert account.address == info.address
    # the key is nowhere in the file in clear
    assert bytes(account.key).hex() not in info.path.read_text().lower()
    assert list(keystore.iterdir()) == [info.path]  # no temporary file left behind


def test_default_kdf_is_full_strength_scrypt() -> None:
    info = new_account("strong", "pw")
    params = json.loads(info.path.read_text())["crypto"]["kdfparams"]
    assert params["n"] == 2**18
    assert (params["r"], params["p"]) == (8, 1)


def test_mode_is_0600_whatever_the_umask(keystore: Path) -> None:
    old = os.umask(0)
    try:
        info = new_account("open-umask", "pw", **FAST)
    finally:
        os.umask(old)
    assert mode(info.path) == 0o600


def test_new_accounts_have_different_keys() -> None:
    assert new_account("a", "pw", **FAST).address != new_account("b", "pw", **FAST).address


def test_an_existing_name_is_never_overwritten() -> None:
    first = new_account("alice", "pw", **FAST)
    before = first.path.read_bytes()
    with pytest.raises(AccountError, match=r"'alice' already exists.*choose another name"):
        new_account("alice", "pw", **FAST)
    with pytest.raises(AccountError, match="already exists"):
        import_private_key("alice", "pw", KEY, **FAST)
    assert first.path.read_bytes() == before


@pytest.mark.parametrize("name", ["", "../evil", "a/b", ".hidden", "-dash", "x" * 65, "spa ce", "é"])
def test_bad_names_are_refused(name: str, keystore: Path) -> None:
    with pytest.raises(AccountError, match="must be 1-64 letters"):
        new_account(name, "pw", **FAST)
    assert not keystore.exists() or not any(keystore.iterdir())


def test_empty_password_is_refused() -> None:
    with pytest.raises(AccountError, match="empty password"):
        new_account("alice", "", **FAST)


# --- import a private key -----------------------------------------------------------------------


@pytest.mark.parametrize("text", [KEY, KEY[2:], f"  {KEY}\n", KEY.upper().replace("0X", "0x")])
def test_import_private_key(text: str) -> None:
    info = import_private_key("dev1", "pw", text, **FAST)
    assert info.address == KEY_ADDRESS
    assert unlock("dev1", "pw").address == KEY_ADDRESS
    assert KEY[2:] not in info.path.read_text().lower()


@pytest.mark.parametrize(
    "bad",
    [
        "0x1234",
        KEY + "00",
        "0x" + "zz" * 32,
        "0x" + "00" * 32,  # zero is not a key
        hex(SECP256K1_N),  # nor is n or above
    ],
)
def test_import_private_key_refuses_bad_keys_without_repeating_them(bad: str, keystore: Path) -> None:
    with pytest.raises(AccountError) as raised:
        import_private_key("bad", "pw", bad, **FAST)
    assert bad.lower().removeprefix("0x") not in str(raised.value).lower()
    error = raised.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    assert not (keystore / "bad.json").exists()


# --- import a keystore file ---------------------------------------------------------------------


def write_keystore(path: Path, key: str = KEY, password: str = "pw", **changes: Any) -> Path:
    data = Account.encrypt(key, password, kdf="pbkdf2", iterations=16)
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    path.write_text(json.dumps(data))
    return path


def test_import_keystore_reencrypts_a_weak_kdf(tmp_path: Path, keystore: Path) -> None:
    """Issue 9: an imported file's weak KDF (here pbkdf2 with 16 rounds) is not kept."""
    source = write_keystore(tmp_path / "geth.json")
    info = import_keystore("geth", source, "pw")  # our default: scrypt, eth-account's work factor
    assert info.address == KEY_ADDRESS
    assert mode(info.path) == 0o600
    stored = json.loads(info.path.read_text())
    assert stored["crypto"]["kdf"] == "scrypt"
    assert stored["crypto"]["kdfparams"]["n"] == 2**18
    assert stored["crypto"]["ciphertext"] != json.loads(source.read_text())["crypto"]["ciphertext"]
    assert unlock("geth", "pw").address == KEY_ADDRESS


def test_import_keystore_fills_in_a_missing_address(tmp_path: Path) -> None:
    source = write_keystore(tmp_path / "noaddr.json", address=None)
    assert "address" not in json.loads(source.read_text())
    info = import_keystore("noaddr", source, "pw", **FAST)
    assert info.address == KEY_ADDRESS
    assert [a.address for a in list_accounts()] == [KEY_ADDRESS]


def test_import_keystore_wrong_password_writes_nothing(tmp_path: Path, keystore: Path) -> None:
    source = write_keystore(tmp_path / "k.json")
    with pytest.raises(AccountError, match=rf"wrong password for keystore {source}"):
        import_keystore("k", source, "not it")
    assert not (keystore / "k.json").exists()


def test_import_keystore_refuses_an_address_that_is_not_the_keys(tmp_path: Path) -> None:
    source = write_keystore(tmp_path / "edited.json", address="00" * 20)
    with pytest.raises(AccountError, match=r"says it holds 0000.*but its key is 0x7099"):
        import_keystore("edited", source, "pw")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read it as JSON"),
        ("[1, 2]", "not a version 3 keystore"),
        ('{"version": 3}', "not a version 3 keystore"),
        ('{"version": 1, "crypto": {}}', "not a version 3 keystore"),
        ('{"version": 3, "crypto": {"kdf": "argon2"}}', "unsupported or damaged|cannot decrypt"),
    ],
)
def test_import_keystore_refuses_what_is_not_a_keystore(tmp_path: Path, content: str, message: str) -> None:
    source = tmp_path / "junk.json"
    source.write_text(content)
    with pytest.raises(AccountError, match=message):
        import_keystore("junk", source, "pw")


def test_import_keystore_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AccountError, match="file not found"):
        import_keystore("k", tmp_path / "nope.json", "pw")


# --- list ---------------------------------------------------------------------------------------


def test_list_accounts_needs_no_password_and_skips_junk(keystore: Path) -> None:
    assert list_accounts() == []  # the folder does not even exist yet
    bob = new_account("bob", "pw1", **FAST)
    alice = new_account("alice", "pw2", **FAST)
    (keystore / "notes.json").write_text("{not json")
    (keystore / "other.json").write_text('{"hello": 1}')
    (keystore / "readme.txt").write_text("hi")
    assert list_accounts() == [alice, bob]


# --- unlock -------------------------------------------------------------------------------------


def test_wrong_password_names_the_account() -> None:
    new_account("alice", "right", **FAST)
    with pytest.raises(AccountError, match="wrong password for account 'alice'"):
        unlock("alice", "wrong")


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(AccountError, match="there are none yet"):
        unlock("carol", "pw")
    new_account("alice", "pw", **FAST)
    new_account("bob", "pw", **FAST)
    with pytest.raises(AccountError, match=r"no account named 'carol' in .*; known accounts: alice, bob"):
        unlock("carol", "pw")
    with pytest.raises(AccountError, match="known accounts: alice, bob"):
        unlock("../keystore/alice", "pw")


def test_password_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    info = new_account("alice", "general", **FAST)
    monkeypatch.setenv("LOYALTY_CHAIN_PASSWORD", "general")
    assert unlock("alice").address == info.address


def test_per_account_variable_wins_over_the_general_one(monkeypatch: pytest.MonkeyPatch) -> None:
    info = new_account("shop-ops.1", "specific", **FAST)
    assert password_env_var("shop-ops.1") == "LOYALTY_CHAIN_PASSWORD_SHOP_OPS_1"
    monkeypatch.setenv("LOYALTY_CHAIN_PASSWORD", "general")
    monkeypatch.setenv("LOYALTY_CHAIN_PASSWORD_SHOP_OPS_1", "specific")
    assert unlock("shop-ops.1").address == info.address
    # an explicit argument wins over both
    with pytest.raises(AccountError, match="wrong password"):
        unlock("shop-ops.1", "general")


def test_no_password_and_no_terminal_is_an_error_not_a_hang() -> None:
    new_account("alice", "pw", **FAST)
    with pytest.raises(
        AccountError,
        match=r"no password for account 'alice': set LOYALTY_CHAIN_PASSWORD .* run in a terminal",
    ):
        unlock("alice")


def test_on_a_terminal_the_password_is_prompted_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    import click

    info = new_account("alice", "typed", **FAST)
    asked: list[dict[str, Any]] = []

    def fake_prompt(text: str, **kwargs: Any) -> str:
        asked.append({"text": text, **kwargs})
        return "typed"

    monkeypatch.setattr(accounts, "_stdin_is_tty", lambda: True)
    monkeypatch.setattr(click, "prompt", fake_prompt)
    assert unlock("alice").address == info.address
    assert asked == [{"text": "Password for account 'alice'", "hide_input": True, "err": True}]


def test_the_prompt_comes_after_the_name_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    import click

    monkeypatch.setattr(accounts, "_stdin_is_tty", lambda: True)
    monkeypatch.setattr(click, "prompt", lambda *a, **k: pytest.fail("prompted for an unknown account"))
    with pytest.raises(AccountError, match="no account named"):
        unlock("ghost")


# --- resolve a signer spec ----------------------------------------------------------------------


def test_dev_spec_on_a_local_chain() -> None:
    assert resolve_account("dev:0", local_chain()).address == dev_keys()[0].address
    assert resolve_account("dev:3", local_chain(1337)).address == dev_keys()[3].address


def test_dev_spec_is_refused_off_local_chains() -> None:
    with pytest.raises(DevKeyRefusedError, match=r"chain id 1 at http://127\.0\.0\.1:1;"):
        resolve_account("dev:0", local_chain(1))


@pytest.mark.parametrize("url", ["http://203.0.113.7:8545", "https://rpc.example.com", "http://127.evil.io"])
def test_dev_keys_are_refused_to_a_remote_rpc_answering_a_local_chain_id(url: str) -> None:
    """Issue 9: a fake RPC answering 31337 got dev:0; only managed devnets and loopback URLs qualify."""
    remote = Chain(w3=Web3(), chain_id=31337, rpc_url=url, kind="rpc")
    assert not remote.is_local
    with pytest.raises(DevKeyRefusedError, match=f"chain id 31337 at {url}"):
        resolve_account("dev:0", remote)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8545", "http://localhost:8545", "http://[::1]:8545", "http://127.0.0.2"]
)
def test_dev_keys_work_over_loopback(url: str) -> None:
    assert Chain(w3=Web3(), chain_id=31337, rpc_url=url, kind="rpc").is_local


@pytest.mark.parametrize("spec", ["dev:x", "dev:-1", "dev:1.5"])
def test_dev_spec_needs_a_number(spec: str) -> None:
    with pytest.raises(AccountError, match="dev:N with N a number"):
        resolve_account(spec, local_chain())


def test_keystore_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    info = import_private_key("ops", "pw", KEY, **FAST)
    assert resolve_account("ops", local_chain(1), "pw").address == info.address
    monkeypatch.setenv("LOYALTY_CHAIN_PASSWORD_OPS", "pw")
    assert resolve_account("ops", local_chain(1)).address == info.address


def test_ape_spec_reads_apes_keystore_without_ape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ape" / "accounts"
    folder.mkdir(parents=True)
    # what `ape accounts import` writes: json.dumps(EthAccount.encrypt(key, passphrase))
    (folder / "deployer.json").write_text(json.dumps(Account.encrypt(KEY, "ape-pass", iterations=2)))
    assert resolve_account("ape:deployer", local_chain(1), "ape-pass").address == KEY_ADDRESS
    monkeypatch.setenv("APE_ACCOUNTS_deployer_PASSPHRASE", "ape-pass")
    assert unlock_ape("deployer").address == KEY_ADDRESS
    with pytest.raises(AccountError, match="wrong password for ape account 'deployer'"):
        unlock_ape("deployer", "nope")
    with pytest.raises(
        AccountError, match=r"no ape account named 'other' in .*; ape accounts here: deployer"
    ):
        resolve_account("ape:other", local_chain(), "pw")


def test_ape_spec_with_no_ape_accounts() -> None:
    with pytest.raises(AccountError, match=r"no ape account named 'x'.*none exist"):
        resolve_account("ape:x", local_chain(), "pw")


def test_accounts_module_never_imports_ape(tmp_path: Path) -> None:
    folder = tmp_path / "ape" / "accounts"
    folder.mkdir(parents=True)
    (folder / "a.json").write_text(json.dumps(Account.encrypt(KEY, "pw", iterations=2)))
    script = (
        "import sys\n"
        "from loyalty_chain.accounts import resolve_account\n"
        "from loyalty_chain.chain import Chain\n"
        "from web3 import Web3\n"
        "chain = Chain(w3=Web3(), chain_id=1, rpc_url='x', kind='rpc')\n"
        "print(resolve_account('ape:a', chain, 'pw').address)\n"
        "assert 'ape' not in sys.modules, 'ape was imported'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "APE_DATA_FOLDER": str(tmp_path / "ape")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == KEY_ADDRESS
