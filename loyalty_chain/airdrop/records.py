"""What an airdrop run is told (options) and what it tells back (report, dry-run plan, statuses)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..csv_columns import ColumnMap
from ..delivery import DeliveryOptions
from .plan import GasPlan, Kind

STATUS_SENT = "sent"
"""Paid by a transaction this run confirmed."""

STATUS_ALREADY_PAID = "already paid"
"""Paid by a transaction an earlier run confirmed (found in the journal)."""

STATUS_SKIPPED = "skipped"
"""Not sent on purpose (a card recipient who already holds a card)."""

STATUS_FAILED = "failed"
"""Its last batch reverted or was dropped; the next run sends it again."""

STATUS_NOT_SENT = "not sent"
"""The run stopped before its batch (see the report's ``stopped``); the next run sends it."""

STATUS_IN_FLIGHT = "in flight"
"""Its batch was signed or sent but the run stopped before the receipt; the next run looks it up."""

ProgressCallback = Callable[[int, int], None]
"""``on_progress(done, total)``: recipients settled so far (paid, skipped) out of the file's."""


@dataclass(frozen=True)
class AirdropOptions:
    """How to run one airdrop; the defaults put the journal and results beside the CSV."""

    journal: Path | None = None
    """SQLite journal; default ``FILE.journal.sqlite`` beside the CSV."""
    results: Path | None = None
    """Per-recipient results CSV; default ``FILE.results.csv`` beside the CSV."""
    batch_size: int | None = None
    """Most recipients per transaction; default as many as fit by gas."""
    reason: str = ""
    """Points: the reason of rows without one (≤ 32 bytes of UTF-8)."""
    valid_until: int = 0
    """Cards: expiry of every card, unix seconds (0 = never)."""
    merge: bool = True
    """Points: sum the amounts of a repeated address (False: each repeat is a bad row)."""
    columns: ColumnMap | None = None
    """Which header names hold the address, amount, tier, reason, and the delimiter (default: detected)."""
    skip_invalid: bool = False
    """Leave bad rows out (written to ``rejects``) and send the rest, instead of refusing the file."""
    rejects: Path | None = None
    """Where the left-out rows go; default ``FILE.rejects.csv`` beside the CSV."""
    once_per_reason: bool = False
    """Points: skip recipients who already received this reason from this program (checked on chain)."""
    delivery: DeliveryOptions | None = None
    """Fee cap, budget, confirmations (:class:`~loyalty_chain.delivery.DeliveryOptions`)."""


@dataclass(frozen=True)
class RecipientResult:
    """One row of the report and of the results CSV."""

    line: int
    address: str
    value: int
    reason: str
    status: str
    tx_hash: str = ""
    detail: str = ""


@dataclass(frozen=True)
class AirdropReport:
    """The end of a run: every recipient's status, and what this run spent."""

    kind: Kind
    csv: Path
    journal: Path
    results_csv: Path | None
    recipients: tuple[RecipientResult, ...]
    transactions: int
    """Batch transactions this run confirmed (including ones an earlier run had sent)."""
    gas_used: int
    stopped: str | None = None
    """Why the run stopped before the end (e.g. a revert found by the estimate), or None."""

    data_rows: int = 0
    """Non-blank rows of the CSV after its header."""
    merged: int = 0
    """Duplicate rows summed into an earlier row of the same address."""
    rejected: int = 0
    """Bad rows left out (``skip_invalid``), listed in ``rejects_csv``."""
    rejects_csv: Path | None = None

    def count(self, status: str) -> int:
        return sum(1 for r in self.recipients if r.status == status)

    @property
    def complete(self) -> bool:
        """Every recipient is paid or deliberately skipped."""
        done = (STATUS_SENT, STATUS_ALREADY_PAID, STATUS_SKIPPED)
        return self.stopped is None and all(r.status in done for r in self.recipients)


@dataclass(frozen=True)
class PlannedBatch:
    """One batch of a dry run."""

    reason: str
    recipients: int
    first_line: int
    last_line: int
    gas_estimate: int
    gas_limit: int


@dataclass(frozen=True)
class AirdropPlan:
    """A dry run: what would be sent, and what it would cost now. Nothing was sent."""

    kind: Kind
    recipients: int
    already_paid: int
    skipped: int
    in_flight: int
    """Recipients in batches an earlier run left in flight: settled by the next real run."""
    gas: GasPlan
    batches: tuple[PlannedBatch, ...]
    gas_price: int
    """What a gas unit is expected to cost if sent now: base fee + tip, in wei."""
    max_fee_per_gas: int
    data_rows: int = 0
    """Non-blank rows of the CSV after its header."""
    merged: int = 0
    """Duplicate rows summed into an earlier row of the same address."""
    rejected: int = 0
    """Bad rows that would be left out (``skip_invalid``), listed in ``rejects_csv``."""
    rejects_csv: Path | None = None
    already_received: int = 0
    """Recipients skipped because they already received this reason from the program (``once_per_reason``)."""
    """What the transactions would be signed at: the most a gas unit can cost (fee cap applied)."""
    fee_cap: int | None = None
    budget: int | None = None

    @property
    def total_gas(self) -> int:
        return sum(b.gas_estimate for b in self.batches)

    @property
    def cost_wei(self) -> int:
        return self.total_gas * self.gas_price

    @property
    def max_cost_wei(self) -> int:
        """The worst case, and what the signer must hold: every gas limit at the max fee."""
        return sum(b.gas_limit for b in self.batches) * self.max_fee_per_gas
