"""Journal → report: every recipient's status in file order, and the results CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..files import csv_safe, write_atomic
from .journal import Journal, Outcome
from .plan import KINDS, Kind, Recipient
from .records import (
    STATUS_ALREADY_PAID,
    STATUS_FAILED,
    STATUS_IN_FLIGHT,
    STATUS_NOT_SENT,
    STATUS_SENT,
    STATUS_SKIPPED,
    AirdropReport,
    RecipientResult,
)


def default_results_path(csv_path: Path) -> Path:
    """``drop.csv`` → ``drop.results.csv``, beside the CSV."""
    return csv_path.with_name(csv_path.stem + ".results.csv")


def build_report(
    kind: Kind,
    csv_path: Path,
    journal: Journal,
    recipients: Sequence[Recipient],
    paid_before: dict[str, str],
    skipped: Mapping[str, str],
    outcomes: Sequence[Outcome],
    stopped: str | None,
    results_csv: Path | None,
    skipped_in_batch: Mapping[str, int] | None = None,
) -> AirdropReport:
    """Each recipient's status from the journal, in file order; ``skipped_in_batch`` (address → card
    it held) are card recipients a mined batch left out because they held a card by then."""
    late = skipped_in_batch or {}
    paid = journal.paid()
    in_flight = journal.covered() - set(paid)
    failures = journal.last_failures()
    rows = []
    for r in recipients:
        if r.address in paid_before:
            row = RecipientResult(
                r.line, r.address, r.value, r.reason, STATUS_ALREADY_PAID, paid_before[r.address]
            )
        elif r.address in paid and r.address in late:
            detail = f"already held card {late[r.address]} when its batch was mined"
            row = RecipientResult(
                r.line, r.address, r.value, r.reason, STATUS_SKIPPED, paid[r.address], detail
            )
        elif r.address in paid:
            row = RecipientResult(r.line, r.address, r.value, r.reason, STATUS_SENT, paid[r.address])
        elif r.address in skipped:
            row = RecipientResult(
                r.line, r.address, r.value, r.reason, STATUS_SKIPPED, detail=skipped[r.address]
            )
        elif r.address in in_flight:
            detail = "sent; the receipt was not seen: the next run looks it up on chain"
            row = RecipientResult(r.line, r.address, r.value, r.reason, STATUS_IN_FLIGHT, detail=detail)
        elif r.address in failures:
            tx_hash, error = failures[r.address]
            row = RecipientResult(r.line, r.address, r.value, r.reason, STATUS_FAILED, tx_hash, error)
        else:
            row = RecipientResult(r.line, r.address, r.value, r.reason, STATUS_NOT_SENT, detail=stopped or "")
        rows.append(row)
    confirmed = [o for o in outcomes if o.state == "confirmed"]
    gas = sum(o.gas_used or 0 for o in confirmed)
    return AirdropReport(kind, csv_path, journal.path, results_csv, tuple(rows), len(confirmed), gas, stopped)


def write_results_csv(report: AirdropReport) -> Path | None:
    """``line,address,amount|tier,reason,status,tx_hash,detail`` for every recipient (atomic write).

    A cell a spreadsheet would run as a formula (a reason such as ``=HYPERLINK(...)``) is written
    with a leading ``'``, so the file is safe to open in Excel or Sheets.
    """
    if report.results_csv is None:
        return None
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["line", "address", KINDS[report.kind].value_column, "reason", "status", "tx_hash", "detail"]
    )
    for r in report.recipients:
        row = [r.line, r.address, r.value, r.reason, r.status, r.tx_hash, r.detail]
        writer.writerow([csv_safe(cell) for cell in row])
    return write_atomic(report.results_csv, out.getvalue())
