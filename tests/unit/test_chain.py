from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.compiled import compile_shared
from web3.exceptions import Web3RPCError

from loyalty_chain.chain import (
    LOCAL_CHAIN_IDS,
    Chain,
    connect,
    dev_keys,
    embedded_chain,
    free_port,
    launch_devnet,
)
from loyalty_chain.deploy import deploy_contract
from loyalty_chain.errors import DevKeyRefusedError, RpcUnavailableError, WrongChainError


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return compile_shared(tmp_path_factory, "fixtures").artifacts["Counter"]


def _deploy_and_call(chain: Chain, counter) -> None:  # type: ignore[no-untyped-def]
    admin = chain.dev_accounts[0]
    contract = deploy_contract(chain, counter, admin.address, sender=admin)
    assert contract.functions.count().call() == 0
    tx = contract.functions.increment().build_transaction(
        {"from": admin.address, "nonce": chain.w3.eth.get_transaction_count(admin.address)}
    )
    receipt = chain.w3.eth.wait_for_transaction_receipt(
        chain.w3.eth.send_raw_transaction(admin.sign_transaction(tx).raw_transaction)
    )
    assert receipt["status"] == 1
    assert contract.functions.count().call() == 1


def test_devnet_deploys_and_calls(chain: Chain, counter) -> None:  # type: ignore[no-untyped-def]
    assert chain.kind == "devnet" and chain.chain_id == 31337
    _deploy_and_call(chain, counter)


def test_embedded_deploys_and_calls(counter) -> None:  # type: ignore[no-untyped-def]
    chain = embedded_chain()
    assert chain.kind == "embedded" and chain.is_local
    _deploy_and_call(chain, counter)


def test_rpc_url_deploys_and_calls(chain: Chain, counter) -> None:  # type: ignore[no-untyped-def]
    # through `chain` (rolled back afterwards): a deploy left on the session devnet would move the
    # dev account's nonce, and so the addresses, under later tests of the same worker
    by_url = connect(chain.rpc_url, expected_chain_id=31337)
    assert by_url.kind == "rpc" and by_url.is_local  # a loopback URL
    _deploy_and_call(by_url, counter)


def test_dev_accounts_are_anvils_funded_accounts(devnet: Chain) -> None:
    assert devnet.dev_accounts[0].address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert devnet.w3.eth.get_balance(devnet.dev_accounts[9].address) > 0


def test_dev_keys_refused_on_non_local_chain(devnet: Chain) -> None:
    foreign = Chain(w3=devnet.w3, chain_id=1, rpc_url=devnet.rpc_url, kind="rpc")
    assert 1 not in LOCAL_CHAIN_IDS
    with pytest.raises(DevKeyRefusedError, match="chain id 1 at "):
        _ = foreign.dev_accounts
    with pytest.raises(DevKeyRefusedError):
        foreign.dev_account(0)


def test_dev_keys_refused_on_real_rpc_with_foreign_chain_id() -> None:
    with launch_devnet_chain_id(8453) as chain, pytest.raises(DevKeyRefusedError, match="8453"):
        _ = chain.dev_accounts


class launch_devnet_chain_id:
    """A raw anvil started with a non-local chain id, reached through connect()."""

    def __init__(self, chain_id: int) -> None:
        from loyalty_chain.toolchain import anvil_binary

        self.port = free_port()
        self.proc = subprocess.Popen(
            [anvil_binary(), "--port", str(self.port), "--chain-id", str(chain_id), "--silent"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def __enter__(self) -> Chain:
        import time

        for _ in range(200):
            try:
                return connect(f"http://127.0.0.1:{self.port}")
            except RpcUnavailableError:
                time.sleep(0.05)
        raise AssertionError("anvil did not start")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait()


def test_connect_to_nothing_raises_rpc_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RpcUnavailableError, match=url):
        connect(url)


def test_wrong_chain_id_is_refused(devnet: Chain) -> None:
    with pytest.raises(WrongChainError, match="chain id 1 is expected"):
        connect(devnet.rpc_url, expected_chain_id=1)


def test_per_transaction_gas_cap_is_enforced(devnet: Chain) -> None:
    sender = devnet.dev_accounts[1]
    w3 = devnet.w3
    tx = {
        "to": sender.address,
        "value": 0,
        "gas": 16_777_217,
        "chainId": 31337,
        "maxFeePerGas": w3.eth.gas_price * 2,
        "maxPriorityFeePerGas": 1,
        "nonce": w3.eth.get_transaction_count(sender.address),
    }
    with pytest.raises(Web3RPCError, match="gas_limit_cap"):
        w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)


