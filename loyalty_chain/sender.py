"""Sending transactions fast and correctly: sign locally, own the nonce, batch the JSON-RPC.

One :class:`Sender` per signing account. ``send`` is the careful path (simulate, then send, then
wait); ``send_many`` is the fast one: every transaction is signed locally with a gas limit known in
advance, the raw transactions go out in JSON-RPC batches, and the receipts are fetched together.
A transaction that fails comes back as a :class:`~loyalty_chain.errors.TransactionError` carrying
its decoded custom error, in its place in the result list; the nonce sequence is re-read from the
chain after any send error so that nothing is sent twice and no gap is left.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any, cast

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from hexbytes import HexBytes
from web3._utils.events import get_event_data
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from .chain import Chain
from .errors import ContractRevertError, RpcUnavailableError, TransactionError

RPC_BATCH_SIZE = 200
"""Raw transactions per JSON-RPC batch request."""

RECEIPT_POLL_S = 0.05
RECEIPT_TIMEOUT_S = 120.0
GAS_MARGIN = 1.2
"""Multiplier on a gas estimate when the careful path estimates."""


@dataclass(frozen=True)
class Event:
    """One decoded log: the event's name, its arguments and where it came from."""

    name: str
    args: dict[str, Any]
    address: str
    log_index: int


@dataclass(frozen=True)
class TxResult:
    """What a mined transaction did; its events are decoded when first asked for."""

    tx_hash: str
    block: int
    gas_used: int
    logs: tuple[Any, ...] = field(default=(), repr=False, compare=False)
    decoder: ErrorDecoder | None = field(default=None, repr=False, compare=False)

    @cached_property
    def events(self) -> tuple[Event, ...]:
        """The program's events this transaction emitted (decoding thousands of receipts up front
        would cost more than sending them)."""
        return self.decoder.decode_logs(self.logs) if self.decoder else ()

    def event(self, name: str) -> Event:
        for ev in self.events:
            if ev.name == name:
                return ev
        raise KeyError(f"transaction {self.tx_hash} emitted no {name} event")


