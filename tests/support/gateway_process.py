"""``loyalty-chain serve`` as a child process, for the tests that kill or multiply gateways."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2 as httpx

from loyalty_chain.chain import Chain
from loyalty_chain.program import ProgramRecord

STARTUP_S = 60.0
_client: httpx.Client | None = None
_client_lock = threading.Lock()


def http() -> httpx.Client:
    """One HTTP client for every test's calls to gateway processes (thread-safe, kept alive).

    ``httpx.get``/``httpx.post`` build a client, with an SSL context, per call: ~50 ms of CPU each,
    which made the tests that poll a gateway's statuses spend most of their CPU there.
    """
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(timeout=60)
        return _client


def start(
    program: ProgramRecord,
    chain: Chain,
    db: str,
    rules: Path,
    port: int,
    log: Path,
    batch_size: int = 5,
    home: Path | None = None,
    extra: tuple[str, ...] = (),
) -> subprocess.Popen[bytes]:
    """A gateway for ``program`` on ``--db db`` (a URL), its output appended to ``log``; ``home`` is
    its $LOYALTY_CHAIN_HOME (where the default operations journal is); ``extra``: more options."""
    env = {**os.environ, "LOYALTY_CHAIN_DEPLOYMENTS": str(program.path.parent.parent)}
    if home is not None:
        env["LOYALTY_CHAIN_HOME"] = str(home)
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
        [sys.executable, "-m", "loyalty_chain.cli", "serve", program.name, "--rpc", chain.rpc_url,
         "--db", db, "--rules", str(rules), "--port", str(port), "--batch-size", str(batch_size), *extra],
        env=env, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip


def wait_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if http().get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"the gateway did not come up in {STARTUP_S}s:\n{log.read_text()}")


def descendants(pid: int) -> list[int]:
    """Every process under ``pid`` (its children, theirs …), from Linux's /proc."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except OSError:  # the task ended meanwhile
            continue
        for child in children:
            found += [child, *descendants(child)]
    return found


def alive(pid: int) -> bool:
    """``pid`` runs (a zombie, dead but not yet reaped by its parent, does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pids: list[int], timeout: float = 20.0) -> list[int]:
    """Waits until none of ``pids`` runs (at most ``timeout``); those still running."""
    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


def worker_of(process: subprocess.Popen[bytes], timeout: float = STARTUP_S) -> int:
    """The pid of the issuing worker process ``serve`` started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in descendants(process.pid):
            try:
                if b"gateway.worker_process import main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    return pid
            except OSError:
                continue
        time.sleep(0.1)
    raise AssertionError(f"no worker process under {process.pid}: {descendants(process.pid)}")


def program_with_key(chain: Chain, tmp_path: Path) -> tuple[ProgramRecord, Path, Path, dict[str, str]]:
    """A program "cafe" deployed on ``chain``, the gateway database (SQLite) holding an API key for
    it, the gateway's log path, and the key's Authorization header."""
    from loyalty_chain.gateway import SqliteStore, create_key
    from loyalty_chain.program import ProgramOptions, deploy_program

    program = deploy_program(
        chain, ProgramOptions("cafe"), chain.dev_account(0), root=tmp_path / "deployments"
    )
    db, log = tmp_path / "gw.sqlite", tmp_path / "gateway.log"
    store = SqliteStore(db)
    try:
        headers = {"Authorization": f"Bearer {create_key(store, 'shop')}"}
    finally:
        store.close()
    return program, db, log, headers


def program_balance(chain: Chain, program: ProgramRecord, member: str) -> int:
    from loyalty_chain.client import LoyaltyClient

    return LoyaltyClient(chain, program, chain.dev_account(0)).balance(member)


def one_second_blocks(chain: Chain) -> None:
    """From now on a block a second (set up on automine first: a deploy and a few members at one
    block a second held a test worker ~10 s for nothing)."""
    chain.w3.provider.make_request("evm_setIntervalMining", [1])  # type: ignore[arg-type]


def automine(chain: Chain) -> None:
    """From now on a block for each transaction, at once (anvil's default)."""
    chain.w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
