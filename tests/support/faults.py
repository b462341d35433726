"""What the fault proxy breaks, how often, and what it counts (stdlib only).

:class:`Faults` is the switchboard: every field is one documented behaviour of real nodes or hosted
providers, off by default, changeable while the proxy runs (``proxy.faults.update(http_502=0.1)``,
or replace the whole object: ``proxy.faults = profile("hostile")``). Probabilities are per HTTP
request for transport faults and per JSON-RPC call for call faults; every injected fault is counted
under its field name in :attr:`Counters.faults`.

Field groups:

- before forwarding (the node never saw the request): ``http_502``, ``reset``, ``rate_limit_rps`` /
  ``method_rate_limits`` (HTTP 429 + ``Retry-After``), ``max_batch`` (whole batch refused),
  ``batch_element_errors`` (-32005 for single elements of a batch), ``txpool_full`` (sends);
- after forwarding (the node has it, the answer is lost or wrong): ``http_502_after_forward``,
  ``reset_after_forward``, ``lose_send_answers``, ``already_known``, ``batch_send_errors_forwarded``,
  ``drop_after_send``;
- timing: ``latency``, ``receipt_lag_s``.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

LostAnswerKind = Literal["reset", "502", "timeout"]
BatchRefusal = Literal["error_object", "413"]
AlreadyKnownMode = Literal["replace", "resend"]

_PROBABILITIES = (
    "http_502",
    "reset",
    "http_502_after_forward",
    "reset_after_forward",
    "lose_send_answers",
    "already_known",
    "txpool_full",
    "drop_after_send",
    "batch_element_errors",
    "batch_send_errors_forwarded",
)


@dataclass
class Faults:
    """The faults one proxy injects; all off by default. Thread-safe through :meth:`update`."""

    http_502: float = 0.0
    """Share of HTTP requests answered ``502 Bad Gateway`` (an HTML body) before forwarding."""
    reset: float = 0.0
    """Share of HTTP requests whose connection is reset (TCP RST, no answer) before forwarding."""
    http_502_after_forward: float = 0.0
    """Share of HTTP requests forwarded to the node, then answered 502 (the node did the work)."""
    reset_after_forward: float = 0.0
    """Share of HTTP requests forwarded to the node, then reset without an answer."""

    lose_send_answers: float = 0.0
    """Share of ``eth_sendRawTransaction`` calls forwarded (the node has the transaction) whose
    answer is then lost as ``lost_answer_kind`` says. Inside a batch the whole HTTP answer is lost."""
    lost_answer_kind: LostAnswerKind = "reset"
    """How an answer is lost: ``"reset"`` (TCP RST), ``"502"`` or ``"timeout"`` (the connection
    hangs for ``lost_answer_hold_s``, then closes without an answer)."""
    lost_answer_hold_s: float = 5.0
    """How long a ``"timeout"`` answer hangs; make the client's read timeout shorter than this."""
    already_known: float = 0.0
    """Share of sends forwarded and accepted whose answer says ``-32000 "already known"`` (geth's
    answer to a duplicate). The node's own error, if it refused the send, passes through."""
    already_known_mode: AlreadyKnownMode = "replace"
    """``"replace"``: the proxy writes geth's error; ``"resend"``: it forwards the same bytes again
    and returns the node's own answer to the duplicate (anvil: "transaction already imported" or,
    once mined, "nonce too low")."""
    txpool_full: float = 0.0
    """Share of sends NOT forwarded, answered ``-32000 "txpool is full"``."""
    drop_after_send: float = 0.0
    """Share of sends forwarded whose hash is then evicted with ``drop_method`` (answer unchanged).
    Only meaningful when the node does not mine at once (automine off or interval mining)."""
    drop_method: str = "anvil_dropTransaction"
    """The upstream method that evicts a pending transaction (hardhat: ``hardhat_dropTransaction``)."""

    rate_limit_rps: float | None = None
    """Token bucket over all calls (a batch of N costs N); over it: HTTP 429, ``Retry-After``."""
    rate_limit_burst: float | None = None
    """Bucket size; default one second's worth. A batch bigger than the bucket needs a full bucket
    and leaves it in debt, so it is slowed down, never refused forever."""
    method_rate_limits: dict[str, float] = field(default_factory=dict)
    """Per-method buckets, calls per second, e.g. ``{"eth_estimateGas": 1.0}``."""
    max_batch: int | None = None
    """Batches with more calls than this are refused whole, shaped as ``batch_refusal`` says."""
    batch_refusal: BatchRefusal = "error_object"
    """``"error_object"``: HTTP 200 and ONE (non-array) error object -32005 "batch size too large"
    (Alchemy, Infura); ``"413"``: HTTP 413 with that object as body."""
    batch_element_errors: float = 0.0
    """Share of calls inside a batch NOT forwarded and answered ``-32005 "limit exceeded"`` in
    place (HTTP 200): always safe to retry."""
    batch_send_errors_forwarded: float = 0.0
    """Share of sends inside a batch forwarded, then answered ``-32005 "limit exceeded"``."""

    latency: tuple[float, float] = (0.0, 0.0)
    """Uniform random delay (seconds) before each HTTP request is handled."""
    receipt_lag_s: float = 0.0
    """Receipts (and ``eth_getTransactionByHash``'s block fields) read as not yet mined until this
    long after the proxy first saw them mined, like a load balancer's lagging node."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._check(self._values())

    def update(self, **changes: Any) -> Faults:
        """Change some fields at once, checked; running requests see all or none of the change."""
        unknown = set(changes) - set(_field_names())
        if unknown:
            raise TypeError(f"unknown fault field(s) {sorted(unknown)}; known: {_field_names()}")
        with self._lock:
            self._check({**self._values(), **changes})
            for name, value in changes.items():
                setattr(self, name, value)
        return self

    def snapshot(self) -> Faults:
        """A consistent copy, taken once per HTTP request."""
        with self._lock:
            return self._copy_fields()

    def _values(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in _field_names()}
        values["method_rate_limits"] = dict(values["method_rate_limits"])
        return values

    def _copy_fields(self) -> Faults:
        return Faults(**self._values())

    @staticmethod
    def _check(values: dict[str, Any]) -> None:
        for name in _PROBABILITIES:
            if not 0.0 <= float(values[name]) <= 1.0:
                raise ValueError(f"{name}={values[name]!r} is not a probability; give 0.0..1.0")
        low, high = values["latency"]
        if not 0.0 <= low <= high:
            raise ValueError(f"latency={values['latency']!r}; give (low, high) with 0 <= low <= high")
        for name in ("rate_limit_rps", "rate_limit_burst", "max_batch"):
            if values[name] is not None and values[name] <= 0:
                raise ValueError(f"{name}={values[name]!r} must be positive, or None for no limit")
        for method, rps in values["method_rate_limits"].items():
            if rps <= 0:
                raise ValueError(f"method_rate_limits[{method!r}]={rps!r} must be positive")
        for name, allowed in (
            ("lost_answer_kind", ("reset", "502", "timeout")),
            ("batch_refusal", ("error_object", "413")),
            ("already_known_mode", ("replace", "resend")),
        ):
            if values[name] not in allowed:
                raise ValueError(f"{name}={values[name]!r}; give one of {allowed}")


def _field_names() -> list[str]:
    return [f.name for f in dataclasses.fields(Faults) if not f.name.startswith("_")]


PROFILES: dict[str, dict[str, Any]] = {
    "clean": {},
    # issue 8's hostile provider: 50 requests/s, batches <= 100, 1% 502s and 1% resets,
    # 0.1-0.5 s latency, 3 s receipt lag, 5% lost send answers
    "hostile": {
        "rate_limit_rps": 50.0,
        "max_batch": 100,
        "http_502": 0.01,
        "reset": 0.01,
        "latency": (0.1, 0.5),
        "receipt_lag_s": 3.0,
        "lose_send_answers": 0.05,
    },
}


def profile(name: str, **overrides: Any) -> Faults:
    """A named preset (``"clean"``, ``"hostile"``), optionally with some fields changed."""
    if name not in PROFILES:
        raise ValueError(f"unknown fault profile {name!r}; known: {sorted(PROFILES)}")
    return Faults(**{**PROFILES[name], **overrides})


@dataclass
class Counters:
    """What a proxy saw and did since the last reset (a copy; the live one is the proxy's)."""

    http_requests: int = 0
    """HTTP requests received (a batch is one)."""
    batches: int = 0
    """HTTP requests whose body was a JSON array."""
    methods: Counter[str] = field(default_factory=Counter)
    """JSON-RPC calls received, by method; calls inside batches counted one by one."""
    forwarded: Counter[str] = field(default_factory=Counter)
    """Calls the upstream node received, by method (including the proxy's own drops/resends)."""
    faults: Counter[str] = field(default_factory=Counter)
    """Faults injected, by :class:`Faults` field name (``rate_limit_rps`` for any 429)."""

    @property
    def calls(self) -> int:
        """All JSON-RPC calls received."""
        return sum(self.methods.values())

    def copy(self) -> Counters:
        return Counters(
            self.http_requests,
            self.batches,
            Counter(self.methods),
            Counter(self.forwarded),
            Counter(self.faults),
        )


class TokenBucket:
    """A request-rate bucket; not locked (the proxy holds its lock around it)."""

    def __init__(self) -> None:
        self._tokens: float | None = None
        self._stamp = 0.0

    def wait_s(self, cost: int, rps: float, burst: float | None, now: float) -> float:
        """Seconds until ``cost`` calls may pass (0.0: now); refills the bucket first."""
        size = max(1.0, burst if burst is not None else rps)
        tokens = size if self._tokens is None else self._tokens + (now - self._stamp) * rps
        self._tokens, self._stamp = min(size, tokens), now
        need = min(float(cost), size)
        return 0.0 if self._tokens >= need else (need - self._tokens) / rps

    def take(self, cost: int) -> None:
        assert self._tokens is not None, "wait_s() refills the bucket before take()"
        self._tokens -= cost


def retry_after_header(wait_s: float) -> str:
    """``Retry-After`` is whole seconds (RFC 9110); never 0, which clients read as "now"."""
    return str(max(1, math.ceil(wait_s)))
