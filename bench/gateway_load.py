"""What bench/gateway.py's event runs and relay runs share: watching the chain, percentiles, CPU of
processes, starting and stopping the servers, and reading the gateway's ``/metrics`` spans."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx2 as httpx

from loyalty_chain.chain import connect

STARTUP_S = 90.0


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def to_chain_s(posted: dict[str, float], seen: dict[str, float]) -> list[float]:
    """Seconds from each post to the block that showed it, for every one seen on chain."""
    return [seen[m] - t for m, t in posted.items() if m in seen]


def end_to_end_per_s(posted: dict[str, float], seen: dict[str, float], first_post: float) -> float:
    """How many of the posted were seen on chain, per second from the first post to the last seen."""
    done = [seen[m] for m in posted if m in seen]
    return len(done) / (max(done) - first_post) if done else 0.0


class Observer(threading.Thread):
    """Notes when each address is first seen in a log on chain (one eth_getLogs per new block):
    the token's mints (``Transfer`` from zero: the address is topic 2), or the catalog's
    ``PerkRedeemed`` (the member is topic 3)."""

    def __init__(self, url: str, contract: str, start: int, topics: list[str], at: int) -> None:
        super().__init__(daemon=True)
        self.chain = connect(url)
        self.contract, self.next_block = contract, start
        self.topics, self.at = topics, at
        self.seen: dict[str, float] = {}
        self.blocks: list[tuple[float, int, int]] = []
        """(when seen, gas used, gas limit) of each block, in order: how full the chain was kept."""
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            head = int(self.chain.w3.eth.block_number)
            if head >= self.next_block:
                logs = self.chain.w3.eth.get_logs(
                    {
                        "fromBlock": self.next_block,
                        "toBlock": head,
                        "address": self.contract,
                        "topics": self.topics,
                    }
                )
                now = time.perf_counter()
                for log in logs:
                    self.seen.setdefault("0x" + bytes(log["topics"][self.at])[-20:].hex(), now)
                for answer in self.chain.batch(
                    [("eth_getBlockByNumber", [hex(n), False]) for n in range(self.next_block, head + 1)]
                ):
                    block = answer.get("result") or {}
                    self.blocks.append(
                        (now, int(block.get("gasUsed", "0x0"), 16), int(block.get("gasLimit", "0x1"), 16))
                    )
                self.next_block = head + 1
            self.stop.wait(0.05)


def fill(blocks: Sequence[tuple[float, int, int]], start: float, end: float) -> float:
    """Gas used / gas limit of the blocks seen after ``start`` up to ``end`` (nan: none)."""
    used = [(u, g) for t, u, g in blocks if start < t <= end]
    return sum(u for u, _ in used) / sum(g for _, g in used) if used else float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU so far of a process and every process under it (Linux /proc)."""
    total = sum(cpu_seconds(c) for c in children(pid))
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return total
    return total + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux /proc; gone ones left out)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):  # gone meanwhile
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def named_children(name: str) -> list[int]:
    """This process's children called ``name`` (the bench's anvil)."""
    found = []
    for pid in children(os.getpid()):
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/comm").read_text().strip() == name:
                found.append(pid)
    return found


def spawn(cmd: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def wait_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code in (200, 404):
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up in {STARTUP_S:.0f} s:\n{log.read_text()}")


SPAN = re.compile(r'loyalty_gateway_span_(count|wall_seconds|cpu_seconds)\{stage="([^"]+)"\} (\S+)')
SPAN_KINDS = ("count", "wall_seconds", "cpu_seconds")


def spans(url: str) -> dict[str, tuple[float, float, float]]:
    """The gateway's spans so far: stage → (count, wall seconds, CPU seconds)."""
    out: dict[str, list[float]] = {}
    for line in httpx.get(f"{url}/metrics", timeout=30).text.splitlines():
        if m := SPAN.match(line):
            out.setdefault(m[2], [0.0, 0.0, 0.0])[SPAN_KINDS.index(m[1])] = float(m[3])
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def spans_between(
    before: dict[str, tuple[float, float, float]], after: dict[str, tuple[float, float, float]]
) -> dict[str, tuple[float, float, float]]:
    zero = (0.0, 0.0, 0.0)
    return {
        k: (v[0] - before.get(k, zero)[0], v[1] - before.get(k, zero)[1], v[2] - before.get(k, zero)[2])
        for k, v in after.items()
    }
