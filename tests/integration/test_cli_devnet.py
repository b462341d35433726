from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from web3 import Web3

from loyalty_chain.chain import free_port


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "loyalty_chain.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _anvil_pids_on(port: int) -> list[int]:
    out = subprocess.run(["pgrep", "-f", f"anvil.*--port {port}"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_devnet_serves_json_rpc_and_stops_cleanly(stop: signal.Signals) -> None:
    port = free_port()
    proc = _start("devnet", "--port", str(port))
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert f"http://127.0.0.1:{port}" in first, first + (proc.stderr.read() if proc.stderr else "")
    lines = [proc.stdout.readline() for _ in range(4)]
    assert any("dev:0  0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" in line for line in lines)

    w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
    assert w3.eth.chain_id == 31337
    assert _anvil_pids_on(port)

    proc.send_signal(stop)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "devnet stopped" in rest
    time.sleep(0.2)
    assert _anvil_pids_on(port) == []


def test_devnet_json_lists_accounts_and_state_round_trips(tmp_path) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state.json"
    port = free_port()
    proc = _start("--json", "devnet", "--port", str(port), "--state", str(state))
    assert proc.stdout is not None
    text = ""
    while not text.rstrip().endswith("}") or text.count("{") != text.count("}"):
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        text += line
    info = json.loads(text)
    assert info["chain_id"] == 31337 and len(info["accounts"]) == 10
    w3 = Web3(Web3.HTTPProvider(info["rpc_url"]))
    sender = w3.eth.account.from_key(info["accounts"][0]["private_key"])
    tx = {"to": info["accounts"][1]["address"], "value": 12345, "gas": 21000, "chainId": 31337,
          "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1, "nonce": 0}  # fmt: skip
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
    )
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert state.is_file() and state.stat().st_size > 0

    # A second run loads the saved state: the transfer is still there.
    proc = _start("devnet", "--port", str(port), "--state", str(state))
    assert proc.stdout is not None
    proc.stdout.readline()
    try:
        assert w3.eth.get_transaction_count(sender.address) == 1
    finally:
        os.kill(proc.pid, signal.SIGINT)
        proc.communicate(timeout=60)


def test_unknown_command_fails_with_a_reason() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "loyalty_chain.cli", "nonsense"], capture_output=True, text=True
    )
    assert out.returncode != 0
    assert "No such command 'nonsense'" in out.stderr
