"""What a transaction may pay: the fee cap, the tip, replacement bumps and the run's budget.

EIP-1559 fees are two numbers: ``maxFeePerGas`` (the most paid per gas, base fee included) and
``maxPriorityFeePerGas`` (the tip). We sign at ``2 × base fee + tip`` — room for the base fee to
rise 12.5% per full block for six blocks — but never above the cap. While the base fee itself is
over the cap nothing new is signed; the sender waits and says so. A transaction stuck under a risen
base fee is replaced at the same nonce with both numbers bumped by at least 12.5% (geth refuses
less), again never above the cap.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from ..errors import BudgetExceededError, InputError

GWEI = 10**9

DEFAULT_MAX_FEE: dict[int, int] = {
    1: 100 * GWEI,  # Ethereum mainnet: a busy day is 30-60 gwei; 100 stops a spike from costing 10x
    11155111: 500 * GWEI,  # Sepolia: test ETH, spiky
    17000: 500 * GWEI,  # Holesky
    560048: 500 * GWEI,  # Hoodi
    137: 1_000 * GWEI,  # Polygon PoS: base fees in the hundreds of gwei are normal
    80002: 1_000 * GWEI,  # Polygon Amoy
    10: 1 * GWEI,  # OP Mainnet and the rollups below: base fees are a few mwei
    8453: 1 * GWEI,  # Base
    42161: 1 * GWEI,  # Arbitrum One
    84532: 1 * GWEI,  # Base Sepolia
    11155420: 1 * GWEI,  # OP Sepolia
    421614: 1 * GWEI,  # Arbitrum Sepolia
}
"""A cap per known chain id when none is given: above what the chain charges on a busy day."""

UNKNOWN_CHAIN_CAP_MULTIPLE = 10
"""On a chain not listed above, the default cap is this many times the base fee seen at start."""

LOCAL_TIP = 1_000_000
"""The tip on a local chain (1 mwei): devnets include anything that pays the base fee."""

MIN_BUMP = 0.125
"""A replacement raises both fee fields by at least this share (geth's minimum is 10%)."""

Fees = dict[str, int]
"""``{"maxFeePerGas": …, "maxPriorityFeePerGas": …}``, the two numbers a type-2 transaction signs."""


@dataclass(frozen=True)
class FeePolicy:
    """The limits a run signs within. Every field has a sane default per chain."""

    max_fee_per_gas: int | None = None
    """The cap (wei per gas) on ``maxFeePerGas``; None: :data:`DEFAULT_MAX_FEE` for the chain, no cap
    on a local chain, else :data:`UNKNOWN_CHAIN_CAP_MULTIPLE` × the base fee when the run started."""
    priority_fee: int | None = None
    """The tip (wei per gas); None: the node's ``eth_maxPriorityFeePerGas`` (1 mwei on local chains)."""
    budget: int | None = None
    """The most this run may spend on fees (wei), counting a transaction in flight at its worst case
    (gas limit × max fee); None: no budget."""
    wait_for_s: float = 600.0
    """How long to wait while the base fee is over the cap before giving up (FeeCapError)."""

    def __post_init__(self) -> None:
        for name in ("max_fee_per_gas", "priority_fee", "budget"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise InputError(f"{name} must be a whole number of wei ≥ 0, got {value!r}")


def parse_gwei(text: str, what: str = "--max-fee") -> int:
    """``"50"`` / ``"50gwei"`` / ``"0.5 gwei"`` / ``"1000000wei"`` → wei."""
    value = text.strip().lower().replace(" ", "")
    unit = GWEI
    for suffix, factor in (("gwei", GWEI), ("wei", 1), ("eth", 10**18)):
        if value.endswith(suffix):
            value, unit = value[: -len(suffix)], factor
            break
    try:
        from decimal import Decimal, InvalidOperation

        amount = Decimal(value) * unit
    except (InvalidOperation, ValueError):
        raise InputError(f"{what} {text!r} is not an amount (e.g. 50gwei, 0.5gwei, 1000000wei)") from None
    if amount < 0 or amount != amount.to_integral_value():
        raise InputError(f"{what} {text!r} is not a whole number of wei ≥ 0")
    return int(amount)


def parse_eth(text: str, what: str = "--budget") -> int:
    """``"0.5"`` / ``"0.5eth"`` / ``"20gwei"`` → wei (a bare number is ETH)."""
    stripped = text.strip().lower()
    if stripped.replace(".", "", 1).isdigit():
        stripped += "eth"
    return parse_gwei(stripped, what)


@dataclass
class Pricer:
    """The fees of one run, from its policy and what the chain charges now."""

    policy: FeePolicy
    chain_id: int
    is_local: bool
    tip: int
    cap: int | None
    spent: int = 0
    """Fees paid by transactions of this run that mined (gas used × effective price)."""
    committed: dict[str, int] = field(default_factory=dict)
    """Worst-case fees of transactions in flight, by a key the caller chooses (e.g. the nonce)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    """Pipelined writes sign in one thread while another settles what mined."""

    @classmethod
    def start(cls, policy: FeePolicy, chain_id: int, is_local: bool, base_fee: int, node_tip: int) -> Pricer:
        tip = (
            policy.priority_fee if policy.priority_fee is not None else (LOCAL_TIP if is_local else node_tip)
        )
        cap = policy.max_fee_per_gas
        if cap is None and not is_local:
            cap = DEFAULT_MAX_FEE.get(chain_id, max(UNKNOWN_CHAIN_CAP_MULTIPLE * base_fee + tip, GWEI))
        return cls(policy, chain_id, is_local, tip, cap)

    def over_cap(self, base_fee: int) -> bool:
        """Whether a transaction signed now could not be included (base fee + tip above the cap)."""
        return self.cap is not None and base_fee + min(self.tip, 1) > self.cap

    def price(self, base_fee: int) -> Fees:
        """The fees to sign at now (call :meth:`over_cap` first)."""
        max_fee = 2 * base_fee + self.tip
        tip = self.tip
        if self.cap is not None:
            max_fee = min(max_fee, self.cap)
            tip = min(tip, max(0, max_fee - base_fee))
        return {"maxFeePerGas": max_fee, "maxPriorityFeePerGas": tip}

    def bump(self, old: Fees, base_fee: int) -> Fees | None:
        """Fees that replace ``old`` at the same nonce and pay today's base fee, or None when the cap
        leaves no room for the minimum bump."""
        min_tip = int(old["maxPriorityFeePerGas"] * (1 + MIN_BUMP)) + 1
        min_max = int(old["maxFeePerGas"] * (1 + MIN_BUMP)) + 1
        wanted = self.price(base_fee) if not self.over_cap(base_fee) else dict(old)
        tip = max(min_tip, wanted["maxPriorityFeePerGas"])
        max_fee = max(min_max, 2 * base_fee + tip)
        if self.cap is not None:
            max_fee = min(max_fee, self.cap)
        if max_fee < min_max or tip > max_fee:
            return None
        return {"maxFeePerGas": max_fee, "maxPriorityFeePerGas": tip}

    # -- the budget ---------------------------------------------------------------------------

    def reserve(self, key: str, gas_limit: int, fees: Fees) -> None:
        """Count a transaction about to be signed at its worst case; refuse if over budget."""
        worst = gas_limit * fees["maxFeePerGas"]
        budget = self.policy.budget
        with self._lock:
            previous = self.committed.get(key, 0)
            total = self.spent + sum(self.committed.values()) - previous
            if budget is not None and total + worst > budget:
                raise BudgetExceededError(budget, total, worst)
            self.committed[key] = worst

    def settle(self, key: str, gas_used: int, effective_price: int) -> None:
        """A transaction mined: its worst case is replaced by what it cost."""
        with self._lock:
            self.committed.pop(key, None)
            self.spent += gas_used * effective_price

    def release(self, key: str) -> None:
        """A transaction that will never mine costs nothing."""
        with self._lock:
            self.committed.pop(key, None)
