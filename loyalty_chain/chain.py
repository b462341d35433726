"""Reaching a chain: a managed anvil devnet, an embedded eth-tester chain, or any RPC URL.

All three give a :class:`Chain`; nothing else in the package cares which one it is.
The well-known dev keys (anvil's "test test … junk" mnemonic) come out only on local chain ids.
"""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import Web3Exception

from .errors import (
    ChainError,
    DevKeyRefusedError,
    InputError,
    LoyaltyChainError,
    RpcLimitError,
    RpcUnavailableError,
    SetupError,
    WrongChainError,
)
from .rpc import ResilientHTTPProvider, RpcSettings
from .toolchain import anvil_binary
from .web3_stack import lean_middleware

DEV_MNEMONIC = "test test test test test test test test test test test junk"
"""anvil's (and hardhat's) public default mnemonic: never hold real value with these keys."""

EMBEDDED_CHAIN_ID = 131277322940537
"""eth-tester's fixed chain id; in-process, so it can only ever be a local chain."""

LOCAL_CHAIN_IDS = frozenset({31337, 1337, EMBEDDED_CHAIN_ID})
"""Chain ids on which the dev keys may be used."""

TX_GAS_CAP = 16_777_216
"""EIP-7825 (Osaka): no transaction may use more gas than this, whatever the block limit."""

DEV_ACCOUNT_COUNT = 10
"""Funded dev accounts on a managed devnet or embedded chain unless asked for more."""
MAX_DEV_ACCOUNTS = 1_000
"""Most dev accounts a chain may be asked for (each is derived from the mnemonic, ~10 ms)."""
DEV_BALANCE_ETH = 10_000
STARTUP_TIMEOUT_S = 20.0
RPC_TIMEOUT_S = 30.0


@cache
def dev_key(index: int) -> LocalAccount:
    """Account ``index`` of the public dev mnemonic (derivation is slow, so cached)."""
    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return account


def dev_keys(count: int = DEV_ACCOUNT_COUNT) -> tuple[LocalAccount, ...]:
    """The first ``count`` accounts of the public dev mnemonic."""
    return tuple(dev_key(i) for i in range(count))


def check_dev_account_count(count: int) -> int:
    if not 1 <= count <= MAX_DEV_ACCOUNTS:
        raise InputError(f"the number of dev accounts must be 1..{MAX_DEV_ACCOUNTS}, got {count}")
    return count


@dataclass
class Chain:
    """A connection to one chain, and whatever must be stopped when it closes."""

    w3: Web3
    chain_id: int
    rpc_url: str
    kind: str
    """``"devnet"`` (managed anvil), ``"embedded"`` (eth-tester) or ``"rpc"``."""
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    funded_dev_accounts: int | None = None
    """How many dev accounts the chain funded; ``None`` until asked (an RPC chain is asked how many
    accounts it holds: anvil and hardhat list their dev accounts in ``eth_accounts``)."""

    @property
    def is_local(self) -> bool:
        """A local chain id on a devnet this process started, the embedded chain, or a loopback URL.

        The chain id alone is not enough: any remote RPC can answer 31337, and the dev keys (and
        ``dev:0`` as the default signer) must never be offered to it.
        """
        if self.chain_id not in LOCAL_CHAIN_IDS:
            return False
        return self.kind in ("devnet", "embedded") or is_loopback_url(self.rpc_url)

    @property
    def dev_account_count(self) -> int:
        if self.funded_dev_accounts is None:
            try:
                listed = len(self.w3.eth.accounts)
            except (OSError, ValueError, LoyaltyChainError, Web3Exception):
                listed = 0  # a node that does not list accounts (or does not answer): the default
            self.funded_dev_accounts = min(listed, MAX_DEV_ACCOUNTS) or DEV_ACCOUNT_COUNT
        return self.funded_dev_accounts

    @property
    def dev_accounts(self) -> list[LocalAccount]:
        """The funded dev accounts; refused on any chain that is not local."""
        if not self.is_local:
            raise DevKeyRefusedError(self.chain_id, self.rpc_url)
        return list(dev_keys(self.dev_account_count))

    def dev_account(self, index: int) -> LocalAccount:
        if not self.is_local:
            raise DevKeyRefusedError(self.chain_id, self.rpc_url)
        if 0 <= index < (self.funded_dev_accounts or DEV_ACCOUNT_COUNT):
            return dev_key(index)  # every local chain funds the first ten: no need to ask the node
        count = self.dev_account_count
        if not 0 <= index < count:
            raise ChainError(
                f"dev account index {index} is out of range 0..{count - 1}; "
                "start the chain with more accounts (`loyalty-chain devnet --accounts N`, "
                "`start_devnet(accounts=N)`, `embedded_chain(accounts=N)`)"
            )
        return dev_key(index)

    def batch(
        self, calls: Sequence[tuple[str, Sequence[Any]]], *, resend_lost: bool = True
    ) -> list[dict[str, Any]]:
        """JSON-RPC calls answered in order, each ``{"result": …}`` or ``{"error": …}``.

        Over HTTP they go in as few batches as the node takes (retried and split by the transport;
        ``resend_lost=False``: a request whose answer was lost is answered ``{"error": {"lost":
        True, …}}`` instead of being sent again); the embedded chain answers them one by one, in
        the same shapes.
        """
        provider: Any = self.w3.provider
        if isinstance(provider, ResilientHTTPProvider):
            return provider.batch(calls, resend_lost=resend_lost)
        return [dict(a) for a in provider.make_batch_request([(m, list(p)) for m, p in calls])]

    @property
    def rpc_stats(self) -> dict[str, int]:
        """JSON-RPC calls made so far, per method (``"http"``: HTTP requests); empty off HTTP."""
        provider: Any = self.w3.provider
        return dict(provider.stats) if isinstance(provider, ResilientHTTPProvider) else {}

    def require_chain_id(self, expected: int, what: str = "") -> None:
        if self.chain_id != expected:
            raise WrongChainError(expected, self.chain_id, what)

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


