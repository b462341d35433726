"""Every error loyalty_chain raises, in one tree.

::

    LoyaltyChainError
    ├── SetupError                  the toolchain (node, solc shim, anvil) is missing or broken
    ├── CompileError                solc rejected a contract; carries file:line and solc's message
    ├── ChainError                  reaching or using a chain went wrong
    │   ├── RpcUnavailableError     nothing answers at the RPC URL
    │   ├── RpcLimitError           the node keeps refusing (rate limits, 5xx) after every retry
    │   ├── NodeMismatchError       the node is on another fork, behind the journal, or lacks our code
    │   ├── WrongChainError         the chain id is not the one expected
    │   └── DevKeyRefusedError      well-known dev keys on a non-local chain
    ├── DeploymentError             deploying, or finding a recorded deployment, failed
    │   └── UnknownProgramError     no deployment record by that name on this chain
    │       └── StaleProgramError   a record of a chain instance that is gone (or was reset)
    ├── TransactionError            a transaction failed on chain
    │   ├── ContractRevertError     it reverted; carries the decoded custom error and its values
    │   ├── InsufficientFundsError  the signer holds too little ETH to pay for gas
    │   ├── PartialBatchError       some of many failed; carries every outcome
    │   ├── OutcomeUnknownError     sent, but whether it mined cannot be told yet; carries hashes, nonces
    │   ├── FeeCapError             the base fee stayed over the fee cap; nothing more was signed
    │   └── BudgetExceededError     the run's fee budget would be exceeded; nothing more was signed
    ├── AccountError                keystore import/unlock problems, unknown account names
    ├── RelayRefusedError           the relay policy refused to pay for a gasless request
    └── InputError (ValueError)     bad input caught before anything was sent
        ├── CsvValidationError      every bad row of a CSV, each with its line number
        ├── MerkleError             a Merkle tree or proof that does not check out
        ├── IdempotencyKeyError     an idempotency key reused for a different operation
        ├── JournalMismatchError    a journal that belongs to a different CSV
        └── MechanicNotEnabledError a mechanic (giving …) the program has not enabled

Messages are built here, in ``__init__``, and end with a hint of the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

_TIME_ARG = re.compile(r"^(start|end|deadline|timestamp|now)$|(Time|Until|At)$")
"""Custom-error arguments that hold unix seconds (validUntil, blockTime, deadline, start …)."""


def _shown(name: str, value: Any) -> str:
    """An error argument as a reader wants it: unix seconds also as a UTC date."""
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if is_int and 0 < value < 2**40 and _TIME_ARG.search(name):
        return f"{value} ({datetime.fromtimestamp(value, UTC):%Y-%m-%d %H:%M:%S} UTC)"
    return str(value)


class LoyaltyChainError(Exception):
    """Root of every error loyalty_chain raises."""


class SetupError(LoyaltyChainError):
    """The toolchain is missing or broken (node, the solc shim, anvil)."""


class CompileError(LoyaltyChainError):
    """solc rejected the contracts.

    ``errors`` holds solc's formatted messages; ``locations`` the ``file:line`` of each.
    """

    def __init__(self, errors: Sequence[str], locations: Sequence[str]) -> None:
        self.errors = list(errors)
        self.locations = list(locations)
        where = ", ".join(loc for loc in self.locations if loc) or "unknown location"
        body = "\n".join(self.errors)
        super().__init__(f"compilation failed at {where}:\n{body}")


class ChainError(LoyaltyChainError):
    """Reaching or using a chain went wrong."""


class RpcUnavailableError(ChainError):
    def __init__(self, url: str, reason: str = "") -> None:
        self.url = url
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"no JSON-RPC node answers at {url}{detail}; start one (loyalty-chain devnet) "
            "or pass the right --rpc / LOYALTY_CHAIN_RPC"
        )


class RpcLimitError(ChainError):
    """The node kept refusing a call (429, 5xx, "limit exceeded") until the transport gave up."""

    def __init__(self, url: str, reason: str = "") -> None:
        self.url = url
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"the node at {url} kept refusing our requests{detail}; wait and run the same command "
            "again, lower --batch-size, or use a provider plan with higher limits"
        )


class NodeMismatchError(ChainError):
    """The node answering is not the chain we sent on (another fork, behind, or missing our code)."""

    def __init__(self, url: str, what: str) -> None:
        self.url = url
        self.what = what
        super().__init__(
            f"the node at {url} is not the chain this work was done on: {what}; nothing was sent. "
            "Point --rpc at a node of the right network that is in sync, and run again"
        )


class WrongChainError(ChainError):
    def __init__(self, expected: int, actual: int, what: str = "") -> None:
        self.expected = expected
        self.actual = actual
        about = f" for {what}" if what else ""
        super().__init__(
            f"connected to chain id {actual}, but chain id {expected} is expected{about}; "
            "point --rpc at the right network"
        )


class DevKeyRefusedError(ChainError):
    def __init__(self, chain_id: int, rpc_url: str = "") -> None:
        self.chain_id = chain_id
        where = f" at {rpc_url}" if rpc_url else ""
        super().__init__(
            f"the well-known dev keys are public and are refused on chain id {chain_id}{where}; "
            "they work only on local chains (31337, 1337) this process started or reaches over "
            "loopback: pass --account with a keystore account instead"
        )


class DeploymentError(LoyaltyChainError):
    """Deploying a contract, or reading a deployment record, failed."""


class UnknownProgramError(DeploymentError):
    def __init__(
        self,
        name: str,
        chain_id: int,
        known: Sequence[str] = (),
        *,
        folder: str = "",
        stale: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.chain_id = chain_id
        self.known = list(known)
        self.folder = folder
        where = f" in {folder}" if folder else ""
        parts = [f"no program named {name!r} is recorded on chain id {chain_id}{where}"]
        if known:
            parts.append(f"programs on this chain: {', '.join(known)}")
        if stale:
            parts.append(f"stale records (their chain is gone): {', '.join(stale)}")
        parts.append(
            f"deploy it first (loyalty-chain deploy {name}), or point $LOYALTY_CHAIN_DEPLOYMENTS "
            "at the folder holding its record"
        )
        super().__init__("; ".join(parts))


class StaleProgramError(UnknownProgramError):
    """A record whose chain instance is gone: same chain id, but not the chain it was made on."""

    def __init__(self, name: str, chain_id: int, path: str, reason: str) -> None:
        self.name = name
        self.chain_id = chain_id
        self.known = []
        self.folder = path
        self.reason = reason
        DeploymentError.__init__(
            self,
            f"the record of program {name!r} ({path}) is stale: {reason}; deploy it again under that "
            "name (the stale record is set aside) or delete the file",
        )


class TransactionError(LoyaltyChainError):
    """A transaction failed on chain."""

    def __init__(self, message: str, tx_hash: str | None = None) -> None:
        self.tx_hash = tx_hash
        super().__init__(message)


class NeverMinedError(TransactionError):
    """Never mined, and never will be: its nonce mined another transaction, and none of its versions
    is in a block. Nothing it carried happened; sending the same work again (as new) is safe."""

    def __init__(self, reason: str, tx_hash: str | None = None) -> None:
        super().__init__(f"never mined: {reason}; nothing it carried happened, it can be sent again", tx_hash)


class ContractRevertError(TransactionError):
    """A call or transaction reverted; ``error_name`` and ``args`` are the decoded custom error."""

    def __init__(
        self,
        error_name: str,
        args: Mapping[str, Any] | None = None,
        *,
        contract: str = "",
        tx_hash: str | None = None,
    ) -> None:
        self.error_name = error_name
        self.error_args = dict(args or {})
        self.contract = contract
        values = ", ".join(f"{k}={_shown(k, v)}" for k, v in self.error_args.items())
        where = f"{contract}: " if contract else ""
        super().__init__(f"{where}reverted with {error_name}({values})", tx_hash)


class InsufficientFundsError(TransactionError):
    """The signer cannot pay for gas; ``gasless`` says whether a relayed (gasless) call exists."""

    def __init__(self, address: str, detail: str, *, gasless: bool = False) -> None:
        self.address = address
        hint = (
            "have the brand relay it gasless (CLI: --gasless --relayer ACCOUNT; Python: "
            "redemption_request + relay) or send it some ETH"
            if gasless
            else "send it some ETH, or sign with another --account"
        )
        super().__init__(f"{address} has too little ETH to pay for gas ({detail}); {hint}")


def is_insufficient_funds(exc: BaseException) -> bool:
    """Whether a node refused a transaction because its sender cannot pay (geth, anvil, hardhat)."""
    return "insufficient funds" in str(exc).lower()


class PartialBatchError(TransactionError):
    """Some transactions of a batch failed; ``results`` holds every outcome, in order."""

    def __init__(self, results: Sequence[Any]) -> None:
        self.results = list(results)
        failures = [r for r in self.results if isinstance(r, Exception)]
        done = len(self.results) - len(failures)
        super().__init__(
            f"{len(failures)} of {len(self.results)} transactions failed ({done} went through and stand); "
            f"first failure: {failures[0] if failures else 'none'}"
        )


class OutcomeUnknownError(TransactionError):
    """Sent (or maybe sent), but whether it mined cannot be told: the node stopped answering.

    Never read this as "failed": the transaction may still mine. ``tx_hashes`` and ``nonces`` say
    what to look for; retrying with the same idempotency key resumes watching instead of paying
    again.
    """

    def __init__(self, tx_hashes: Sequence[str], nonces: Sequence[int], reason: str) -> None:
        self.tx_hashes = list(tx_hashes)
        self.nonces = list(nonces)
        shown = ", ".join(self.tx_hashes[:3]) + (" …" if len(self.tx_hashes) > 3 else "")
        super().__init__(
            f"sent, outcome unknown ({reason}): transaction(s) {shown} at nonce(s) "
            f"{', '.join(map(str, self.nonces[:3]))} may still mine. Do not send again as new: retry with "
            "the same idempotency key, or look the hashes up once the node answers",
            self.tx_hashes[0] if self.tx_hashes else None,
        )


class FeeCapError(TransactionError):
    """The base fee stayed above the fee cap for longer than the run waits."""

    def __init__(self, base_fee: int, cap: int, waited_s: float) -> None:
        self.base_fee = base_fee
        self.cap = cap
        super().__init__(
            f"the base fee is {base_fee / 1e9:,.2f} gwei, over the fee cap of {cap / 1e9:,.2f} gwei "
            f"(waited {waited_s:.0f}s); nothing more was signed. Run the same command again later, or "
            "raise --max-fee"
        )


class BudgetExceededError(TransactionError):
    """Signing more would let this run's fees exceed its budget."""

    def __init__(self, budget: int, committed: int, needed: int) -> None:
        self.budget = budget
        self.committed = committed
        self.needed = needed
        super().__init__(
            f"the fee budget of {budget / 1e18:.6f} ETH would be exceeded ({committed / 1e18:.6f} ETH "
            f"spent or committed, the next transaction may cost up to {needed / 1e18:.6f} ETH); nothing "
            "more was signed. Run again with a larger --budget to continue"
        )


