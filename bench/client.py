"""Single-transaction throughput: our client's fast path against a naive web3.py transact() loop.

Both issue points to 2,000 fresh recipients, one ``issue`` transaction each, on one managed anvil,
in the same run. Run: ``.venv/bin/python bench/client.py [--count N]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import naive_issue_loop, recipients, tutorial_web3

from loyalty_chain.chain import start_devnet
from loyalty_chain.client import LoyaltyClient
from loyalty_chain.program import ProgramOptions, deploy_program
from loyalty_chain.values import reason_code

DEFAULT_BLOCK_TIME_S = 0.1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2_000)
    parser.add_argument(
        "--block-time",
        type=float,
        default=DEFAULT_BLOCK_TIME_S,
        help=f"interval mining in seconds (default {DEFAULT_BLOCK_TIME_S}); 0 = automine, as the tests use",
    )
    args = parser.parse_args()

    # Blocks on an interval, as on a real network. Under automine anvil mines one block per
    # transaction, and on a chain a few thousand blocks long that per-block cost, not the client,
    # caps any sender at a few hundred tx/s (the naive loop is bound by its round trips either way).
    with start_devnet(block_time=args.block_time or None) as chain:
        admin = chain.dev_account(0)
        record = deploy_program(chain, ProgramOptions("bench"), admin, root=Path(tempfile.mkdtemp()))
        client = LoyaltyClient(chain, record, admin)

        # Naive: the loop most web3.py tutorials show; anvil signs (unlocked account), and
        # web3 estimates gas and fills the nonce for every transaction.
        naive_rows = [(to, 10) for to in recipients(args.count, b"client/naive")]
        naive_w3 = tutorial_web3(chain)
        naive_s, _ = naive_issue_loop(naive_w3, record, admin.address, naive_rows, reason_code("bench"))

        # Ours: validated locally, signed locally with a known gas limit, sent in JSON-RPC batches,
        # receipts collected together.
        ours_to = recipients(args.count, b"client/ours")
        started = time.perf_counter()
        outcomes = client.issue_each([(to, 10) for to in ours_to], "bench")
        ours_s = time.perf_counter() - started
        failed = [o for o in outcomes if isinstance(o, Exception)]
        assert not failed, failed[:3]
        assert all(client.balance(to) == 10 for to in ours_to[:: max(1, args.count // 50)])

    naive_rate, ours_rate = args.count / naive_s, args.count / ours_s
    mining = f"{args.block_time}s blocks" if args.block_time else "automine"
    print(f"single issue transactions: {args.count:,} each, one anvil ({mining}), same run\n")
    print("| path                                   | seconds | tx/s    | speed-up |")
    print("|----------------------------------------|--------:|--------:|---------:|")
    print(f"| naive web3 `transact()` loop           | {naive_s:7.2f} | {naive_rate:7.0f} |    1.0x  |")
    speedup = ours_rate / naive_rate
    print(f"| loyalty_chain `issue_each` (fast path) | {ours_s:7.2f} | {ours_rate:7.0f} | {speedup:6.1f}x  |")
    print(f"\ntarget: at least 5x -> {'met' if ours_rate >= 5 * naive_rate else 'NOT met'}")


if __name__ == "__main__":
    main()