PROBE_SETTINGS = RpcSettings(retry_for_s=3.0, timeout_s=5.0)
"""A first contact gives up quickly: a wrong URL should not take the full retry budget to report."""


def is_loopback_url(url: str) -> bool:
    """Whether ``url``'s host is this machine over loopback (localhost, 127.0.0.0/8, ::1)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name other than localhost
        return False


def _web3_for(url: str, settings: RpcSettings | None = None) -> Web3:
    return lean_middleware(Web3(ResilientHTTPProvider(url, settings or RpcSettings(timeout_s=RPC_TIMEOUT_S))))


def connect(
    rpc_url: str, *, expected_chain_id: int | None = None, settings: RpcSettings | None = None
) -> Chain:
    """Any JSON-RPC endpoint, through the retrying transport of :mod:`loyalty_chain.rpc`.

    Raises :class:`RpcUnavailableError` if nothing answers (within a few seconds).
    """
    w3 = _web3_for(rpc_url, PROBE_SETTINGS)
    try:
        chain_id = int(w3.eth.chain_id)
    except (RpcUnavailableError, RpcLimitError) as exc:
        raise RpcUnavailableError(rpc_url, exc.__class__.__name__) from None
    except (OSError, ValueError) as exc:  # a non-JSON answer is a ValueError
        raise RpcUnavailableError(rpc_url, type(exc).__name__) from exc
    cast(ResilientHTTPProvider, w3.provider).settings = settings or RpcSettings(timeout_s=RPC_TIMEOUT_S)
    chain = Chain(w3=w3, chain_id=chain_id, rpc_url=rpc_url, kind="rpc")
    if expected_chain_id is not None:
        chain.require_chain_id(expected_chain_id)
    return chain


def embedded_chain(*, accounts: int = DEV_ACCOUNT_COUNT) -> Chain:
    """An in-process eth-tester (py-evm) chain: zero set-up, ~30x slower than anvil.

    ``accounts`` dev accounts of the public mnemonic are funded (1,000,000 ETH each).
    """
    from .embedded import embedded_web3

    w3 = embedded_web3(DEV_MNEMONIC, check_dev_account_count(accounts), "m/44'/60'/0'/0")
    return Chain(
        w3=w3,
        chain_id=int(w3.eth.chain_id),
        rpc_url="embedded://eth-tester",
        kind="embedded",
        funded_dev_accounts=accounts,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def anvil_command(
    port: int,
    *,
    state: Path | None = None,
    load_state: Path | None = None,
    enforce_tx_gas_limit: bool = True,
    block_time: float | None = None,
    accounts: int = DEV_ACCOUNT_COUNT,
    states: Path | None = None,
) -> list[str]:
    cmd = [
        anvil_binary(),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--chain-id", "31337",
        "--accounts", str(check_dev_account_count(accounts)),
        "--balance", str(DEV_BALANCE_ETH),
        "--mnemonic", DEV_MNEMONIC,
    ]  # fmt: skip
    if enforce_tx_gas_limit:
        cmd.append("--enable-tx-gas-limit")
    if state is not None:
        cmd += ["--state", str(state)]
    if load_state is not None:
        cmd += ["--load-state", str(load_state)]
    if block_time is not None:
        cmd += ["--block-time", str(block_time)]
    if states is not None:
        cmd += ["--cache-path", str(states)]
    return cmd


_LIVE: dict[subprocess.Popen[bytes], Path] = {}
"""Devnets this process started and has not stopped yet, with their states folder; stopped at exit."""


def _stop_all() -> None:
    for process in list(_LIVE):
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    states = _LIVE.pop(process, None)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # lets anvil dump --state before it exits
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if states is not None:
        shutil.rmtree(states, ignore_errors=True)


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> Web3:
    w3 = _web3_for(url, RpcSettings(retry_for_s=0.0, timeout_s=2.0))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SetupError(f"anvil exited with code {process.returncode}: {log.read_text()[-2000:]}")
        with contextlib.suppress(Exception):
            if w3.is_connected():
                cast(ResilientHTTPProvider, w3.provider).settings = RpcSettings(timeout_s=RPC_TIMEOUT_S)
                return w3
        time.sleep(0.05)
    raise SetupError(f"anvil did not answer at {url} within {timeout_s:.0f}s")


def launch_devnet(
    port: int | None = None,
    *,
    state: Path | None = None,
    load_state: Path | None = None,
    enforce_tx_gas_limit: bool = True,
    block_time: float | None = None,
    log_dir: Path | None = None,
    accounts: int = DEV_ACCOUNT_COUNT,
    startup_timeout_s: float = STARTUP_TIMEOUT_S,
) -> Chain:
    """Start anvil as a child process on a loopback port; :meth:`Chain.close` stops it.

    With ``port=None`` a free port is picked. The child also dies with this process (atexit).
    ``block_time=None`` mines each transaction as it arrives (instant receipts, what tests want); a
    block time (seconds, e.g. 0.1) mines on an interval like a real network, which lets anvil take
    thousands of transactions a second instead of a few hundred. ``accounts`` dev accounts get
    10,000 ETH each. ``startup_timeout_s``: how long anvil may take to answer (longer for a large
    ``state``). ``state``: anvil loads the file if it exists and writes the chain back to it every
    minute and as it exits; ``load_state``: anvil only loads it (no minute-by-minute dumps).
    """
    chosen = port or free_port()
    log_root = log_dir or Path(os.environ.get("TMPDIR", "/tmp"))
    log = log_root / f"loyalty-chain-anvil-{chosen}.log"
    # anvil writes the states it does not keep in memory to a folder of ~/.foundry/anvil/tmp that it
    # never removes (~100 MB for a busy devnet); each devnet gets its own, removed once it stopped.
    states = log_root / f"loyalty-chain-anvil-{chosen}-states"
    with log.open("wb") as out:
        process = subprocess.Popen(
            anvil_command(
                chosen,
                state=state,
                load_state=load_state,
                enforce_tx_gas_limit=enforce_tx_gas_limit,
                block_time=block_time,
                accounts=accounts,
                states=states,
            ),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C meant for us is not delivered to anvil twice
        )
    if not _LIVE:
        atexit.unregister(_stop_all)
        atexit.register(_stop_all)
    _LIVE[process] = states
    url = f"http://127.0.0.1:{chosen}"
    try:
        w3 = _wait_ready(url, process, log, startup_timeout_s)
    except BaseException:
        _stop(process)
        raise
    chain = Chain(
        w3=w3,
        chain_id=int(w3.eth.chain_id),
        rpc_url=url,
        kind="devnet",
        process=process,
        funded_dev_accounts=accounts,
    )
    chain._closers.append(lambda: _stop(process))
    return chain


@contextlib.contextmanager
def start_devnet(
    port: int | None = None,
    *,
    state: Path | None = None,
    enforce_tx_gas_limit: bool = True,
    block_time: float | None = None,
    accounts: int = DEV_ACCOUNT_COUNT,
) -> Iterator[Chain]:
    """``with start_devnet() as chain:`` — a fresh anvil for the block, stopped after it."""
    chain = launch_devnet(
        port, state=state, enforce_tx_gas_limit=enforce_tx_gas_limit, block_time=block_time, accounts=accounts
    )
    try:
        yield chain
    finally:
        chain.close()


def open_chain(rpc_url: str | None) -> Chain:
    """The CLI's rule: ``--rpc``/``LOYALTY_CHAIN_RPC`` if given, else the embedded chain."""
    url = rpc_url or os.environ.get("LOYALTY_CHAIN_RPC")
    if url:
        return connect(url)
    return embedded_chain()
