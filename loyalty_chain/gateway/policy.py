"""The relay policy: what the gateway pays gas for when it relays a member's signed redemption."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RelayPolicy:
    per_member_per_hour: int = 10
    """Relays one member may get per rolling hour (counted in the store: shared by every process)."""
    global_per_second: int = 100
    """Relays per second over all members (OpenZeppelin Relayer's default request limit)."""
    gas_ceiling: int = 400_000
    """Most gas one relay may take (estimated before sending)."""
    daily_gas_budget: int = 1_000_000_000
    """Most gas all relays may take per UTC day (their gas limits, counted in the store when admitted)."""
    allow_contract_members: bool = False
    """Relay for members whose address has code (smart accounts; ERC-1271 signatures)."""