class AccountError(LoyaltyChainError):
    """An account could not be found, imported or unlocked."""


class RelayRefusedError(LoyaltyChainError):
    """The relay policy refused to submit (and pay for) a member's signed request; nothing was sent."""

    def __init__(self, member: str, reason: str, hint: str) -> None:
        self.member = member
        self.reason = reason
        super().__init__(f"not relaying for {member}: {reason}; {hint}")


class InputError(LoyaltyChainError, ValueError):
    """Bad input caught before anything was sent."""


class CsvValidationError(InputError):
    """A CSV with bad rows; ``problems`` lists (line number, reason) for every one."""

    def __init__(self, path: str, problems: list[tuple[int, str]]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  line {n}: {why}" for n, why in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(
            f"{path}: {len(problems)} bad row(s), nothing was sent:\n{lines}{more}\n"
            "Fix these rows and run again."
        )


class MerkleError(InputError):
    """A Merkle tree or proof that does not check out."""


class IdempotencyKeyError(InputError):
    def __init__(self, key: str, what: str) -> None:
        self.key = key
        super().__init__(
            f"idempotency key {key!r} was first used for {what}; a key names one operation: "
            "use a new key for a different one"
        )


class JournalMismatchError(InputError):
    def __init__(self, journal: str, expected_digest: str, actual_digest: str) -> None:
        self.journal = journal
        super().__init__(
            f"journal {journal} was started for a different CSV (sha256 {expected_digest[:12]}…, "
            f"this file is {actual_digest[:12]}…); restore the original file or pass a new --journal"
        )


class RulesFileError(InputError):
    """An earn-rules file the gateway refuses to start with: the file, the line and the field."""

    def __init__(self, path: str, line: int | None, field: str, problem: str) -> None:
        self.path = path
        self.line = line
        self.field = field
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {field}: {problem}; fix the rules file and start the gateway again")


class MechanicNotEnabledError(InputError):
    """A mechanic (giving, …) asked of a program whose record has no contract for it."""

    def __init__(self, program: str, contract: str, enable_hint: str) -> None:
        self.program = program
        self.contract = contract
        super().__init__(
            f"program {program!r} has no {contract} (the mechanic is not enabled); {enable_hint}"
        )