class ErrorDecoder:
    """Turns revert data into our :class:`ContractRevertError` using the program's ABIs."""

    def __init__(self, contracts: Mapping[str, Contract] | Iterable[Contract]) -> None:
        named = contracts if isinstance(contracts, Mapping) else {c.address: c for c in contracts}
        self._errors: dict[bytes, tuple[str, dict[str, Any]]] = {}
        self._topics: dict[tuple[str, bytes], dict[str, Any]] = {}
        self._codec: Any = None
        for label, contract in named.items():
            abi = cast(list[dict[str, Any]], contract.abi)
            for entry in abi:
                if entry["type"] == "error":
                    types = ",".join(_abi_type(i) for i in entry["inputs"])
                    selector = function_signature_to_4byte_selector(f"{entry['name']}({types})")
                    self._errors[selector] = (label, dict(entry))
            for entry in abi:
                if entry["type"] == "event" and not entry.get("anonymous"):
                    types = ",".join(_abi_type(i) for i in entry["inputs"])
                    topic = keccak(text=f"{entry['name']}({types})")
                    self._topics[(contract.address.lower(), topic)] = dict(entry)
            self._codec = contract.w3.codec

    def decode(self, data: bytes | str | None, *, tx_hash: str | None = None) -> TransactionError:
        raw = HexBytes(data) if data else HexBytes(b"")
        if len(raw) >= 4 and bytes(raw[:4]) in self._errors:
            contract, entry = self._errors[bytes(raw[:4])]
            types = [_abi_type(i) for i in entry["inputs"]]
            values = abi_decode(types, bytes(raw[4:]))
            args = {
                i["name"] or f"arg{n}": to_checksum_address(v) if i["type"] == "address" else _plain(v)
                for n, (i, v) in enumerate(zip(entry["inputs"], values, strict=True))
            }
            return ContractRevertError(entry["name"], args, contract=contract, tx_hash=tx_hash)
        if raw[:4] == HexBytes("0x08c379a0"):  # Error(string)
            (reason,) = abi_decode(["string"], bytes(raw[4:]))
            return ContractRevertError("Error", {"reason": reason}, tx_hash=tx_hash)
        if raw[:4] == HexBytes("0x4e487b71"):  # Panic(uint256)
            (code,) = abi_decode(["uint256"], bytes(raw[4:]))
            return ContractRevertError("Panic", {"code": hex(code)}, tx_hash=tx_hash)
        return TransactionError(f"transaction reverted without a reason (data {raw.to_0x_hex()})", tx_hash)

    def decode_logs(self, logs: Sequence[Any]) -> tuple[Event, ...]:
        """Decode raw (JSON-RPC) or web3-formatted logs of the program's contracts; skip others."""
        events = []
        for log in logs:
            address = to_checksum_address(str(log["address"]))
            topics = [HexBytes(t) for t in log["topics"]]
            if not topics:
                continue
            known = self._topics.get((address.lower(), bytes(topics[0])))
            if known is None:
                continue
            formatted = {
                "address": address,
                "topics": topics,
                "data": HexBytes(log["data"]),
                "logIndex": _int(log["logIndex"]),
                "transactionIndex": _int(log["transactionIndex"]),
                "transactionHash": HexBytes(log["transactionHash"]),
                "blockHash": HexBytes(log["blockHash"]),
                "blockNumber": _int(log["blockNumber"]),
            }
            decoded = get_event_data(self._codec, known, formatted)
            events.append(
                Event(
                    name=str(decoded["event"]),
                    args={k: _plain(v) for k, v in decoded["args"].items()},
                    address=address,
                    log_index=_int(log["logIndex"]),
                )
            )
        return tuple(events)


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _abi_type(entry: dict[str, Any]) -> str:
    if entry["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in entry["components"])
        return f"({inner}){entry['type'][5:]}"
    return str(entry["type"])


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def rpc_batch(chain: Chain, requests: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
    """JSON-RPC requests sent as one batch; the responses in request order, errors left in place.

    Raises :class:`RpcUnavailableError` when the node cannot be reached. eth-tester has no
    batches, so there the requests go one by one.
    """
    provider: Any = chain.w3.provider
    try:
        if hasattr(provider, "make_batch_request"):
            responses = provider.make_batch_request(list(requests))
        else:
            responses = [provider.make_request(method, params) for method, params in requests]
    except OSError as exc:  # requests' errors are OSErrors too
        raise RpcUnavailableError(chain.rpc_url, str(exc)) from exc
    if isinstance(responses, dict):  # a whole-batch error
        raise TransactionError(f"the node rejected the batch request: {responses.get('error')}")
    return sorted(responses, key=lambda r: int(r.get("id", 0))) if responses else []


def _waves(limits: Sequence[int], block_gas: int, max_size: int) -> Iterator[range]:
    """Consecutive index ranges whose gas limits fit one block (a lone oversize one goes alone)."""
    start, used = 0, 0
    for i, limit in enumerate(limits):
        if i > start and (used + limit > block_gas or i - start >= max_size):
            yield range(start, i)
            start, used = i, 0
        used += limit
    if start < len(limits):
        yield range(start, len(limits))


@cache
def _selector_and_types(abi_json: str) -> tuple[bytes, tuple[str, ...]]:
    entry = json.loads(abi_json)
    types = tuple(_abi_type(i) for i in entry["inputs"])
    return function_signature_to_4byte_selector(f"{entry['name']}({','.join(types)})"), types


def calldata(call: ContractFunction) -> bytes:
    """ABI-encode a bound contract call with eth_abi directly.

    web3's ``build_transaction`` re-validates the ABI on every call (~2 ms each), which would
    dominate signing thousands of transactions; the selector and types are cached per function.
    """
    selector, types = _selector_and_types(json.dumps(call.abi, sort_keys=True))
    return selector + abi_encode(types, call.args)


def revert_data(exc: BaseException) -> str | None:
    """The revert payload web3 attached to an exception, if any."""
    if isinstance(exc, ContractCustomError):
        return str(exc.data) if exc.data else None
    if isinstance(exc, ContractLogicError):
        data = exc.data
        if isinstance(data, str) and data.startswith("0x"):
            return data
        return None
    return None


class Sender:
    """Signs and sends for one account, keeping its nonce."""

    def __init__(self, chain: Chain, account: LocalAccount, decoder: ErrorDecoder) -> None:
        self.chain = chain
        self.account = account
        self.decoder = decoder
        self._nonce: int | None = None

    @property
    def address(self) -> str:
        return str(self.account.address)

    def resync_nonce(self) -> int:
        self._nonce = int(self.chain.w3.eth.get_transaction_count(self.account.address, "pending"))
        return self._nonce

    def next_nonce(self) -> int:
        if self._nonce is None:
            self.resync_nonce()
        assert self._nonce is not None
        nonce = self._nonce
        self._nonce += 1
        return nonce

    def fees(self) -> dict[str, int]:
        w3 = self.chain.w3
        base = int(w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
        tip = 1_000_000 if self.chain.is_local else int(w3.eth.max_priority_fee)
        return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}

    def simulate(self, call: ContractFunction) -> int:
        """Estimate gas, turning a revert into our decoded error before anything is sent."""
        try:
            return int(call.estimate_gas({"from": self.account.address}))
        except (ContractCustomError, ContractLogicError) as exc:
            raise self.decoder.decode(revert_data(exc)) from None

    def build(self, call: ContractFunction, gas: int, fees: dict[str, int]) -> bytes:
        """Sign ``call`` as an EIP-1559 transaction with the next nonce; no RPC is made."""
        tx: Any = {
            "type": 2,
            "to": call.address,
            "data": calldata(call),
            "value": 0,
            "nonce": self.next_nonce(),
            "gas": gas,
            "chainId": self.chain.chain_id,
            **fees,
        }
        return bytes(self.account.sign_transaction(tx).raw_transaction)

    def send(self, call: ContractFunction, *, gas: int | None = None) -> TxResult:
        """The careful path: simulate (decoded revert, nothing sent), send, wait for the receipt."""
        limit = gas if gas is not None else int(self.simulate(call) * GAS_MARGIN)
        (result,) = self.send_many([call], gas=limit)
        if isinstance(result, TransactionError):
            raise result
        return result

    def send_many(
        self, calls: Sequence[ContractFunction], *, gas: int | Sequence[int]
    ) -> list[TxResult | TransactionError]:
        """The fast path: sign locally, send in JSON-RPC batches, collect receipts together.

        Transactions go out in waves whose gas limits add up to at most one block: a node that
        mines on arrival (anvil's automine) mines one block per submission and would leave the rest
        pending, and on any chain a wave that fits one block is mined before the next one is
        signed, so fees are fresh (EIP-1559 lets the base fee rise 12.5% per full block).
        """
        limits = [gas] * len(calls) if isinstance(gas, int) else list(gas)
        if len(limits) != len(calls):
            raise ValueError(f"{len(calls)} calls but {len(limits)} gas limits")
        block_gas = int(self.chain.w3.eth.get_block("latest")["gasLimit"])
        results: list[TxResult | TransactionError] = []
        for wave in _waves(limits, block_gas, RPC_BATCH_SIZE):
            fees = self.fees()
            first = self.next_nonce()
            self._nonce = first  # build() takes the nonces first, first + 1, ... in order
            raws = [self.build(calls[i], limits[i], fees) for i in wave]
            hashes = self.send_raw(raws)
            self._fill_gaps(hashes, first, fees)
            results += self.wait_all(hashes, [calls[i] for i in wave])
        return results

    def _fill_gaps(
        self, hashes: Sequence[str | TransactionError], first_nonce: int, fees: dict[str, int]
    ) -> None:
        """Keep the nonce sequence whole after the node refused some transactions of a wave.

        A refused transaction leaves its nonce unused, and every later one of the wave would wait
        behind that gap forever (and be mined whenever something filled it: a second send). So each
        gap is filled at once with a 0-value transfer to ourselves; the refused call is reported as
        failed, the others are mined as sent, and nothing is ever re-sent.
        """
        refused = [first_nonce + i for i, h in enumerate(hashes) if isinstance(h, TransactionError)]
        if not refused:
            return
        fillers = []
        for nonce in refused:
            tx: Any = {
                "type": 2,
                "to": self.account.address,
                "value": 0,
                "data": b"",
                "gas": 21_000,
                "nonce": nonce,
                "chainId": self.chain.chain_id,
                **fees,
            }
            fillers.append(bytes(self.account.sign_transaction(tx).raw_transaction))
        self.send_raw(fillers)  # a filler refused as "nonce too low" means the gap is already filled
        self.resync_nonce()

    def send_raw(self, raws: Sequence[bytes]) -> list[str | TransactionError]:
        """Send signed transactions in JSON-RPC batches; a refused one is reported in its place.

        A refusal leaves a nonce gap: :meth:`send_many` fills it; other callers own their nonces.
        """
        out: list[str | TransactionError] = []
        for start in range(0, len(raws), RPC_BATCH_SIZE):
            chunk = raws[start : start + RPC_BATCH_SIZE]
            requests = [("eth_sendRawTransaction", ["0x" + raw.hex()]) for raw in chunk]
            for response in self._batch(requests):
                if "error" in response:
                    error = response["error"]
                    code = error.get("code", "?") if isinstance(error, dict) else "?"
                    message = error.get("message", error) if isinstance(error, dict) else error
                    out.append(TransactionError(f"node refused the transaction (JSON-RPC {code}): {message}"))
                else:
                    out.append(str(response["result"]))
        return out

    def _batch(self, requests: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        return rpc_batch(self.chain, requests)

    def wait_all(
        self, hashes: Sequence[str | TransactionError], calls: Sequence[ContractFunction] | None = None
    ) -> list[TxResult | TransactionError]:
        """Receipts for every hash (polled in batches); failures decoded by replaying the call."""
        results: dict[int, TxResult | TransactionError] = {
            i: h for i, h in enumerate(hashes) if isinstance(h, TransactionError)
        }
        pending = {i: h for i, h in enumerate(hashes) if isinstance(h, str)}
        deadline = time.monotonic() + RECEIPT_TIMEOUT_S
        while pending:
            items = list(pending.items())
            for start in range(0, len(items), RPC_BATCH_SIZE):
                chunk = items[start : start + RPC_BATCH_SIZE]
                responses = self._batch([("eth_getTransactionReceipt", [h]) for _, h in chunk])
                for (index, tx_hash), response in zip(chunk, responses, strict=True):
                    receipt = response.get("result")
                    if receipt:
                        call = calls[index] if calls is not None else None
                        results[index] = self._result(tx_hash, receipt, call)
                        del pending[index]
            if pending:
                if time.monotonic() > deadline:
                    raise TransactionError(f"{len(pending)} transaction(s) not mined in {RECEIPT_TIMEOUT_S}s")
                time.sleep(RECEIPT_POLL_S)
        return [results[i] for i in range(len(hashes))]

    def _result(
        self, tx_hash: str, receipt: dict[str, Any], call: ContractFunction | None
    ) -> TxResult | TransactionError:
        block = _int(receipt["blockNumber"])
        if _int(receipt["status"]):
            return TxResult(
                tx_hash=tx_hash,
                block=block,
                gas_used=_int(receipt["gasUsed"]),
                logs=tuple(receipt["logs"]),
                decoder=self.decoder,
            )
        return self._explain_failure(tx_hash, block, call)

    def _explain_failure(self, tx_hash: str, block: int, call: ContractFunction | None) -> TransactionError:
        if call is None:
            return TransactionError(f"transaction {tx_hash} reverted", tx_hash)
        try:
            call.call({"from": self.account.address}, block_identifier=block - 1)
        except (ContractCustomError, ContractLogicError) as exc:
            return self.decoder.decode(revert_data(exc), tx_hash=tx_hash)
        except Web3RPCError as exc:
            return TransactionError(f"transaction {tx_hash} reverted: {exc}", tx_hash)
        return TransactionError(
            f"transaction {tx_hash} reverted (out of gas, or state changed within its block)", tx_hash
        )
