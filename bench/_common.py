"""What the benchmarks share: fresh recipients, the airdrop CSV, and the naive ``transact()`` loop."""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address

from loyalty_chain.artifacts import load_artifact
from loyalty_chain.chain import Chain
from loyalty_chain.program import ProgramRecord


def recipient(i: int, salt: bytes) -> str:
    """A fresh address, different for each ``(i, salt)`` (no key derivation: fast for 10,000)."""
    return to_checksum_address(keccak(salt + i.to_bytes(8, "big"))[-20:])


def recipients(count: int, salt: bytes) -> list[str]:
    return [recipient(i, salt) for i in range(count)]


def write_airdrop_csv(path: Path, rows: Sequence[tuple[str, int]]) -> Path:
    """An ``address,amount`` CSV, as a brand would hand it over."""
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["address", "amount"])
        writer.writerows(rows)
    return path


def points_contract(chain: Chain, record: ProgramRecord) -> Any:
    """The program's LoyaltyPoints as a plain web3 contract (what a tutorial would use)."""
    return chain.w3.eth.contract(
        address=to_checksum_address(record.addresses["LoyaltyPoints"]),
        abi=load_artifact("LoyaltyPoints").abi,
    )


def naive_issue_loop(
    chain: Chain,
    record: ProgramRecord,
    sender: str,
    rows: Sequence[tuple[str, int]],
    reason: bytes,
    *,
    every_receipt: bool = True,
) -> tuple[float, list[Any]]:
    """The loop most web3.py tutorials show: ``issue(to, amount, reason).transact()`` per recipient
    from the node's unlocked account (web3 estimates gas and fills nonce and fees every time), then
    every receipt (``every_receipt=False``: only the last one's). Returns the seconds it took and
    the transaction hashes."""
    points = points_contract(chain, record)
    started = time.perf_counter()
    hashes = [points.functions.issue(to, amount, reason).transact({"from": sender}) for to, amount in rows]
    for tx_hash in hashes if every_receipt else hashes[-1:]:
        chain.w3.eth.wait_for_transaction_receipt(tx_hash)
    return time.perf_counter() - started, hashes
