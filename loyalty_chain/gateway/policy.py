"""The relay policy: what the gateway pays gas for when it relays a member's signed redemption."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class RelayPolicy:
    per_member_per_hour: int = 10
    """Relays one member may get per rolling hour."""
    global_per_second: int = 100
    """Relays per second over all members (OpenZeppelin Relayer's default request limit)."""
    gas_ceiling: int = 400_000
    """Most gas one relay may take (estimated before sending)."""
    daily_gas_budget: int = 1_000_000_000
    """Most gas all relays may take per UTC day."""
    allow_contract_members: bool = False
    """Relay for members whose address has code (smart accounts; ERC-1271 signatures)."""


class RateWindow:
    """A sliding one-second window over all relays (in memory: it only smooths bursts)."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def take(self, now: float | None = None) -> bool:
        t = time.monotonic() if now is None else now
        with self._lock:
            while self._times and self._times[0] <= t - 1.0:
                self._times.popleft()
            if len(self._times) >= self.per_second:
                return False
            self._times.append(t)
            return True
