"""How the indexer reads ``eth_getLogs`` answers: straight from the HTTP body into structs, an answer
shaped otherwise converted, eth-tester's bytes and ints made text, a node's error raised as ours."""

from __future__ import annotations

import json
from typing import Any

import pytest
from web3 import Web3

from loyalty_chain.chain import Chain
from loyalty_chain.errors import ChainError
from loyalty_chain.http_post import Reply
from loyalty_chain.indexer.fetch import RawLog, decode_logs_answer, get_logs, raw_log
from loyalty_chain.rpc import ResilientHTTPProvider

LOG = {
    "address": "0x" + "11" * 20,
    "topics": ["0x" + "aa" * 32, "0x" + "00" * 12 + "bb" * 20],
    "data": "0x" + "00" * 31 + "05",
    "blockNumber": "0x1a",
    "blockHash": "0x" + "cc" * 32,
    "blockTimestamp": "0x6553f100",
    "transactionHash": "0x" + "dd" * 32,
    "transactionIndex": "0x0",
    "logIndex": "0x3",
    "removed": False,
}
EXPECTED = RawLog(
    address=LOG["address"],
    topics=tuple(LOG["topics"]),
    data=LOG["data"],
    blockNumber="0x1a",
    transactionHash=LOG["transactionHash"],
    logIndex="0x3",
    blockHash=LOG["blockHash"],
    blockTimestamp="0x6553f100",
)


def body(answer: dict[str, Any]) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, **answer}).encode()


def test_a_node_answer_becomes_structs_of_its_fields() -> None:
    answer = decode_logs_answer(body({"result": [LOG, {**LOG, "logIndex": "0x4", "removed": True}]}))
    assert answer["result"][0] == EXPECTED
    assert answer["result"][1].logIndex == "0x4" and answer["result"][1].removed


def test_a_log_without_timestamp_or_hash_keeps_defaults() -> None:
    bare = {k: v for k, v in LOG.items() if k not in ("blockTimestamp", "blockHash", "removed")}
    (log,) = decode_logs_answer(body({"result": [bare]}))["result"]
    assert log.blockTimestamp is None and log.blockHash == "" and not log.removed


def test_numbers_instead_of_hex_text_are_converted() -> None:
    odd = {**LOG, "blockNumber": 26, "logIndex": 3, "blockTimestamp": 0x6553F100}
    assert decode_logs_answer(body({"result": [odd]}))["result"] == [EXPECTED]


def test_an_error_answer_is_kept_for_the_caller() -> None:
    answer = decode_logs_answer(
        body({"error": {"code": -32005, "message": "query returned more than 10000"}})
    )
    assert answer["error"]["message"] == "query returned more than 10000" and "result" not in answer


def test_eth_tester_bytes_and_ints_become_text() -> None:
    tester = {
        **LOG,
        "address": bytes.fromhex("11" * 20),
        "topics": [bytes.fromhex("aa" * 32), bytes.fromhex("00" * 12 + "bb" * 20)],
        "data": bytes.fromhex("00" * 31 + "05"),
        "blockNumber": 26,
        "blockHash": bytes.fromhex("cc" * 32),
        "blockTimestamp": 0x6553F100,
        "transactionHash": bytes.fromhex("dd" * 32),
        "logIndex": 3,
    }
    assert raw_log(tester) == EXPECTED


class _Poster:
    """Answers every POST with the given JSON-RPC answer (its id copied from the request)."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer

    def post(self, data: bytes, timeout: float) -> Reply:
        return Reply(200, body({**self.answer, "id": json.loads(data)["id"]}), None)


def chain_answering(answer: dict[str, Any]) -> Chain:
    provider = ResilientHTTPProvider("http://127.0.0.1:9")
    provider._poster = _Poster(answer)
    return Chain(w3=Web3(provider), chain_id=31337, rpc_url=provider.url, kind="rpc")


def test_get_logs_through_the_transport() -> None:
    chain = chain_answering({"result": [LOG]})
    assert get_logs(chain, [LOG["address"]], 1, 30) == [EXPECTED]
    assert chain.rpc_stats["eth_getLogs"] == 1


def test_a_refusal_is_raised_as_ours() -> None:
    chain = chain_answering({"error": {"code": -32602, "message": "block range too large"}})
    with pytest.raises(ChainError, match="block range too large"):
        get_logs(chain, [LOG["address"]], 1, 30)
