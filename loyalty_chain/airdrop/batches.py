"""What the airdrop journal stores about each batch and what it is told back, as plain records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class JournalHeader:
    """What a journal belongs to; a resumed run must present the same header."""

    csv_digest: str
    """sha256 of the CSV's bytes (:func:`loyalty_chain.recipients.file_digest`)."""
    kind: str
    """``"points"`` or ``"cards"``."""
    chain_id: int
    contract: str
    """The LoyaltyPoints or MembershipCard address the batches call."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Run options that change what is sent (default reason, card expiry); JSON-serialisable."""


@dataclass(frozen=True)
class JournalEntry:
    """One recipient of a batch; ``value`` is the amount in base units or the tier."""

    address: str
    line: int
    value: int


@dataclass(frozen=True)
class NewBatch:
    """A signed batch about to be broadcast: everything needed to find it or send it again."""

    sender: str
    nonce: int
    tx_hash: str
    raw_tx: bytes
    gas_limit: int
    reason: str
    signed_block: int
    recipients: tuple[JournalEntry, ...]


@dataclass(frozen=True)
class JournalBatch:
    """A batch as the journal holds it."""

    id: int
    state: str
    sender: str
    nonce: int
    tx_hash: str
    raw_tx: bytes
    gas_limit: int
    reason: str
    signed_block: int
    block: int | None
    gas_used: int | None
    error: str | None
    recipients: tuple[JournalEntry, ...]


@dataclass(frozen=True)
class Outcome:
    """What became of one batch: ``state`` is confirmed, failed or dropped."""

    batch_id: int
    state: str
    block: int | None = None
    gas_used: int | None = None
    error: str | None = None
    block_hash: str | None = None
    tx_hash: str | None = None
    """The version that mined, when a fee bump replaced the first one."""
