"""Many stored relays in one transaction: ``PerkCatalog.redeemBatchWithSignature``.

Each admitted relay is stored as the ``redeemWithSignature`` call it was checked as (see
:mod:`.relay_admission`). The relayer sends a group of them as a few batch calls instead: the same
requests and signatures, up to :data:`MAX_ITEMS` a transaction, its gas limit the sum of the
items' own limits (each counted with the 21,000 of a transaction of its own, which a batch item
does not pay: room for the item's call of the catalog to itself). The catalog skips a bad item
(``RedemptionSkipped``, with its own error) and redeems the rest, so one member's bad or replayed
signature never blocks another's; :func:`outcomes` tells each item's fate from the receipt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector, keccak

from ..chain import TX_GAS_CAP
from ..decoding import ErrorDecoder
from ..delivery import Tx, TxResult
from ..errors import InputError
from ..relay_policy import REDEEM_TYPES, redeem_arguments

MAX_ITEMS = 100
"""Most redemptions in one batch transaction (~100k gas each: a few million gas a transaction)."""
PERK_REDEEMED = keccak(text="PerkRedeemed(uint256,uint256,address,uint256,uint256)")
"""Topics: the redemption id, the perk id, the member; data: the quantity, the points burned."""
REDEMPTION_SKIPPED = keccak(text="RedemptionSkipped(uint256,address,bytes)")
"""Topics: the item's index, the member; data: the item's revert data."""
BATCH_SELECTOR = function_signature_to_4byte_selector(
    f"redeemBatchWithSignature(({','.join(REDEEM_TYPES)})[])"
)
"""``PerkCatalog.redeemBatchWithSignature(SignedRedemption[])``."""
BATCH_OVERHEAD_GAS = 30_000
"""Gas of a batch transaction beyond its items' own limits (the array's calldata head, the loop)."""


@dataclass(frozen=True)
class Relayed:
    """One item that was redeemed: the batch's transaction, the catalog's redemption id, the points."""

    tx_hash: str
    redemption_id: int
    points_burned: int
    gas: int


@dataclass(frozen=True)
class Batch:
    """One ``redeemBatchWithSignature`` transaction: the catalog, its calldata, gas limit and items."""

    target: str
    data: bytes
    gas: int
    size: int

    @property
    def tx(self) -> Tx:
        return Tx(self.target, self.data, min(self.gas, TX_GAS_CAP))


def batches(catalog: str, rows: Sequence[tuple[str, int]], max_gas: int) -> list[Batch]:
    """The stored ``redeemWithSignature`` calldata and gas limit of each relay, in order, as batch
    calls to ``catalog`` of at most :data:`MAX_ITEMS` items and ``max_gas`` gas (and the EIP-7825
    cap) each."""
    limit = min(max_gas, TX_GAS_CAP)
    out: list[Batch] = []
    items: list[bytes] = []
    gas = BATCH_OVERHEAD_GAS
    for data, item_gas in rows:
        item = _item(bytes.fromhex(data.removeprefix("0x")))
        if items and (len(items) >= MAX_ITEMS or gas + item_gas > limit):
            out.append(Batch(catalog, batch_calldata(items), gas, len(items)))
            items, gas = [], BATCH_OVERHEAD_GAS
        items.append(item)
        gas += item_gas
    if items:
        out.append(Batch(catalog, batch_calldata(items), gas, len(items)))
    return out


def _item(data: bytes) -> bytes:
    """A stored ``redeemWithSignature`` call's arguments as they are encoded: one batch item."""
    try:
        return redeem_arguments(data)
    except InputError as exc:
        raise InputError(
            f"a stored relay is {exc}; the store holds only what the gateway "
            "admitted: restore it from a backup"
        ) from exc


def batch_calldata(items: Sequence[bytes]) -> bytes:
    """``redeemBatchWithSignature(items)``'s calldata, ABI-encoded by hand from each item's encoded
    arguments (a ``SignedRedemption`` tuple is encoded exactly as ``redeemWithSignature``'s
    arguments are): the array's offset and length, each item's offset from the start of the
    offsets, then the items. Decoding the items and encoding them again with eth_abi cost ~2.5 ms
    of the relayer's CPU a relay in a group of 100 (checked equal to eth_abi in the tests)."""
    offsets, at = [], 32 * len(items)
    for item in items:
        offsets.append(at)
        at += len(item)
    words = (32, len(items), *offsets)
    return BATCH_SELECTOR + b"".join(w.to_bytes(32, "big") for w in words) + b"".join(items)


def outcomes(
    result: TxResult | Exception, size: int, decoder: ErrorDecoder, catalog: str
) -> list[Relayed | Exception]:
    """Each item's fate in a batch transaction to ``catalog``: :class:`Relayed`, or the error it was
    skipped with (the transaction's own error for every item if it failed as a whole). Only the
    catalog's ``PerkRedeemed`` and ``RedemptionSkipped`` logs are decoded, directly from the
    receipt (the generic event decoder cost ~3 ms a relay)."""
    if not isinstance(result, TxResult):
        return [result] * size
    skipped: dict[int, Exception] = {}
    redeemed: list[tuple[int, int]] = []
    for log in result.logs:
        topics = [_raw(t) for t in log["topics"]]
        if not topics or str(log["address"]).lower() != catalog.lower():
            continue
        if topics[0] == REDEMPTION_SKIPPED:
            (reason,) = abi_decode(["bytes"], _raw(log["data"]))
            error = decoder.decode(reason, tx_hash=result.tx_hash) if reason else None
            skipped[int.from_bytes(topics[1], "big")] = error or RuntimeError("the item ran out of gas")
        elif topics[0] == PERK_REDEEMED:
            (_, burned) = abi_decode(["uint256", "uint256"], _raw(log["data"]))
            redeemed.append((int.from_bytes(topics[1], "big"), int(burned)))
    each_gas = result.gas_used // size
    found = iter(redeemed)
    out: list[Relayed | Exception] = []
    for index in range(size):
        if index in skipped:
            out.append(skipped[index])
            continue
        event = next(found, None)
        if event is None:
            out.append(RuntimeError(f"item {index} of {result.tx_hash} emitted no PerkRedeemed event"))
            continue
        out.append(Relayed(result.tx_hash, event[0], event[1], each_gas))
    return out


def _raw(value: Any) -> bytes:
    """A log's topic or data, as a JSON-RPC hex string or bytes."""
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
