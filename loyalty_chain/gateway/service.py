"""The gateway's parts wired together: one program's client, the store, the rules, the worker, the
webhook dispatcher and the relay policy. The HTTP layer (app.py) only calls into this."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace

from ..chain import Chain
from ..client import LoyaltyClient
from ..delivery import DeliveryOptions
from ..errors import InputError
from ..program import ProgramRecord
from ..signers import SignerLike
from .policy import RelayPolicy
from .relayer import Relayer
from .rules import Rules
from .shared_reads import SharedReads
from .spans import Spans
from .store import Store
from .webhooks import WebhookDispatcher, WebhookOptions
from .worker import Worker, WorkerOptions
from .worker_process import WorkerProcess, WorkerSpec

TIER_CACHE_S = 30.0
"""How long a member's tier, read from the chain for earn multipliers, is reused."""


@dataclass
class GatewayOptions:
    policy: RelayPolicy = field(default_factory=RelayPolicy)
    worker: WorkerOptions = field(default_factory=WorkerOptions)
    webhook: WebhookOptions | None = None
    max_body_bytes: int = 64 * 1024
    """Larger request bodies are refused with 413."""
    max_batch_body_bytes: int = 1024 * 1024
    """The same for ``POST /v1/events/batch`` (up to 1,000 events)."""
    cors_origins: tuple[str, ...] = ("*",)
    """Origins allowed to call the public (member) endpoints from a browser."""
    worker_process: bool = False
    """Run the issuing worker in a process of its own (:mod:`.worker_process`; what ``serve``
    does): accepting and issuing no longer share one GIL. Needs a chain reached by URL (not the
    embedded one)."""


def bind_store(store: Store, record: ProgramRecord) -> None:
    """Tie ``store`` to this deployment of the program on first use, and refuse it to any other.

    Its events, grants and relays were made on that deployment. Served for another program, or for
    the same one deployed again on a new devnet (same name, addresses and chain id), a repeated
    event id would answer "issued" with transactions that are not on this chain.
    """
    this = {
        "program": record.name,
        "chain_id": record.chain_id,
        "points": record.addresses["LoyaltyPoints"],
        "block": record.block,
        "block_hash": record.block_hash,
    }
    stored = json.loads(store.bind("program", json.dumps(this, sort_keys=True)))
    if stored != this:
        where = f"block {stored.get('block')} ({str(stored.get('block_hash'))[:10]}…)"
        raise InputError(
            f"the gateway store {store.url} holds program {stored.get('program')!r} as deployed at {where}"
            f" on chain id {stored.get('chain_id')}, not this deployment of {record.name!r} (block "
            f"{record.block}, {record.block_hash[:10]}…): "
            "its events and grants belong there. Give this program a --db of its own (if that was a "
            "devnet, it is gone)"
        )


class Gateway:
    """Everything one gateway process serves."""

    def __init__(
        self,
        chain: Chain,
        record: ProgramRecord,
        account: SignerLike,
        store: Store,
        rules: Rules,
        options: GatewayOptions | None = None,
        delivery: DeliveryOptions | None = None,
    ) -> None:
        bind_store(store, record)
        self.options = options or GatewayOptions()
        self.chain = chain
        self.store = store
        self.rules = rules
        # the operations journal goes with the store (its keys name this store's batches); one
        # account sends everything, its writes (batches, relays) one at a time under
        # store.write_lock(), from this process, the worker's and other gateways' on the same store
        delivery = delivery or DeliveryOptions()
        delivery = replace(delivery, journal=store.journal or delivery.journal, shared_account=True)
        self.client = LoyaltyClient(chain, record, account, delivery)
        self.metrics: Counter[str] = Counter()
        self.relay_gas_hints: dict[tuple[int, int], int] = {}
        """(perk id, quantity) → the gas limit the last relay of it was given: the next one is
        simulated with an ``eth_call`` at that limit, estimated only if it does not run within it
        (``relay_policy.prepare_relay``'s ``gas_hint``)."""
        self.relay_reads = SharedReads(self.client.sender.chain.batch, chain.rpc_url)
        """Admissions' node reads, sent in one JSON-RPC batch when they arrive together."""
        self.spans = Spans()
        """Where requests' and the relayer's time goes, per stage (/metrics)."""
        self.relayer = Relayer(
            store, self.client, on_settled=lambda s, n: self.count(f"relays_{s}", n), spans=self.spans
        )
        self.worker: Worker | WorkerProcess
        if self.options.worker_process:
            if chain.kind == "embedded":
                raise InputError(
                    "the issuing worker cannot run in a process of its own on the embedded chain (it"
                    " lives in this process); pass GatewayOptions(worker_process=False) or a chain URL"
                )
            # /metrics' grants_issued is then the store's count (the worker's counter is in its process)
            spec = WorkerSpec(
                chain.rpc_url,
                record,
                bytes(self.client.sender.account.key),
                store.url,
                self.options.worker,
                delivery,
            )
            self.worker = WorkerProcess(spec, on_restart=lambda: self.count("worker_restarts"))
            self.metrics["worker_restarts"] = 0
        else:
            self.worker = Worker(
                store, self.client, self.options.worker, lambda n: self.count("grants_issued", n)
            )
        self.webhooks = WebhookDispatcher(store, self.options.webhook) if self.options.webhook else None
        self._tiers: dict[str, tuple[float, str | None]] = {}
        self._metrics_lock = threading.Lock()

    def count(self, name: str, n: int = 1) -> None:
        with self._metrics_lock:
            self.metrics[name] += n

    def start(self) -> None:
        self.worker.start()
        self.relayer.start()
        if self.webhooks:
            self.webhooks.start()

    def stop(self) -> None:
        self.worker.stop()
        self.relayer.stop()
        if self.webhooks:
            self.webhooks.stop()

    def tier_of(self, member: str) -> str | None:
        """The member's active tier name (None without an active card), cached briefly."""
        now = time.monotonic()
        cached = self._tiers.get(member)
        if cached and now - cached[0] < TIER_CACHE_S:
            return cached[1]
        card = self.client.card_of(member)
        tier = card.tier_name if card and card.active else None
        self._tiers[member] = (now, tier)
        return tier
