"""Leaf values of a StandardMerkleTree: ABI types, canonical JSON values and the double leaf hash.

The part of the @openzeppelin/merkle-tree port that knows about Solidity types (see
:mod:`loyalty_chain.campaigns.merkle` for the tree itself and the deliberate differences from the JS package).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeAlias

from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from ..errors import MerkleError

JsonValue: TypeAlias = "str | int | bool | list[JsonValue]"
"""One item of a leaf value as it appears in a dump."""

LeafValue: TypeAlias = "list[JsonValue]"
"""One leaf value: one item per entry of the leaf encoding."""

_ARRAY_TYPE = re.compile(r"(?P<inner>.+)\[(?P<length>[0-9]*)\]")
_INT_TYPE = re.compile(r"(?P<unsigned>u?)int(?P<bits>[0-9]*)")
_FIXED_BYTES_TYPE = re.compile(r"bytes(?P<size>[0-9]{1,2})")
_DECIMAL = re.compile(r"-?[0-9]+")
_HEX_NUMBER = re.compile(r"0x[0-9a-fA-F]+")
_HEX_BYTES = re.compile(r"0x(?:[0-9a-fA-F]{2})*")


def canonical_type(abi_type: str) -> str:
    """The eth_abi spelling of a type the npm package accepts (``uint`` -> ``uint256``)."""
    array = _ARRAY_TYPE.fullmatch(abi_type)
    if array:
        length = array["length"]
        if length and int(length) == 0:
            raise MerkleError(f"leaf type {abi_type!r}: a fixed-size array needs a length of at least 1")
        return f"{canonical_type(array['inner'])}[{length}]"
    if abi_type in ("address", "bool", "string", "bytes"):
        return abi_type
    integer = _INT_TYPE.fullmatch(abi_type)
    if integer:
        bits = int(integer["bits"] or "256")
        if not (8 <= bits <= 256 and bits % 8 == 0):
            raise MerkleError(f"leaf type {abi_type!r}: the size must be a multiple of 8 from 8 to 256")
        return f"{integer['unsigned']}int{bits}"
    fixed = _FIXED_BYTES_TYPE.fullmatch(abi_type)
    if fixed:
        if not 1 <= int(fixed["size"]) <= 32:
            raise MerkleError(f"leaf type {abi_type!r}: the size must be from 1 to 32 bytes")
        return abi_type
    raise MerkleError(
        f"leaf type {abi_type!r} is not supported; use address, bool, string, bytes, bytesN, "
        "uintN, intN or arrays of these"
    )


def _coerce(abi_type: str, item: object) -> object:
    """The Python value eth_abi encodes as the npm package encodes ``item`` (``abi_type`` canonical)."""
    array = _ARRAY_TYPE.fullmatch(abi_type)
    if array:
        if not isinstance(item, list | tuple):
            raise MerkleError(f"a {abi_type} must be a list, got {item!r}")
        if array["length"] and len(item) != int(array["length"]):
            raise MerkleError(f"a {abi_type} must have {array['length']} items, got {len(item)}")
        return [_coerce(array["inner"], element) for element in item]
    if abi_type == "address":
        if not isinstance(item, str) or not re.fullmatch(r"0x[0-9a-fA-F]{40}", item):
            raise MerkleError(f"an address must be a 0x-prefixed 20-byte hex string, got {item!r}")
        return bytes.fromhex(item[2:])
    if abi_type == "bool":
        if isinstance(item, bool):
            return item
        if item in ("true", "false"):
            return item == "true"
        raise MerkleError(f'a bool must be true, false, "true" or "false", got {item!r}')
    if abi_type == "string":
        if not isinstance(item, str):
            raise MerkleError(f"a string must be a str, got {item!r}")
        try:
            item.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise MerkleError(f"string {item!r} cannot be encoded as UTF-8") from exc
        return item
    if abi_type == "bytes":
        if not isinstance(item, str) or not _HEX_BYTES.fullmatch(item):
            raise MerkleError(f"bytes must be an even-length 0x-prefixed hex string, got {item!r}")
        return bytes.fromhex(item[2:])
    fixed = _FIXED_BYTES_TYPE.fullmatch(abi_type)
    if fixed:
        size = int(fixed["size"])
        if not isinstance(item, str) or not re.fullmatch(rf"0x[0-9a-fA-F]{{{2 * size}}}", item):
            raise MerkleError(f"a {abi_type} must be a 0x-prefixed {size}-byte hex string, got {item!r}")
        return bytes.fromhex(item[2:])
    integer = _INT_TYPE.fullmatch(abi_type)
    assert integer is not None, abi_type  # _canonical_type admitted nothing else
    number = _to_int(item, abi_type)
    bits = int(integer["bits"])
    low, high = (0, 2**bits - 1) if integer["unsigned"] else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if not low <= number <= high:
        raise MerkleError(f"number {item!r} is out of range for type {abi_type}")
    return number


def _to_int(item: object, abi_type: str) -> int:
    if isinstance(item, int) and not isinstance(item, bool):
        return item
    if isinstance(item, str) and _DECIMAL.fullmatch(item):
        return int(item, 10)
    if isinstance(item, str) and _HEX_NUMBER.fullmatch(item):
        return int(item, 16)
    raise MerkleError(f"a {abi_type} must be an int or a decimal or 0x hex string, got {item!r}")


def leaf_hash(canonical_types: Sequence[str], value: object) -> bytes:
    """``standardLeafHash``: keccak256(keccak256(abi.encode(types, value)))."""
    if not isinstance(value, list | tuple):
        raise MerkleError(f"a leaf value must be a list, got {value!r}")
    if len(value) != len(canonical_types):
        raise MerkleError(
            f"leaf value {value!r} has {len(value)} item(s) but the leaf encoding has {len(canonical_types)}"
        )
    coerced = [_coerce(abi_type, item) for abi_type, item in zip(canonical_types, value, strict=True)]
    return keccak(keccak(abi_encode(list(canonical_types), coerced)))


def _json_item(abi_type: str, item: object) -> JsonValue:
    """``item`` in the JSON form a dump holds: ints of int types as decimal strings, bytes as hex."""
    array = _ARRAY_TYPE.fullmatch(abi_type)
    if array:
        if not isinstance(item, list | tuple):
            raise MerkleError(f"a {abi_type} must be a list, got {item!r}")
        return [_json_item(array["inner"], element) for element in item]
    if isinstance(item, bytes | bytearray) and (abi_type == "address" or abi_type.startswith("bytes")):
        return "0x" + bytes(item).hex()
    if isinstance(item, int) and not isinstance(item, bool) and _INT_TYPE.fullmatch(abi_type):
        return str(item)
    if isinstance(item, str | bool | int):
        return item  # checked against its type by _coerce
    raise MerkleError(f"cannot put {item!r} ({type(item).__name__}) in a {abi_type}")


def json_value(canonical_types: Sequence[str], value: object) -> LeafValue:
    """A leaf value given by a caller, in the JSON form a dump holds."""
    if not isinstance(value, list | tuple):
        raise MerkleError(f"a leaf value must be a list, got {value!r}")
    if len(value) != len(canonical_types):
        raise MerkleError(
            f"leaf value {list(value)!r} has {len(value)} item(s) "
            f"but the leaf encoding has {len(canonical_types)}"
        )
    return [_json_item(t, item) for t, item in zip(canonical_types, value, strict=True)]
