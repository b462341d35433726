"""The brand gateway: one HTTP service for the shop's back-end and for members' wallets.

    events      POST /v1/events and /v1/events/batch (idempotent by the shop's event id), GET
                /v1/events/{id}
    earn        what an event earns under the rules (rules.py reads the brand's TOML file)
    worker      accepted grants → batched issuances through the delivery layer, exactly once
    members     GET /v1/members/{address}, GET /v1/perks: cards, balances, eligibility reasons
    redemptions EIP-712 requests, relayed within the relay policy (policy.py; its limits counted
                in the store: relay_admission.py); relayer: stored relays sent in groups, exactly once
    webhooks    HMAC-signed deliveries, retried with backoff
    store       the durable state (store_sqlite: SQLite by default; store_postgres: PostgreSQL for
                several processes); auth: hashed API keys with scopes
    app         the FastAPI application; service: the parts wired together

Importing :mod:`loyalty_chain` never imports this package (nor FastAPI).
"""

from __future__ import annotations

from .app import create_app
from .auth import create_key
from .policy import RelayPolicy
from .rules import Rules, load_rules
from .service import Gateway, GatewayOptions
from .store import Store, open_store
from .store_sqlite import SqliteStore
from .webhooks import WebhookOptions, verify_signature
from .worker import WorkerOptions

__all__ = [
    "Gateway",
    "GatewayOptions",
    "RelayPolicy",
    "Rules",
    "SqliteStore",
    "Store",
    "WebhookOptions",
    "WorkerOptions",
    "create_app",
    "create_key",
    "load_rules",
    "open_store",
    "verify_signature",
]
