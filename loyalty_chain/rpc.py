"""The JSON-RPC transport: what a hosted provider really does, absorbed before anyone above sees it.

Every HTTP chain (:func:`loyalty_chain.chain.connect`, the managed devnet) talks through a
:class:`ResilientHTTPProvider`, so web3 reads, estimates and our own batches all get the same
treatment:

- **Retried when safe to repeat** — every JSON-RPC call we make is: reads trivially, and
  ``eth_sendRawTransaction`` because the same signed bytes can only ever be one transaction (a
  repeat is answered "already known" or "nonce too low", which the delivery layer reads as
  accepted). 429 and 5xx answers, connection resets and timeouts are retried with exponential
  backoff that honours ``Retry-After``; so are the elements of an HTTP-200 batch that came back
  as a rate-limit error (-32005 "limit exceeded"), alone.
- **Batches split** — a batch refused as too large (HTTP 413, or a single error object where a
  list was due) is halved until the provider takes it, and the size that worked is remembered.
- **Lost answers told, when asked** — a caller that can find out itself whether a request took
  effect (the delivery layer knows its transactions' hashes) passes ``resend_lost=False``: a
  request whose answer is lost after the node may have read it (reset, timeout, 5xx) is not sent
  again; each of its calls is answered ``{"error": {"message": "answer lost: …", "lost": True}}``.
  Repeating a batch of 100 sends whose answer a provider loses would only lose it again.
- **Errors are ours** — when retrying gives up, :class:`~loyalty_chain.errors.RpcUnavailableError`
  (nothing answers) or :class:`~loyalty_chain.errors.RpcLimitError` (it keeps refusing) is raised,
  never an HTTP library's exception.

Answers are decoded straight from the response's bytes by msgspec (no intermediate ``str``; a
first index reads hundreds of MB of ``eth_getLogs`` answers); :meth:`ResilientHTTPProvider.request`
takes a typed decoder for one call (the indexer decodes logs into structs, skipping fields it does
not read).

Counters (:attr:`ResilientHTTPProvider.stats`) count JSON-RPC calls per method, batch elements one
by one, so a benchmark can report requests per confirmed transaction.
"""

from __future__ import annotations

import email.utils
import itertools
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import msgspec
from web3 import HTTPProvider
from web3.types import RPCEndpoint, RPCResponse

from .errors import RpcLimitError, RpcUnavailableError
from .http_post import PostFailed, poster_for


@dataclass(frozen=True)
class RpcSettings:
    """How hard the transport tries before giving up. Defaults suit hosted providers."""

    max_batch: int = 100
    """Most JSON-RPC calls in one HTTP batch (public providers refuse more than 100)."""
    timeout_s: float = 30.0
    """One HTTP request's connect + read timeout."""
    retry_for_s: float = 90.0
    """How long one call keeps being retried before the error is raised."""
    backoff_s: float = 0.25
    """First wait between retries; doubled each time, up to :attr:`max_backoff_s`."""
    max_backoff_s: float = 8.0
    max_retry_after_s: float = 30.0
    """A longer ``Retry-After`` is waited for this long, then asked again."""


TRANSIENT_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
TOO_LARGE_HTTP = frozenset({413})
UNREAD_HTTP = frozenset({408, 425, 429})
"""Transient statuses that say the request was not acted on (the others may come after it was)."""

_TRANSIENT_MESSAGES = (
    "rate limit",
    "too many requests",
    "limit exceeded",
    "exceeded the quota",
    "capacity",
    "try again",
    "temporarily",
    "request timeout",
    "timed out",
    "busy",
)
_BATCH_TOO_LARGE_MESSAGES = ("batch", "too large", "too many")


def is_transient_error(error: Any) -> bool:
    """Whether a JSON-RPC error object means "ask again later" (never a revert or a refusal)."""
    if not isinstance(error, dict):
        return False
    code = error.get("code")
    message = str(error.get("message", "")).lower()
    if "revert" in message:
        return False
    return code in (429, -32005, -32029) or any(m in message for m in _TRANSIENT_MESSAGES)


