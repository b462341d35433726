"""What the benchmarks share: fresh recipients, the airdrop CSV, and the naive ``transact()`` loop."""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address
from web3 import HTTPProvider, Web3

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


class CountingHTTPProvider(HTTPProvider):
    """web3.py's own HTTP provider, as a tutorial builds it, counting the JSON-RPC calls it makes."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.calls: Counter[str] = Counter()

    def make_request(self, method: Any, params: Any) -> Any:
        self.calls[str(method)] += 1
        return super().make_request(method, params)


def tutorial_web3(chain: Chain) -> Web3:
    """``Web3(HTTPProvider(url))`` on the chain's node: the naive baseline, with none of our
    transport's savings (remembered chain id, one session set-up), so a change to our transport
    cannot make the baseline faster too."""
    return Web3(CountingHTTPProvider(chain.rpc_url))


def points_contract(w3: Web3, record: ProgramRecord) -> Any:
    """The program's LoyaltyPoints as a plain web3 contract (what a tutorial would use)."""
    return w3.eth.contract(
        address=to_checksum_address(record.addresses["LoyaltyPoints"]),
        abi=load_artifact("LoyaltyPoints").abi,
    )


def naive_issue_loop(
    w3: Web3,
    record: ProgramRecord,
    sender: str,
    rows: Sequence[tuple[str, int]],
    reason: bytes,
    *,
    every_receipt: bool = True,
) -> tuple[float, list[Any]]:
    """The loop most web3.py tutorials show: ``issue(to, amount, reason).transact()`` per recipient
    on ``w3`` (:func:`tutorial_web3`) from the node's unlocked account (web3 estimates gas and
    fills nonce and fees every time), then every receipt (``every_receipt=False``: only the last
    one's). Returns the seconds it took and the transaction hashes."""
    points = points_contract(w3, record)
    started = time.perf_counter()
    hashes = [points.functions.issue(to, amount, reason).transact({"from": sender}) for to, amount in rows]
    for tx_hash in hashes if every_receipt else hashes[-1:]:
        w3.eth.wait_for_transaction_receipt(tx_hash)
    return time.perf_counter() - started, hashes