def test_managed_devnet_leaves_no_process_behind() -> None:
    chain = launch_devnet()
    assert chain.process is not None
    pid = chain.process.pid
    assert chain.w3.eth.block_number >= 0
    chain.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_devnet_removes_the_block_states_it_wrote_to_disk(tmp_path: Path) -> None:
    """anvil keeps a few hundred block states in memory and writes older ones to disk, by default to
    ~/.foundry/anvil/tmp, which it never cleans (52 GB of them once filled the disk)."""
    chain = launch_devnet(log_dir=tmp_path)
    chain.w3.provider.make_request("anvil_mine", [600])  # type: ignore[arg-type]
    written = [p for p in tmp_path.rglob("*.json") if p.is_file()]
    assert written, "anvil wrote no block state to the devnet's own folder"
    assert chain.w3.eth.get_balance(chain.dev_accounts[0].address, block_identifier=1) > 0  # still read
    chain.close()
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == []


def test_devnet_is_stopped_when_the_python_process_exits() -> None:
    """Even without close(): a script that forgets it must not leak anvil."""
    script = textwrap.dedent(
        """
        from loyalty_chain.chain import launch_devnet
        chain = launch_devnet()
        print(chain.process.pid, flush=True)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    pid = int(out.stdout.strip())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_dev_keys_derive_the_public_mnemonic() -> None:
    keys = dev_keys()
    assert len(keys) == 10
    assert keys[1].address == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_fast_signer_is_byte_identical_to_eth_account() -> None:
    import coincurve
    from eth_account import Account

    from loyalty_chain.sender import sign_eip1559

    account = dev_keys()[3]
    key = coincurve.PrivateKey(bytes(account.key))
    fees = {"maxFeePerGas": 3 * 10**9 + 7, "maxPriorityFeePerGas": 10**6}
    for nonce, value, data in [(0, 0, b""), (1, 10**18, b"\x00\x01" * 300), (2**40, 1, bytes(range(256)))]:
        to = Account.create().address
        ours = sign_eip1559(key, 31337, nonce, to, value, data, 123_456, fees)
        theirs = account.sign_transaction(
            {
                "type": 2,
                "chainId": 31337,
                "nonce": nonce,
                "to": to,
                "value": value,
                "data": data,
                "gas": 123_456,
                **fees,
            }
        ).raw_transaction
        assert ours == bytes(theirs)


def test_the_transport_reads_proxy_settings_once_per_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from loyalty_chain.http_post import _Direct, _ViaRequests
    from loyalty_chain.rpc import ResilientHTTPProvider

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    remote = ResilientHTTPProvider("https://rpc.example/v1")._poster
    assert isinstance(remote, _ViaRequests)  # a proxy is named for it: requests goes through it
    assert remote.session.proxies.get("https") == "http://proxy.example:3128"
    assert not remote.session.trust_env  # requests no longer re-reads the environment per request
    local = ResilientHTTPProvider("http://127.0.0.1:8545")._poster
    assert isinstance(local, _Direct)  # NO_PROXY: a kept-alive connection of our own
    with_credentials = ResilientHTTPProvider("https://user:secret@rpc.example/v1")._poster
    assert isinstance(with_credentials, _ViaRequests)
