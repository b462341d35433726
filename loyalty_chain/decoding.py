"""Reading what the chain says back: custom errors with their values, and the program's events.

Both need the program's ABIs, so one :class:`ErrorDecoder` per program holds them, keyed by error
selector and by (contract, event topic). ``explain_revert`` replays a mined transaction that
reverted to get its reason, which a receipt does not carry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector, keccak
from hexbytes import HexBytes
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from .chain import Chain
from .errors import ContractRevertError, TransactionError
from .values import checksum_address


@dataclass(frozen=True)
class Event:
    """One decoded log: the event's name, its arguments and where it came from."""

    name: str
    args: dict[str, Any]
    address: str
    log_index: int


class ErrorDecoder:
    """Turns revert data into our :class:`ContractRevertError` using the program's ABIs."""

    def __init__(self, contracts: Mapping[str, Contract] | Iterable[Contract]) -> None:
        named = contracts if isinstance(contracts, Mapping) else {c.address: c for c in contracts}
        self._errors: dict[bytes, tuple[str, dict[str, Any]]] = {}
        self._shapes: dict[tuple[str, bytes], _EventShape] = {}
        for label, contract in named.items():
            abi = cast(list[dict[str, Any]], contract.abi)
            for entry in abi:
                if entry["type"] == "error":
                    types = ",".join(abi_type(i) for i in entry["inputs"])
                    selector = function_signature_to_4byte_selector(f"{entry['name']}({types})")
                    self._errors[selector] = (label, dict(entry))
            for entry in abi:
                if entry["type"] == "event" and not entry.get("anonymous"):
                    types = ",".join(abi_type(i) for i in entry["inputs"])
                    topic = keccak(text=f"{entry['name']}({types})")
                    self._shapes[(contract.address.lower(), topic)] = _EventShape.of(entry)

    def decode(self, data: bytes | str | None, *, tx_hash: str | None = None) -> TransactionError:
        raw = HexBytes(data) if data else HexBytes(b"")
        if len(raw) >= 4 and bytes(raw[:4]) in self._errors:
            contract, entry = self._errors[bytes(raw[:4])]
            types = [abi_type(i) for i in entry["inputs"]]
            values = abi_decode(types, bytes(raw[4:]))
            args = {
                i["name"] or f"arg{n}": checksum_address(v) if i["type"] == "address" else _plain(v)
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
        """Decode raw (JSON-RPC) or web3-formatted logs of the program's contracts; skip others.

        Decoded here with eth_abi, as web3's ``get_event_data`` would (indexed arguments first,
        addresses checksummed, bytes as 0x-hex), at a tenth of its CPU: a report or the demo reads
        thousands of logs.
        """
        events = []
        for log in logs:
            topics = [_as_bytes(t) for t in log["topics"]]
            if not topics:
                continue
            address = checksum_address(_as_hex(log["address"]))
            shape = self._shapes.get((address.lower(), topics[0]))
            if shape is None or len(topics) != len(shape.indexed) + 1:
                continue  # not an event of the program's contracts as their ABIs declare them
            args: dict[str, Any] = {}
            for (name, kind), topic in zip(shape.indexed, topics[1:], strict=True):
                # a dynamic type's topic is its hash, given as web3 gives it: the 32 bytes
                value = topic if _is_dynamic(kind) else abi_decode([kind], topic)[0]
                args[name] = _arg(kind, value)
            values = abi_decode(list(shape.data_types), _as_bytes(log["data"]))
            for name, kind, value in zip(shape.data_names, shape.data_types, values, strict=True):
                args[name] = _arg(kind, value)
            events.append(
                Event(name=shape.name, args=args, address=address, log_index=hex_int(log["logIndex"]))
            )
        return tuple(events)


@dataclass(frozen=True)
class _EventShape:
    """What decoding an event's log needs from its ABI entry."""

    name: str
    indexed: tuple[tuple[str, str], ...]
    data_names: tuple[str, ...]
    data_types: tuple[str, ...]

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> _EventShape:
        inputs = entry["inputs"]
        data = [i for i in inputs if not i.get("indexed")]
        return cls(
            name=str(entry["name"]),
            indexed=tuple((str(i["name"]), abi_type(i)) for i in inputs if i.get("indexed")),
            data_names=tuple(str(i["name"]) for i in data),
            data_types=tuple(abi_type(i) for i in data),
        )


def _is_dynamic(kind: str) -> bool:
    return kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("(")


def _arg(kind: str, value: Any) -> Any:
    if kind == "address":
        return checksum_address(str(value))
    if kind.startswith("address["):
        return [checksum_address(str(v)) for v in value]
    return _plain(value)


def _as_bytes(value: Any) -> bytes:
    return bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)


def _as_hex(value: Any) -> str:
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


def hex_int(value: Any) -> int:
    """A JSON-RPC quantity (0x-hex string) or an int, as an int."""
    return int(value, 16) if isinstance(value, str) else int(value)


def abi_type(entry: dict[str, Any]) -> str:
    if entry["type"].startswith("tuple"):
        inner = ",".join(abi_type(c) for c in entry["components"])
        return f"({inner}){entry['type'][5:]}"
    return str(entry["type"])


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def revert_data(exc: BaseException) -> str | None:
    """The revert payload web3 attached to an exception, if any."""
    if isinstance(exc, ContractCustomError):
        return str(exc.data) if exc.data else None
    if isinstance(exc, ContractLogicError):
        data = exc.data
        if isinstance(data, dict):  # Hardhat's EDR nests it: {"message": "...", "data": "0x…"}
            data = data.get("data")
        if isinstance(data, str) and data.startswith("0x"):
            return data
        return None
    return None


def explain_revert(
    chain: Chain, decoder: ErrorDecoder, params: Any, block: int, tx_hash: str
) -> TransactionError:
    """Why a mined transaction reverted: its call (``params``: from, to, data) replayed and decoded.

    Replayed first on the state before its block, then (when other transactions in the same block
    made the difference, e.g. an earlier batch reaching the supply cap) on the state after it.
    """
    for state in (block - 1, block):
        try:
            chain.w3.eth.call(params, state)
        except (ContractCustomError, ContractLogicError) as exc:
            return decoder.decode(revert_data(exc), tx_hash=tx_hash)
        except Web3RPCError as exc:
            return TransactionError(f"transaction {tx_hash} reverted: {exc}", tx_hash)
    return TransactionError(
        f"transaction {tx_hash} reverted, and its replay does not (out of gas, or state that changed "
        "within its block)",
        tx_hash,
    )