def _is_batch_refusal(error: Any) -> bool:
    message = str(error.get("message", "") if isinstance(error, dict) else error).lower()
    return "batch" in message and any(m in message for m in _BATCH_TOO_LARGE_MESSAGES)


class _Transient(Exception):
    """One attempt failed in a way worth repeating (internal to the transport)."""

    def __init__(
        self,
        reason: str,
        retry_after: float | None = None,
        *,
        unreachable: bool = False,
        maybe_read: bool = True,
    ) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.unreachable = unreachable
        self.maybe_read = maybe_read
        """Whether the node may have acted on the request (False: refused before it was read)."""


class _TooLarge(Exception):
    """The provider refused the batch for its size."""


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


Decode = Callable[[bytes], Any]
"""A response body (bytes) to the decoded JSON-RPC answer(s): dicts, whatever their values' types."""

decode_json: Decode = msgspec.json.decode
"""The default: plain JSON to dicts and lists, from the bytes as they came (no decoded ``str`` copy)."""


class ResilientHTTPProvider(HTTPProvider):
    """web3's HTTP provider with retries, backoff, batch splitting and our errors (module docstring)."""

    def __init__(self, endpoint_uri: str, settings: RpcSettings | None = None) -> None:
        super().__init__(endpoint_uri, exception_retry_configuration=None)
        self.url = str(endpoint_uri)
        self.settings = settings or RpcSettings()
        self.max_batch = self.settings.max_batch
        self.stats: Counter[str] = Counter()
        self.on_wait: Callable[[str], None] | None = None
        """Told why the transport is waiting (rate limited, node unreachable), for progress lines."""
        self._poster = poster_for(self.url)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._rng = random.Random()
        self._chain_id: Any = None

    # -- web3's provider interface ------------------------------------------------------------

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        # web3's validation middleware asks eth_chainId before every eth_call and eth_estimateGas:
        # two round trips of three per contract read. The first answer is remembered. A node that
        # changes chain id behind the same URL is still caught: the delivery layer's identity
        # check asks in a batch (make_batch_request / batch), which is never answered from memory.
        if method == "eth_chainId" and self._chain_id is not None:
            return {"jsonrpc": "2.0", "id": 0, "result": self._chain_id}
        (response,) = self._calls([(str(method), params)])
        if method == "eth_chainId" and "result" in response:
            self._chain_id = response["result"]
        return response

    def make_batch_request(self, requests_: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse]:
        return self._calls([(str(m), p) for m, p in requests_])

    def request(self, method: str, params: Any, decode: Decode) -> dict[str, Any]:
        """One call with the transport's retries, its answer decoded by ``decode`` (a typed msgspec
        decoder returning a dict with ``result`` or ``error``)."""
        (response,) = self._calls([(method, params)], decode=decode)
        return dict(response)

    def batch(
        self, calls: Sequence[tuple[str, Sequence[Any]]], *, resend_lost: bool = True
    ) -> list[dict[str, Any]]:
        """JSON-RPC calls in as few HTTP batches as the provider takes; answers in order, errors
        that are not transient left in place for the caller to read. ``resend_lost=False``: a
        request whose answer was lost is not repeated (see the module docstring)."""
        calls_ = [(m, list(p)) for m, p in calls]
        return [dict(r) for r in self._calls(calls_, resend_lost=resend_lost)]

    # -- the work -----------------------------------------------------------------------------

    def _calls(
        self, calls: Sequence[tuple[str, Any]], *, resend_lost: bool = True, decode: Decode = decode_json
    ) -> list[RPCResponse]:
        out: list[RPCResponse | None] = [None] * len(calls)
        pending = list(range(len(calls)))
        deadline = time.monotonic() + self.settings.retry_for_s
        attempt = 0
        while pending:
            retry_after: float | None = None
            failed: list[int] = []
            reason = ""
            for chunk in self._chunks(pending):
                try:
                    answers = self._post([calls[i] for i in chunk], single=len(calls) == 1, decode=decode)
                except _TooLarge:
                    if len(chunk) == 1:
                        raise RpcLimitError(self.url, "refuses even a single call as too large") from None
                    with self._lock:
                        self.max_batch = max(1, min(self.max_batch, len(chunk)) // 2)
                    failed += chunk
                    reason = "batch too large"
                    retry_after = 0.0
                    continue
                except _Transient as exc:
                    if exc.maybe_read and not resend_lost:
                        for i in chunk:
                            out[i] = _lost_answer(str(exc))
                        continue
                    failed += chunk
                    reason = str(exc)
                    if exc.retry_after is not None:
                        retry_after = max(retry_after or 0.0, exc.retry_after)
                    if exc.unreachable and time.monotonic() > deadline:
                        raise RpcUnavailableError(self.url, reason) from None
                    continue
                for i, answer in zip(chunk, answers, strict=True):
                    if is_transient_error(answer.get("error")):
                        failed.append(i)
                        reason = str(answer["error"].get("message", answer["error"]))
                    else:
                        out[i] = answer
            pending = failed
            if not pending:
                break
            if time.monotonic() > deadline:
                raise RpcLimitError(self.url, reason)
            attempt += 1
            wait = self._backoff(attempt, retry_after)
            if self.on_wait is not None and wait >= 1.0:
                self.on_wait(f"the node is limiting us ({reason}); retrying in {wait:.0f}s")
            time.sleep(min(wait, max(0.0, deadline - time.monotonic()) + 0.01))
        return [r for r in out if r is not None]

    def _chunks(self, indexes: list[int]) -> list[list[int]]:
        size = max(1, self.max_batch)
        return [indexes[i : i + size] for i in range(0, len(indexes), size)]

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.settings.max_retry_after_s)
        base = min(self.settings.max_backoff_s, self.settings.backoff_s * 2.0 ** (attempt - 1))
        return float(base) * (0.5 + self._rng.random() / 2)  # jitter: many clients don't retry in step

    def _post(
        self, calls: Sequence[tuple[str, Any]], *, single: bool, decode: Decode = decode_json
    ) -> list[RPCResponse]:
        ids = [next(self._ids) for _ in calls]
        payload: Any = [
            {"jsonrpc": "2.0", "method": m, "params": p, "id": i}
            for (m, p), i in zip(calls, ids, strict=True)
        ]
        as_batch = not (single and len(calls) == 1)
        body = json.dumps(payload if as_batch else payload[0]).encode()
        with self._lock:
            self.stats["http"] += 1
            for method, _ in calls:
                self.stats[method] += 1
        try:
            reply = self._poster.post(body, self.settings.timeout_s)
        except PostFailed as exc:
            raise _Transient(exc.reason, unreachable=exc.unreachable) from None
        if reply.status in TOO_LARGE_HTTP:
            raise _TooLarge
        if reply.status in TRANSIENT_HTTP:
            status = reply.status
            raise _Transient(
                f"HTTP {status}", _retry_after(reply.retry_after), maybe_read=status not in UNREAD_HTTP
            )
        try:
            decoded = decode(reply.body)
        except ValueError:  # msgspec.DecodeError is one
            raise _Transient(f"HTTP {reply.status} with a body that is not JSON") from None
        if as_batch and isinstance(decoded, dict):
            # one error object for a whole batch: its size, or a rate limit on the whole request
            error = decoded.get("error")
            if _is_batch_refusal(error):
                raise _TooLarge
            raise _Transient(
                str(error.get("message") if isinstance(error, dict) else error), maybe_read=False
            )
        answers = decoded if as_batch else [decoded]
        if not isinstance(answers, list) or len(answers) != len(calls):
            raise _Transient(f"HTTP {reply.status}: an answer that does not match the request")
        typed: list[RPCResponse] = [cast(RPCResponse, a) for a in answers]
        by_id = {a.get("id"): a for a in typed}
        if set(by_id) != set(ids):
            # answers without our ids (some proxies null them on errors): take them in order
            return typed
        return [by_id[i] for i in ids]


def _lost_answer(reason: str) -> RPCResponse:
    return cast(
        RPCResponse,
        {"jsonrpc": "2.0", "id": None, "error": {"message": f"answer lost: {reason}", "lost": True}},
    )
