"""``eth_getLogs`` in block ranges that adapt to how many logs the node returns, and block headers.

A range is halved when the node refuses it (too many results, range too large, a timeout); otherwise
the next range is sized from the last one's log density to hold about
:data:`FetchSettings.target_logs` (growing at most ×2 and shrinking at most ×¼ a step), so a quiet
chain is read in few calls and a busy one in calls of a size the node answers quickly.

An HTTP node's answer is decoded from its bytes straight into :class:`RawLog` structs (msgspec: the
fields the indexer reads, as text, untracked by the garbage collector); a first index reads hundreds
of MB of them, and decoding them into dicts was the largest part of its CPU time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import msgspec

from ..chain import Chain
from ..errors import ChainError, RpcUnavailableError
from ..rpc import ResilientHTTPProvider, decode_json


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


class RawLog(msgspec.Struct, gc=False):
    """One ``eth_getLogs`` entry as the node sent it (hex text), the fields the indexer reads (named
    as in JSON-RPC, so that msgspec reads them as they are; ``blockTimestamp``: anvil and recent geth
    send it, else the blocks' headers are asked)."""

    address: str
    topics: tuple[str, ...]
    """A tuple: the garbage collector stops tracking tuples of text, never lists (a first index holds
    two ranges of ~20,000 logs at once)."""
    data: str
    blockNumber: str
    transactionHash: str
    logIndex: str
    blockHash: str = ""
    blockTimestamp: str | None = None
    removed: bool = False


class _LogsAnswer(TypedDict, total=False):
    jsonrpc: str
    id: Any
    result: list[RawLog] | None
    error: Any


_typed = msgspec.json.Decoder(_LogsAnswer)


def decode_logs_answer(body: bytes) -> Any:
    """An ``eth_getLogs`` answer with its logs as :class:`RawLog`; one a node shaped otherwise (numbers
    instead of hex text, say) is decoded plainly and converted."""
    try:
        return _typed.decode(body)
    except msgspec.ValidationError:
        answer = decode_json(body)
        if isinstance(answer, dict) and isinstance(answer.get("result"), list):
            answer["result"] = [raw_log(log) for log in answer["result"]]
        return answer


def raw_log(log: Mapping[str, Any]) -> RawLog:
    """A log from any provider (eth-tester gives bytes and ints) as :class:`RawLog`."""
    stamp = log.get("blockTimestamp")
    return RawLog(
        address=_hex(log["address"]),
        topics=tuple(_hex(t) for t in log["topics"]),
        data=_hex(log["data"]),
        blockNumber=_hex_int(log["blockNumber"]),
        transactionHash=_hex(log["transactionHash"]),
        logIndex=_hex_int(log["logIndex"]),
        blockHash=_hex(log.get("blockHash") or ""),
        blockTimestamp=None if stamp is None else _hex_int(stamp),
        removed=bool(log.get("removed", False)),
    )


@dataclass(frozen=True)
class LogRange:
    """The logs of blocks ``start..end`` (inclusive)."""

    start: int
    end: int
    logs: list[RawLog]


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


def get_logs(chain: Chain, addresses: Sequence[str], start: int, end: int) -> list[RawLog]:
    """One ``eth_getLogs`` call, raw (no web3 formatting: that is most of its cost for big answers)."""
    params = [{"address": list(addresses), "fromBlock": hex(start), "toBlock": hex(end)}]
    provider: Any = chain.w3.provider
    try:
        if isinstance(provider, ResilientHTTPProvider):
            response = provider.request("eth_getLogs", params, decode_logs_answer)
        else:  # the embedded chain, or a provider someone passed in
            response = dict(provider.make_request("eth_getLogs", params))
            if isinstance(response.get("result"), list):
                response["result"] = [raw_log(log) for log in response["result"]]
    except OSError as exc:  # requests' connection errors and timeouts are OSErrors
        if _is_timeout(exc):
            raise ChainError(f"timed out ({exc})") from None
        raise RpcUnavailableError(chain.rpc_url, str(exc)) from exc
    if "error" in response:
        raise ChainError(str(response["error"].get("message", response["error"])))
    return list(response.get("result") or [])


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
    text = str(value)
    return text if text.startswith("0x") or not text else "0x" + text


def _hex_int(value: Any) -> str:
    return hex(value) if isinstance(value, int) else str(value)


def latest_block(chain: Chain) -> int:
    return int(chain.w3.eth.block_number)
