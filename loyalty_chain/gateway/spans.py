"""Where a request's time goes: wall and CPU seconds per named stage, summed, for ``/metrics``.

``spans.stage("node")`` around a piece of work adds its wall time (``perf_counter``) and the CPU
time of the thread doing it (``thread_time``) to that stage's sums; wall minus CPU is time spent
waiting (for the node, the disk, a lock, or the GIL while other threads run). ``/metrics`` shows
``loyalty_gateway_span_wall_seconds{stage="…"}``, ``…_cpu_seconds`` and ``…_count``; two readings
of them divided by the requests between them give each stage's time per request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Spans:
    """Summed wall and thread-CPU seconds per stage (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sums: dict[str, list[float]] = {}

    def add(self, stage: str, wall: float, cpu: float = 0.0) -> None:
        with self._lock:
            sums = self._sums.setdefault(stage, [0.0, 0.0, 0.0])
            sums[0] += 1
            sums[1] += wall
            sums[2] += cpu

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - wall, time.thread_time() - cpu)

    def prometheus(self) -> list[str]:
        """The sums in the Prometheus text format."""
        with self._lock:
            sums = {k: list(v) for k, v in sorted(self._sums.items())}
        lines: list[str] = []
        for i, kind in enumerate(("count", "wall_seconds", "cpu_seconds")):
            lines.append(f"# TYPE loyalty_gateway_span_{kind} counter")
            lines += [f'loyalty_gateway_span_{kind}{{stage="{k}"}} {v[i]:.6f}' for k, v in sums.items()]
        return lines
