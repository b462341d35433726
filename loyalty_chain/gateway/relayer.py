"""Relays sent in groups: the signed redemptions that arrive while one group is being mined go out
together in the next, signed with consecutive nonces and sent at once, so they share blocks instead
of each waiting for the last one's receipt.

The HTTP request that brought a redemption waits for its own outcome (its place in the group), so
``POST /v1/redemptions`` still answers with the relayed transaction. A group is sent under the
idempotency key ``gateway:<store id>:relays:<first redemption id>``, under the store's sender lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from web3.contract.contract import ContractFunction

from ..chain import TX_GAS_CAP
from ..client import LoyaltyClient
from ..delivery import TxResult
from ..errors import LoyaltyChainError, TransactionError
from .store import Store

MAX_GROUP = 200
"""Most relays in one group (a redemption takes ~100-150k gas: about a 30M-gas block's worth)."""


@dataclass
class _Relay:
    redemption_id: str
    call: ContractFunction
    gas: int
    outcome: TxResult | LoyaltyChainError | None = None


class Relayer:
    """Sends every waiting relay in one group, one group at a time (see the module docstring)."""

    def __init__(self, store: Store, client: LoyaltyClient, max_group: int = MAX_GROUP) -> None:
        self.store = store
        self.client = client
        self.max_group = max_group
        self._waiting: list[_Relay] = []
        self._waiting_lock = threading.Lock()
        self._sending = threading.Lock()

    def relay(self, redemption_id: str, call: ContractFunction, gas: int) -> TxResult:
        """Send ``call`` with gas limit ``gas`` in the next group; its mined result, or its error."""
        item = _Relay(redemption_id, call, min(gas, TX_GAS_CAP))
        with self._waiting_lock:
            self._waiting.append(item)
        while item.outcome is None:
            with self._sending:
                if item.outcome is not None:
                    break
                with self._waiting_lock:
                    group, self._waiting = self._waiting[: self.max_group], self._waiting[self.max_group :]
                if group:
                    self._send(group)
        if isinstance(item.outcome, LoyaltyChainError):
            raise item.outcome
        return item.outcome

    def _send(self, group: list[_Relay]) -> None:
        key = f"gateway:{self.store.store_id}:relays:{group[0].redemption_id}"
        try:
            with self.store.write_lock():
                outcomes: list[TxResult | TransactionError] = self.client.sender.send_many(
                    [r.call for r in group], gas=[r.gas for r in group], key=key
                )
        except LoyaltyChainError as exc:  # nothing of the group is known to have gone through
            for r in group:
                r.outcome = exc
            return
        for r, outcome in zip(group, outcomes, strict=True):
            r.outcome = outcome
