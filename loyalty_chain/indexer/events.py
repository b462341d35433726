"""Which events the indexer stores, and how a raw log becomes a row: built from the shipped ABIs.

Every event of every contract of a program (``LoyaltyPoints``, ``MembershipCard``, ``PerkCatalog``,
``AirdropDistributor``) gets its own table, named ``<Contract>_<Event>``, with one column per argument.
Nothing is listed by hand: an event a contract gains later (a new mechanic) is indexed as soon as
its artifact ships. Static arguments are read straight from the log's hex by a function generated
per event (no ABI codec, no call per argument: this is the hot loop of a first index); dynamic ones
(``string``, ``bytes``, arrays) go through eth_abi.

Stored values: addresses as lowercase ``0x…`` text, booleans and integers as SQLite integers when
they fit in 63 bits (else as decimal text, which the reports sum exactly), ``bytesN`` as ``0x…`` text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from eth_abi import decode as abi_decode
from eth_utils import keccak

INT64_MAX = 2**63 - 1

ROW_COLUMNS = ("block", "log_index", "tx_hash", "ts")
"""The columns every event table starts with: where and when the log was emitted."""

Converter = Callable[[str], Any]
"""A 64-hex-digit word (no 0x) to the stored value."""


@dataclass(frozen=True)
class EventSpec:
    """One event of one contract: its table, its columns and how to read a log of it."""

    contract: str
    name: str
    topic: str
    """``0x``-prefixed keccak of the signature: a log's ``topics[0]``."""
    columns: tuple[str, ...]
    """Argument names in ABI order (unnamed ones become ``arg<i>``)."""
    types: tuple[str, ...]
    indexed: tuple[bool, ...]

    @property
    def table(self) -> str:
        return f"{self.contract}_{self.name}"

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.types)})"


