"""One airdrop run end to end (or its dry run): resume, plan, send, report."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..chain import Chain
from ..csv_columns import default_rejects_path, write_rejects
from ..delivery import NodeIdentity, Sender
from ..program import ProgramRecord, load_program
from ..recipients import file_digest
from ..signers import SignerLike, as_signer
from .journal import Journal, JournalHeader, default_journal_path
from .plan import Kind, LoadedFile, Recipient, gas_plan, plan_batches
from .received import already_received
from .records import AirdropOptions, AirdropPlan, AirdropReport, PlannedBatch, ProgressCallback
from .report import build_report, default_results_path, write_results_csv
from .resume import reconcile_journal
from .send import Progress, send_batches
from .target import Target, existing_members, load, open_target, size_batches, skipped_on_chain

log = logging.getLogger("loyalty_chain")


def journal_header(target: Target, csv_path: Path, options: AirdropOptions) -> JournalHeader:
    extra: dict[str, Any] = (
        {"reason": options.reason, "merge": options.merge}
        if target.kind.name == "points"
        else {"valid_until": target.valid_until}
    )
    return JournalHeader(
        csv_digest=file_digest(csv_path),
        kind=target.kind.name,
        chain_id=target.chain.chain_id,
        contract=str(target.contract.address),
        options=extra,
    )


def run_airdrop(
    chain: Chain,
    program: str | ProgramRecord,
    kind: Kind,
    csv_path: str | os.PathLike[str],
    account: SignerLike,
    options: AirdropOptions | None = None,
    *,
    on_progress: ProgressCallback | None = None,
    on_status: Callable[[str], None] | None = None,
) -> AirdropReport:
    """Pay every recipient of the CSV exactly once, resuming whatever an earlier run left.

    ``on_status`` hears why the run is waiting (fee over the cap, rate limits, re-pricing)."""
    opts = options or AirdropOptions()
    path = Path(csv_path)
    record = _record(chain, program)
    target = open_target(chain, record, kind, opts.valid_until)
    header = journal_header(target, path, opts)  # the digest of the bytes about to be read
    loaded = load(target, path, opts)
    recipients = loaded.recipients
    rejects_csv = _write_rejects(path, loaded, opts)
    sender = Sender(chain, as_signer(account), target.decoder, opts.delivery, listener=on_status)
    journal_path = opts.journal or default_journal_path(path)
    _earlier_deployments_journal(chain, record, journal_path, set_aside=True)
    with Journal.open(journal_path, header) as journal:
        identity = node_identity(target, journal)
        identity.check(chain)
        paid_before = journal.paid()
        reconciled = reconcile_journal(target, sender, journal)
        paid_now = journal.paid()  # once: asked per address, a resume of n paid rows was O(n²)
        paid_before = {a: h for a, h in paid_before.items() if a in paid_now}
        covered = journal.covered()
        todo = [r for r in recipients if r.address not in covered]
        skipped = _skips(chain, record, target, todo, opts)
        todo = [r for r in todo if r.address not in skipped]
        plan = gas_plan(target.kind, int(chain.w3.eth.get_block("latest")["gasLimit"]), opts.batch_size)
        progress = Progress(len(recipients) - len(todo), len(recipients), on_progress)
        outcomes, stopped = send_batches(
            target, sender, journal, plan_batches(todo, plan.max_recipients), plan, progress, identity
        )
        skipped_in_batch = skipped_on_chain(target, set(journal.paid().values()))
        report = build_report(
            target.kind.name, path, journal, recipients, paid_before, skipped,
            [*reconciled, *outcomes], stopped, opts.results or default_results_path(path),
            skipped_in_batch,
        )  # fmt: skip
    report = replace(report, data_rows=loaded.data_rows, merged=loaded.merged, rejected=len(loaded.rejects),
                     rejects_csv=rejects_csv)  # fmt: skip
    write_results_csv(report)
    return report


def _record(chain: Chain, program: str | ProgramRecord) -> ProgramRecord:
    return program if isinstance(program, ProgramRecord) else load_program(chain, program)


def _skips(
    chain: Chain, record: ProgramRecord, target: Target, todo: list[Recipient], opts: AirdropOptions
) -> dict[str, str]:
    """Recipients not to pay, and why: card holders (cards), and with ``once_per_reason`` (points) those
    who already received their row's reason from the program."""
    skipped = {a: "already a member" for a in existing_members(target, [r.address for r in todo])}
    if opts.once_per_reason and target.kind.name == "points":
        skipped |= already_received(chain, record, [r for r in todo if r.address not in skipped])
    return skipped


def _write_rejects(path: Path, loaded: LoadedFile, opts: AirdropOptions) -> Path | None:
    """The rows left out by ``skip_invalid``, as ``FILE.rejects.csv`` (or ``opts.rejects``)."""
    if not opts.skip_invalid:
        return None
    return write_rejects(opts.rejects or default_rejects_path(path), loaded.rejects, loaded.delimiter)


PINNED = "pinned_block"


