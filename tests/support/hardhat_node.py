"""A second, independently built node for the tests: Hardhat's EDR (``hardhat node`` from npm).

:func:`launch_hardhat` starts it on a free loopback port with anvil's settings that matter here
(chain id 31337, the "test test … junk" mnemonic, 10 accounts of 10,000 ETH, Osaka), waits until it
answers and gives a :class:`~loyalty_chain.chain.Chain` whose ``close()`` stops it. It runs
offline: ``hardhat node`` compiles nothing (its config, ``hardhat_node.config.cjs``, has no
sources), so no solc download is ever tried. Start-up takes 2-5 s (Node loads Hardhat), so the
``node`` fixture keeps one per session and isolates tests with ``evm_snapshot``/``evm_revert``.

What differs from anvil (hardhat 2.29.1, EDR 0.12.0-next.23; pinned by tests/integration/
test_second_node.py):

- **A JSON-RPC batch is answered concurrently** (Hardhat's server runs ``Promise.all`` over the
  calls; JSON-RPC 2.0 allows any order), so consecutive-nonce sends in one batch reach the pool
  in a random order. While automining EDR cannot queue a gap and refuses the early arrivals:
  "Nonce too high. Expected nonce to be 8 but got 9. Note that transactions can't be queued when
  automining." (12 to 38 of 40 refused in 15 tries). anvil handles a batch in order. With interval
  mining (``block_time``) EDR queues them and all mine; the ``node`` fixture uses 0.1 s blocks.
- Same as anvil: automine by default (``evm_setAutomine``, ``evm_setIntervalMining``, ``evm_mine``
  work); ``evm_snapshot``/``evm_revert``; the EIP-7825 cap at Osaka ("Transaction gas limit is
  16777217 and exceeds transaction gas cap of 16777216"); ``finalized``/``safe`` tags answer;
  initial base fee 1 gwei.
- Block gas limit 60,000,000 (anvil: 30,000,000).
- Only ``hardhat_*`` controls, no ``anvil_*`` (-32004 "Method anvil_dropTransaction is not
  supported"): ``hardhat_dropTransaction``, ``hardhat_setNextBlockBaseFeePerGas``, ``hardhat_mine``;
  no reorg (``anvil_reorg``), no ``txpool_content``. With the fault proxy in front, set
  ``drop_method="hardhat_dropTransaction"``.
- Refusals in its own words: a duplicate of a mined transaction "Nonce too low. Expected nonce to
  be N but got M. …" (anvil: "nonce too low"); a duplicate still pending "Known transaction:
  0x<hash>" (geth: "already known"; anvil: "transaction already imported").
- A revert is JSON-RPC -32603 with the payload nested: ``error.data = {"message": "Error: VM
  Exception while processing transaction: reverted with an unrecognized custom error (return
  data: 0x…)", "data": "0x…"}`` (anvil: -32000/3 with ``error.data = "0x…"``);
  ``loyalty_chain.decoding.revert_data`` reads both.
- ``evm_mine`` answers ``"0"`` (anvil ``"0x0"``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
from web3 import Web3

from loyalty_chain.chain import RPC_TIMEOUT_S, Chain
from loyalty_chain.errors import SetupError
from loyalty_chain.toolchain import node_binary, node_modules

CONFIG = Path(__file__).with_name("hardhat_node.config.cjs")
STARTUP_TIMEOUT_S = 90.0
"""Generous: Node loading Hardhat takes seconds when the machine is busy."""
STOP_TIMEOUT_S = 10.0
_LISTENING = re.compile(r"Started HTTP and WebSocket JSON-RPC server at (http://127\.0\.0\.1:\d+)/")
_LIVE: set[subprocess.Popen[bytes]] = set()
"""Nodes this process started and has not stopped yet; stopped at exit whatever happens."""


def hardhat_command() -> list[str]:
    """``hardhat node`` on an OS-chosen loopback port (it prints which)."""
    cli = node_modules() / "hardhat" / "internal" / "cli" / "bootstrap.js"
    if not cli.is_file():
        raise SetupError(f"hardhat is not installed at {cli.parent}; run `make setup` (npm ci installs it)")
    listen = ["--hostname", "127.0.0.1", "--port", "0"]
    return [node_binary(), str(cli), "--config", str(CONFIG), "node", *listen]


def launch_hardhat(*, block_time: float | None = None, log_dir: Path | None = None) -> Chain:
    """Start an EDR node as a child process; :meth:`Chain.close` stops it.

    ``block_time=None`` automines (each transaction mined as it arrives, EDR's default); a block
    time in seconds turns automine off and mines on that interval, so the pool queues
    transactions, nonce gaps included, like a real network's.
    """
    log_root = log_dir or Path(os.environ.get("TMPDIR", "/tmp"))
    log = log_root / f"loyalty-chain-hardhat-{os.getpid()}-{time.monotonic_ns()}.log"
    env = {**os.environ, "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true", "NO_COLOR": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            hardhat_command(),
            cwd=CONFIG.parent,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C meant for pytest is not delivered to it twice
        )
    if not _LIVE:
        atexit.unregister(_stop_all)
        atexit.register(_stop_all)
    _LIVE.add(process)
    try:
        url = _wait_listening(process, log)
        w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": RPC_TIMEOUT_S}))
        chain_id = int(w3.eth.chain_id)
        if block_time is not None:
            set_mining(w3, block_time)
    except BaseException:
        _stop(process)
        raise
    chain = Chain(w3=w3, chain_id=chain_id, rpc_url=url, kind="rpc", process=process)
    chain._closers.append(lambda: (_stop(process), log.unlink(missing_ok=True)))  # kept if start-up failed
    return chain


def set_mining(w3: Web3, block_time: float | None) -> None:
    """Automine (``None``) or mine every ``block_time`` seconds from now on (EDR or anvil)."""
    provider: Any = w3.provider
    provider.make_request("evm_setAutomine", [block_time is None])
    provider.make_request("evm_setIntervalMining", [0 if block_time is None else round(block_time * 1000)])


@contextlib.contextmanager
def start_hardhat(*, block_time: float | None = None) -> Iterator[Chain]:
    """``with start_hardhat() as chain:`` — an EDR node for the block, stopped after it."""
    chain = launch_hardhat(block_time=block_time)
    try:
        yield chain
    finally:
        chain.close()


def _wait_listening(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        found = _LISTENING.search(log.read_text(errors="replace"))
        if found:
            url = found.group(1)
            with contextlib.suppress(requests.exceptions.RequestException):
                body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
                if requests.post(url, json=body, timeout=5).ok:
                    return url
        if process.poll() is not None:
            raise SetupError(f"hardhat node exited with code {process.returncode}: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    raise SetupError(f"hardhat node did not answer within {STARTUP_TIMEOUT_S:.0f}s; see {log}")


def _stop_all() -> None:
    for process in list(_LIVE):
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    _LIVE.discard(process)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
