"""The indexer's roll-up tables, read whole: a cache that lived through a reorg must equal a fresh one."""

from __future__ import annotations

from typing import Any

from loyalty_chain.indexer import EventStore

ROLLUP_TABLES = (
    "wallet_days",
    "balances",
    "earned",
    "point_totals",
    "wallet_months",
    "cohort_sizes",
    "card_state",
)


def table_rows(store: EventStore) -> dict[str, list[Any]]:
    """Every roll-up table's rows, in a stable order."""
    return {t: store.conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in ROLLUP_TABLES}