def _earlier_deployments_journal(chain: Chain, record: ProgramRecord, path: Path, *, set_aside: bool) -> bool:
    """Whether the journal at ``path`` is an earlier deployment's of the program; set aside if asked.

    A fresh devnet deploys a program again at the same addresses, under the same chain id, so the
    header of the journal a run on the earlier devnet left matches; only the deployment block it
    pinned (number and hash) tells them apart. Such a journal paid nobody on this chain, and every
    run on it was refused ("the node is behind the block where our transactions are"): a run moves it
    to ``<stem>.stale-<hash>.sqlite`` (logged) and starts a new one; a dry run reads no journal.
    Only when the record differs from the pin *and* this node does not have the pinned block: the
    same deployment on a node that lacks the journal's blocks is still refused by its checks.
    """
    pinned = Journal.stored_meta(path).get(PINNED)
    if pinned is None or not record.block_hash or pinned == f"{record.block}:{record.block_hash}":
        return False
    number, block_hash = _parse_pin(pinned)
    if NodeIdentity.pin(chain, number).pinned_hash == block_hash:
        return False  # the journal's deployment is on this chain: never set aside what may have paid
    if set_aside:
        aside = Journal.set_aside(path, (block_hash or "0xunpinned")[2:10])
        log.warning(
            "journal %s was left by an earlier deployment of %r (block %s); moved it to %s",
            path, record.name, pinned, aside,
        )  # fmt: skip
    return True


def _parse_pin(pinned: str) -> tuple[int, str | None]:
    """The journal's ``PINNED`` value, ``"<number>:<hash>"``, as (block number, hash or None)."""
    number, _, block_hash = pinned.partition(":")
    return int(number), block_hash or None


def node_identity(target: Target, journal: Journal) -> NodeIdentity:
    """What the node must show for this journal: the chain, the program's deployment block as the
    journal first saw it, our contract's code, and every block the journal has seen mined."""
    chain = target.chain
    pinned = journal.meta(PINNED)
    if pinned is None:
        identity = NodeIdentity.pin(chain, target.deploy_block, [str(target.contract.address)])
        journal.set_meta(PINNED, f"{identity.pinned_block}:{identity.pinned_hash or ''}")
    else:
        number, block_hash = _parse_pin(pinned)
        identity = NodeIdentity(chain.chain_id, number, block_hash, (str(target.contract.address),))
    return replace(identity, min_block=journal.highest_block())


def airdrop_points(
    chain: Chain,
    program: str | ProgramRecord,
    csv_path: str | os.PathLike[str],
    account: SignerLike,
    options: AirdropOptions | None = None,
    *,
    on_progress: ProgressCallback | None = None,
) -> AirdropReport:
    """Issue the points of a ``address,amount[,reason]`` CSV (see :func:`run_airdrop`)."""
    return run_airdrop(chain, program, "points", csv_path, account, options, on_progress=on_progress)


def airdrop_cards(
    chain: Chain,
    program: str | ProgramRecord,
    csv_path: str | os.PathLike[str],
    account: SignerLike,
    options: AirdropOptions | None = None,
    *,
    on_progress: ProgressCallback | None = None,
) -> AirdropReport:
    """Enrol the members of an ``address,tier`` CSV (see :func:`run_airdrop`)."""
    return run_airdrop(chain, program, "cards", csv_path, account, options, on_progress=on_progress)


def plan_airdrop(
    chain: Chain,
    program: str | ProgramRecord,
    kind: Kind,
    csv_path: str | os.PathLike[str],
    account: SignerLike,
    options: AirdropOptions | None = None,
) -> AirdropPlan:
    """The dry run: validate, plan and estimate every batch, price it; sends and writes nothing."""
    opts = options or AirdropOptions()
    path = Path(csv_path)
    record = _record(chain, program)
    target = open_target(chain, record, kind, opts.valid_until)
    header = journal_header(target, path, opts)
    loaded = load(target, path, opts)
    recipients = loaded.recipients
    rejects_csv = _write_rejects(path, loaded, opts)
    sender = Sender(chain, as_signer(account), target.decoder, opts.delivery)
    journal_path = opts.journal or default_journal_path(path)
    earlier = _earlier_deployments_journal(chain, record, journal_path, set_aside=False)
    journal = None if earlier else Journal.read_only(journal_path, header)
    paid: set[str] = set()
    in_flight: set[str] = set()
    if journal is not None:
        with journal:
            if journal.meta(PINNED) is not None:  # its payments count only on a node that has them
                node_identity(target, journal).check(chain)
            paid = set(journal.paid())
            in_flight = journal.covered() - paid
    todo = [r for r in recipients if r.address not in paid and r.address not in in_flight]
    skipped = _skips(chain, record, target, todo, opts)
    todo = [r for r in todo if r.address not in skipped]
    plan = gas_plan(target.kind, int(chain.w3.eth.get_block("latest")["gasLimit"]), opts.batch_size)
    planned = tuple(
        PlannedBatch(
            s.batch.reason,
            len(s.batch.recipients),
            s.batch.recipients[0].line,
            s.batch.recipients[-1].line,
            s.estimate,
            s.gas_limit,
        )
        for s in size_batches(target, sender, plan_batches(todo, plan.max_recipients), plan)
    )
    received = sum(1 for why in skipped.values() if why != "already a member")
    base_fee = int(chain.w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
    fees = sender.pricer.price(base_fee)
    return AirdropPlan(
        kind=kind,
        recipients=len(recipients),
        already_paid=len(paid),
        skipped=len(skipped) - received,
        in_flight=len(in_flight),
        gas=plan,
        batches=planned,
        gas_price=base_fee + fees["maxPriorityFeePerGas"],
        max_fee_per_gas=fees["maxFeePerGas"],
        fee_cap=sender.pricer.cap,
        budget=sender.pricer.policy.budget,
        data_rows=loaded.data_rows,
        merged=loaded.merged,
        rejected=len(loaded.rejects),
        rejects_csv=rejects_csv,
        already_received=received,
    )
