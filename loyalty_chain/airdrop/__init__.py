"""Push airdrops of points and membership cards from a CSV, at scale, resumable after any interruption.

The data flows one way, one function per step, each module holding a stretch of it::

    plan.load_recipients     CSV → validated recipients (every bad row reported, nothing sent)
    plan.plan_batches        recipients → batches, sized by gas (gas_plan) and grouped by reason
    target.size_batches      each batch estimated with eth_estimateGas, halved until it fits
    send.sign_batches        batches → signed raw transactions, written to the journal BEFORE broadcast
    send.broadcast           raw transactions → the node (JSON-RPC batch)
    send.collect_receipts    hashes → receipts (outcome_of decodes a revert by replaying the call)
    send.record_outcomes     receipts → the journal (confirmed / failed)
    report.build_report      journal → per-recipient report, write_results_csv → FILE.results.csv

``resume.reconcile_journal`` runs first on every run: each batch left signed or sent by an earlier run is
looked up on chain before anything new is signed (mined → recorded; unknown but its nonce is free →
the *same* raw transaction is broadcast again; unknown and its nonce taken by another transaction →
dropped, its recipients planned again). So no recipient is paid twice or skipped, whatever stopped
the earlier run: Ctrl-C, ``kill -9``, the node going down, a reverted batch.

How many batches are in flight at once: as many as the block gas limit holds counting each at its
gas limit (at most :data:`~loyalty_chain.airdrop.plan.MAX_BATCHES_IN_FLIGHT`), and their receipts
are awaited before the next ones are signed. Besides keeping the journal's in-flight set small, this
matters on an automining devnet: anvil mines one block per submission, so transactions beyond one
block's gas would wait forever for another submission.

Python::

    report = airdrop_points(chain, "bean-there", "drop.csv", account, AirdropOptions(reason="promo"))
    assert report.complete, report.stopped
"""

from __future__ import annotations

from .records import (
    STATUS_ALREADY_PAID,
    STATUS_FAILED,
    STATUS_IN_FLIGHT,
    STATUS_NOT_SENT,
    STATUS_SENT,
    STATUS_SKIPPED,
    AirdropOptions,
    AirdropPlan,
    AirdropReport,
    PlannedBatch,
    ProgressCallback,
    RecipientResult,
)
from .run import airdrop_cards, airdrop_points, plan_airdrop, run_airdrop
from .target import Target, open_target

__all__ = [
    "STATUS_ALREADY_PAID",
    "STATUS_FAILED",
    "STATUS_IN_FLIGHT",
    "STATUS_NOT_SENT",
    "STATUS_SENT",
    "STATUS_SKIPPED",
    "AirdropOptions",
    "AirdropPlan",
    "AirdropReport",
    "PlannedBatch",
    "ProgressCallback",
    "RecipientResult",
    "Target",
    "airdrop_cards",
    "airdrop_points",
    "open_target",
    "plan_airdrop",
    "run_airdrop",
]
