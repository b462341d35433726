"""``eth_getLogs`` in block ranges that adapt to how many logs the node returns, and block headers.

A range is halved when the node refuses it (too many results, range too large, a timeout); otherwise
the next range is sized from the last one's log density to hold about
:data:`FetchSettings.target_logs` (growing at most ×2 and shrinking at most ×¼ a step), so a quiet
chain is read in few calls and a busy one in calls of a size the node answers quickly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..chain import Chain
from ..errors import ChainError, RpcUnavailableError


@dataclass(frozen=True)
class FetchSettings:
    """How the indexer asks for logs."""

    initial_span: int = 100
    """Blocks in the first ``eth_getLogs`` call (small: how busy the chain is is not known yet)."""
    max_span: int = 1_000_000
    """The most blocks one call may cover (public RPCs often allow far fewer; they refuse, we halve)."""
    target_logs: int = 20_000
    """Logs wanted per call: the next range is sized for it from the last one's density (at most
    doubled, at least quartered at a time)."""
    max_refusals: int = 24
    """Refusals in a row (each halving the range) before giving up with the node's message."""
    header_batch: int = 500
    """Block headers per JSON-RPC batch, when a node's logs carry no ``blockTimestamp``."""


@dataclass(frozen=True)
class LogRange:
    """The logs of blocks ``start..end`` (inclusive)."""

    start: int
    end: int
    logs: list[dict[str, Any]]


def fetch_ranges(
    chain: Chain, addresses: Sequence[str], start: int, end: int, settings: FetchSettings
) -> Iterator[LogRange]:
    """Every log of ``addresses`` in blocks ``start..end``, one adaptive range at a time, in order."""
    span = max(1, settings.initial_span)
    refusals = 0
    block = start
    while block <= end:
        last = min(end, block + span - 1)
        try:
            logs = get_logs(chain, addresses, block, last)
        except ChainError as exc:
            refusals += 1
            if span == 1 or refusals > settings.max_refusals:
                raise ChainError(
                    f"the node refuses eth_getLogs for blocks {block}-{last}: {exc}; "
                    "try another RPC endpoint (an archive or indexing node)"
                ) from None
            span = max(1, span // 2)
            continue
        refusals = 0
        span = next_span(last - block + 1, len(logs), settings)
        yield LogRange(block, last, logs)
        block = last + 1


def next_span(span: int, logs: int, settings: FetchSettings) -> int:
    """The next range's size: the last one's scaled to ``target_logs`` (×¼ … ×2), within the bounds."""
    wanted = span * 2 if logs == 0 else span * settings.target_logs // logs
    return max(1, min(settings.max_span, span * 2, max(span // 4, wanted)))


def get_logs(chain: Chain, addresses: Sequence[str], start: int, end: int) -> list[dict[str, Any]]:
    """One ``eth_getLogs`` call, raw (no web3 formatting: that is most of its cost for big answers)."""
    params = [{"address": list(addresses), "fromBlock": hex(start), "toBlock": hex(end)}]
    provider: Any = chain.w3.provider
    try:
        response = provider.make_request("eth_getLogs", params)
    except OSError as exc:  # requests' connection errors and timeouts are OSErrors
        if _is_timeout(exc):
            raise ChainError(f"timed out ({exc})") from None
        raise RpcUnavailableError(chain.rpc_url, str(exc)) from exc
    if "error" in response:
        raise ChainError(str(response["error"].get("message", response["error"])))
    return list(response["result"])


def _is_timeout(exc: OSError) -> bool:
    return "timed out" in str(exc).lower() or "timeout" in type(exc).__name__.lower()


def block_headers(chain: Chain, numbers: Sequence[int], batch: int) -> dict[int, tuple[str, int]]:
    """``{number: (hash, timestamp)}`` of the given blocks, fetched in JSON-RPC batches."""
    found: dict[int, tuple[str, int]] = {}
    for i in range(0, len(numbers), batch):
        chunk = numbers[i : i + batch]
        responses = chain.batch([("eth_getBlockByNumber", [hex(n), False]) for n in chunk])
        for number, response in zip(chunk, responses, strict=True):
            block = response.get("result")
            if not block:
                raise ChainError(f"the node does not know block {number}: {response.get('error')}")
            found[number] = (_hex(block["hash"]), _num(block["timestamp"]))
    return found


def _num(value: Any) -> int:
    return value if isinstance(value, int) else int(str(value), 16)


def _hex(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    return str(value)


def latest_block(chain: Chain) -> int:
    return int(chain.w3.eth.block_number)