def _abi_type(entry: Mapping[str, Any]) -> str:
    kind = str(entry["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in entry["components"])
        return f"({inner}){kind[5:]}"
    return kind


def event_specs(abis: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[EventSpec]:
    """Every non-anonymous event of each contract's ABI (``{contract name: abi}``)."""
    specs = []
    for contract, abi in abis.items():
        for entry in abi:
            if entry.get("type") != "event" or entry.get("anonymous"):
                continue
            inputs = list(entry["inputs"])
            types = tuple(_abi_type(i) for i in inputs)
            name = str(entry["name"])
            topic = "0x" + keccak(text=f"{name}({','.join(types)})").hex()
            columns = tuple(str(i.get("name") or f"arg{n}") for n, i in enumerate(inputs))
            specs.append(
                EventSpec(contract, name, topic, columns, types, tuple(bool(i["indexed"]) for i in inputs))
            )
    return specs


def _is_dynamic(abi_type: str) -> bool:
    return abi_type in ("string", "bytes") or abi_type.endswith("]") or abi_type.startswith("(")


class _Flag:
    """The columns (``table.column``) where a value too large for a SQLite integer was stored as text."""

    def __init__(self) -> None:
        self.columns: set[str] = set()


def _int(word: str, flag: _Flag, key: str) -> Any:
    value = int(word, 16)
    if value >= 2**255:
        value -= 2**256
    if -INT64_MAX <= value <= INT64_MAX:
        return value
    flag.columns.add(key)
    return str(value)


def _address(word: str) -> str:
    return "0x" + word[24:].lower()


def _fixed_bytes(word: str, size: int) -> str:
    return "0x" + word[: 2 * size].lower()


def _converter(abi_type: str, flag: _Flag, key: str) -> Converter:
    if abi_type == "address":
        return _address
    if abi_type == "bool":
        return lambda word: int(word[-1] != "0")
    if abi_type.startswith("uint"):

        def uint(word: str) -> Any:  # the hot path: most arguments are uints
            value = int(word, 16)
            if value <= INT64_MAX:
                return value
            flag.columns.add(key)
            return str(value)

        return uint
    if abi_type.startswith("int"):
        return lambda word: _int(word, flag, key)
    if abi_type.startswith("bytes") and abi_type[5:].isdigit():  # bytesN; dynamic bytes: below
        size = int(abi_type[5:])
        return lambda word: _fixed_bytes(word, size)
    return lambda word: "0x" + word  # an indexed dynamic value: its topic is the keccak of it


def _plain(value: Any, flag: _Flag, key: str) -> Any:
    """A decoded dynamic value as something SQLite stores (text, or JSON text for lists)."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return json.dumps([_plain(v, flag, key) if not isinstance(v, int) else str(v) for v in value])
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        if -INT64_MAX <= value <= INT64_MAX:
            return value
        flag.columns.add(key)
        return str(value)
    return str(value)


class LogDecoder:
    """Turns raw ``eth_getLogs`` entries of one program into ``(table, row)`` pairs, fast."""

    def __init__(self, specs: Iterable[EventSpec], addresses: Mapping[str, str]) -> None:
        """``addresses``: contract name → deployed address."""
        by_contract: dict[str, str] = {name: address.lower() for name, address in addresses.items()}
        self.specs = list(specs)
        self._flag = _Flag()
        self._readers: dict[tuple[str, str], tuple[str, Callable[[Sequence[str], str], tuple[Any, ...]]]] = {}
        for spec in self.specs:
            address = by_contract.get(spec.contract)
            if address is None:
                continue
            key = (address, spec.topic)
            self._readers[key] = (spec.table, _reader(spec, self._flag))

    @property
    def big_columns(self) -> set[str]:
        """``table.column`` of every integer column where a value did not fit SQLite and is decimal text."""
        return set(self._flag.columns)

    def decode(self, log: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]] | None:
        """The table and the argument values of one log; None for a log of no known event."""
        topics = [t if type(t) is str else _hex(t) for t in log["topics"]]
        address, data = log["address"], log["data"]
        address = address if type(address) is str else _hex(address)
        return self.read(address, topics, data if type(data) is str else _hex(data))

    def read(self, address: str, topics: Sequence[str], data: str) -> tuple[str, tuple[Any, ...]] | None:
        """:meth:`decode` of a log's fields as hex text (``0x``…), as nodes send them: the hot path."""
        if not topics:
            return None
        found = self._readers.get((address.lower(), topics[0]))
        if found is None:
            return None
        return found[0], found[1](topics, data)


def _reader(spec: EventSpec, flag: _Flag) -> Callable[[Sequence[str], str], tuple[Any, ...]]:
    """A function (topics, data hex) → argument values in column order, made once per event."""
    dynamic = [not ix and _is_dynamic(t) for t, ix in zip(spec.types, spec.indexed, strict=True)]
    plan: list[tuple[bool, int, Converter]] = []
    topic_i, word_i = 1, 0
    for abi_type, is_indexed, column in zip(spec.types, spec.indexed, spec.columns, strict=True):
        key = f"{spec.table}.{column}"
        if is_indexed:
            plan.append((True, topic_i, _converter(abi_type, flag, key)))
            topic_i += 1
        else:
            plan.append((False, word_i, _converter(abi_type, flag, key)))
            word_i += 1
    if any(dynamic):
        data_types = [t for t, ix in zip(spec.types, spec.indexed, strict=True) if not ix]

        def read_dynamic(topics: Sequence[str], data: str) -> tuple[Any, ...]:
            values = list(abi_decode(data_types, bytes.fromhex(data[2:])))
            out: list[Any] = []
            for (is_indexed, i, convert), abi_type, column in zip(
                plan, spec.types, spec.columns, strict=True
            ):
                if is_indexed:
                    out.append(convert(topics[i][2:].rjust(64, "0")))
                else:
                    value = values[i]
                    plain = _plain(value, flag, f"{spec.table}.{column}")
                    out.append(plain if _is_dynamic(abi_type) else convert(_word(value, abi_type)))
            return tuple(out)

        return read_dynamic

    return _compile_static(spec, flag)


def _compile_static(spec: EventSpec, flag: _Flag) -> Callable[[Sequence[str], str], tuple[Any, ...]]:
    """One function per static event, its source generated from the ABI: every argument is read by an
    inline slice of the topic or data hex, with no call per argument (the hot loop of a first index;
    the same technique as ``dataclasses`` and ``namedtuple`` use for their generated methods). Values
    as :func:`_converter` makes them."""
    body: list[str] = []
    names: list[str] = []
    topic_i, word_i = 1, 0
    for n, (abi_type, is_indexed, column) in enumerate(
        zip(spec.types, spec.indexed, spec.columns, strict=True)
    ):
        if is_indexed:
            src, start = f"topics[{topic_i}]", 2
            topic_i += 1
        else:
            src, start = "data", 2 + 64 * word_i
            word_i += 1
        word = f"{src}[{start}:{start + 64}]"
        name = f"v{n}"
        key = repr(f"{spec.table}.{column}")
        if abi_type == "address":
            body.append(f"{name} = '0x' + {src}[{start + 24}:{start + 64}].lower()")
        elif abi_type == "bool":
            body.append(f"{name} = int({src}[{start + 63}] != '0')")
        elif abi_type.startswith("uint"):
            body += [
                f"{name} = int({word}, 16)",
                f"if {name} > {INT64_MAX}:",
                f"    flagged({key})",
                f"    {name} = str({name})",
            ]
        elif abi_type.startswith("int"):
            body.append(f"{name} = _int({word}, flag, {key})")
        elif abi_type.startswith("bytes"):
            size = int(abi_type[5:])
            body.append(f"{name} = '0x' + {src}[{start}:{start + 2 * size}].lower()")
        else:  # an indexed dynamic value: its topic is the keccak of it
            body.append(f"{name} = '0x' + {word}")
        names.append(name)
    result = "(" + "".join(f"{name}, " for name in names) + ")"
    source = (
        "def read(topics, data):\n" + "".join(f"    {line}\n" for line in body) + f"    return {result}\n"
    )
    namespace: dict[str, Any] = {"_int": _int, "flag": flag, "flagged": flag.columns.add}
    exec(compile(source, f"<decoder {spec.signature}>", "exec"), namespace)  # our own source, from the ABI
    return cast(Callable[[Sequence[str], str], tuple[Any, ...]], namespace["read"])


def _word(value: Any, abi_type: str) -> str:
    """A value eth_abi decoded back as its 64-hex-digit word (for the static fields of a dynamic event)."""
    if isinstance(value, bytes):
        return value.hex().ljust(64, "0")
    if isinstance(value, bool):
        return f"{int(value):064x}"
    if isinstance(value, str):  # an address
        return value[2:].lower().rjust(64, "0")
    return f"{value % 2**256:064x}"


def _hex(value: Any) -> str:
    """A log field as ``0x``-prefixed lowercase hex (nodes send text; eth-tester may send bytes)."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    text = str(value)
    return text if text.startswith("0x") else "0x" + text
