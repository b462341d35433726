"""The issuing worker in a process of its own (what ``loyalty-chain serve`` runs).

In the HTTP process the worker shared one GIL with accepting events: while shops posted, the
worker waited for the CPU and blocks went by without the gateway's transactions. Here it is a
child process (a fresh interpreter running :func:`main`, which reads its :class:`WorkerSpec` from
its stdin) with its own connections to the chain and the store:

- **the same store** (SQLite in WAL mode, or PostgreSQL) and the same operations journal, so
  exactly-once holds as it does for several gateway processes: batches are formed in committed
  transactions, sent under their idempotency keys, settled once;
- **one account, two processes**: the HTTP process still relays redemptions, so every write starts
  under the store's sender lock (an ``flock`` beside a SQLite database, an advisory lock on
  PostgreSQL) and reads the account's pending nonce first (``DeliveryOptions.shared_account``);
- **supervised**: :class:`WorkerProcess` starts another child if one dies (``kill -9`` of the
  worker alone: its batches are sent again under their keys); the child exits as soon as its parent
  is gone (its stdin, a pipe from the parent, ends: ``kill -9`` of the HTTP process leaves no
  orphan), and on SIGTERM or SIGINT after the batches it has on their way are settled.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from ..delivery import DeliveryOptions
from ..registry import ProgramRecord
from .worker import WorkerOptions

log = logging.getLogger("loyalty_chain.gateway")

RESTART_S = (0.5, 10.0)
"""The supervisor's pause before starting another worker: the first, then doubled up to the second
while the worker keeps dying within :data:`STABLE_S` of starting."""
STABLE_S = 30.0
STOP_S = 30.0
"""How long a stopping worker may take to settle its batches before it is killed."""
CHILD = f"from {__name__} import main; main()"
"""The worker process's program."""


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process needs to issue for one gateway (sent to it through a pipe, never on a
    command line: it holds the account's key)."""

    rpc_url: str
    record: ProgramRecord
    key: bytes
    store_url: str
    options: WorkerOptions
    delivery: DeliveryOptions


class WorkerProcess:
    """Runs the issuing worker in a child process and keeps one running until :meth:`stop`."""

    def __init__(self, spec: WorkerSpec, on_restart: Callable[[], None] | None = None) -> None:
        self.spec = spec
        self.on_restart = on_restart
        self._process: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        """The running worker's process id (None if none runs)."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def start(self) -> None:
        self._process = self._spawn()
        self._supervisor = threading.Thread(target=self._watch, name="gateway-worker-watch", daemon=True)
        self._supervisor.start()

    def stop(self, timeout: float = STOP_S) -> None:
        """SIGTERM to the worker (it settles what it has on its way), SIGKILL if it takes longer."""
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout)
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("the issuing worker did not stop in %.0f s; killed", timeout)
            process.kill()
            process.wait(5.0)
        if process.stdin is not None:
            process.stdin.close()

    def _spawn(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE)
        assert process.stdin is not None
        pickle.dump(self.spec, process.stdin)  # the key goes through the pipe, not the command line
        process.stdin.flush()  # the pipe stays open: its end tells the worker this process is gone
        return process

    def _watch(self) -> None:
        pause = RESTART_S[0]
        while not self._stop.is_set():
            process = self._process
            assert process is not None
            started = time.monotonic()
            while process.poll() is None and not self._stop.wait(0.5):
                pass
            if self._stop.is_set():
                return
            quick = time.monotonic() - started < STABLE_S
            pause = min(2 * pause, RESTART_S[1]) if quick else RESTART_S[0]
            log.error(
                "the issuing worker process exited (code %s); another starts in %.1f s",
                process.returncode,
                pause,
            )
            if process.stdin is not None:
                process.stdin.close()
            if self._stop.wait(pause):
                return
            self._process = self._spawn()
            if self.on_restart:
                self.on_restart()


def run_worker(spec: WorkerSpec, parent: IO[bytes] | None = None) -> None:
    """Issue for ``spec`` until SIGTERM/SIGINT (then settle what is on its way) or until ``parent``
    (the pipe from the process that started this one) ends: then exit at once, what is on its way
    is sent again under its key."""
    from eth_account import Account

    from ..chain import connect
    from ..client import LoyaltyClient
    from .store import open_store
    from .worker import Worker

    stop = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    def watch_parent(pipe: IO[bytes]) -> None:
        while pipe.read(4096):  # nothing more is written: it returns b"" when the parent is gone
            pass
        os._exit(1)  # the HTTP process died (kill -9): so does its worker, at once

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if parent is not None:
        threading.Thread(target=watch_parent, args=(parent,), name="parent-watch", daemon=True).start()
    store = open_store(spec.store_url)
    chain = connect(spec.rpc_url)
    try:
        client = LoyaltyClient(chain, spec.record, Account.from_key(spec.key), spec.delivery)
        worker = Worker(store, client, spec.options)
        worker.start()
        while not stop.wait(0.5):
            pass
        worker.stop(STOP_S)
    finally:
        store.close()
        chain.close()


def main() -> None:
    """The worker process's program (:data:`CHILD`): the spec pickled on stdin, by
    :class:`WorkerProcess`."""
    spec = pickle.load(sys.stdin.buffer)
    if not isinstance(spec, WorkerSpec):
        raise SystemExit("loyalty_chain.gateway.worker_process is started by the gateway, not by hand")
    run_worker(spec, sys.stdin.buffer)


__all__ = ["WorkerProcess", "WorkerSpec", "run_worker"]
