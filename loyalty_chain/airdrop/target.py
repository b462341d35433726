"""The contract an airdrop calls, and what is asked of the node before anything is signed:
the CSV loaded against the token's decimals or tiers, each batch estimated (and halved until it
fits), and which card recipients already hold a card."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address
from eth_utils.abi import function_signature_to_4byte_selector
from web3.contract import Contract
from web3.exceptions import ContractLogicError, Web3RPCError

from ..artifacts import contract_at
from ..chain import Chain
from ..decoding import ErrorDecoder, revert_data
from ..delivery import NodeIdentity, Sender
from ..errors import InputError, TransactionError
from ..program import CONTRACTS, ProgramRecord, load_program
from .plan import (
    KINDS,
    Batch,
    GasPlan,
    Kind,
    KindSpec,
    LoadedFile,
    SizedBatch,
    batch_calldata,
    gas_limit_for,
    load_recipient_file,
    split_batch,
)
from .records import AirdropOptions

MEMBER_CHECK_CHUNK = 500
"""``balanceOf`` calls per JSON-RPC batch when cards recipients are checked for an existing card."""


@dataclass(frozen=True)
class Target:
    """The contract an airdrop calls, and what is needed to call it and read its errors."""

    chain: Chain
    kind: KindSpec
    contract: Contract
    """The program's LoyaltyPoints (points) or MembershipCard (cards)."""
    contracts: dict[str, Contract]
    """All four contracts of the program, by name."""
    decoder: ErrorDecoder
    decimals: int
    tiers: tuple[str, ...]
    valid_until: int = 0
    deploy_block: int = 0
    """The program's deployment block: pinned to recognise the node's chain on later runs."""


def open_target(chain: Chain, program: str | ProgramRecord, kind: Kind, valid_until: int = 0) -> Target:
    """The program's points token or card, with the token's decimals and (cards) the tiers read from chain."""
    spec = KINDS[kind]
    record = program if isinstance(program, ProgramRecord) else load_program(chain, program)
    chain.require_chain_id(record.chain_id, f"program {record.name!r}")
    contracts: dict[str, Contract] = {}
    for name in CONTRACTS:
        address: Any = record.addresses[name]
        contracts[name] = contract_at(chain.w3, name, address)
    points, card = contracts["LoyaltyPoints"], contracts["MembershipCard"]
    # a node without our code (another chain behind the same URL) is refused before any read
    NodeIdentity(chain.chain_id, contracts=(str(points.address), str(card.address))).check(chain)
    decimals = int(points.functions.decimals().call())
    tiers: tuple[str, ...] = ()
    if kind == "cards":
        count = int(card.functions.tierCount().call())
        tiers = tuple(str(card.functions.tierName(i).call()) for i in range(count))
        if not 0 <= valid_until < 2**64:
            raise InputError(f"valid_until {valid_until} is not a unix time in seconds")
        now = int(chain.w3.eth.get_block("latest")["timestamp"])
        if valid_until and valid_until < now:
            raise InputError(
                f"the card expiry {valid_until} is in the past (chain time {now}); pass a later one"
            )
    return Target(
        chain,
        spec,
        contracts[spec.contract],
        contracts,
        ErrorDecoder(contracts),
        decimals,
        tiers,
        valid_until,
        record.block,
    )


def load(target: Target, csv_path: Path, options: AirdropOptions) -> LoadedFile:
    return load_recipient_file(
        target.kind.name,
        csv_path,
        decimals=target.decimals,
        tiers=target.tiers,
        default_reason=options.reason,
        merge=options.merge,
        columns=options.columns,
        skip_invalid=options.skip_invalid,
    )


def call_params(target: Target, sender: str, data: bytes) -> Any:
    return {"from": sender, "to": target.contract.address, "data": data}


def estimate_batch(target: Target, sender: str, data: bytes) -> int | None:
    """eth_estimateGas of a batch; a revert raises its decoded error; None if the node finds no gas
    limit that works (e.g. more than a block holds)."""
    try:
        return int(target.chain.w3.eth.estimate_gas(call_params(target, sender, data)))
    except ContractLogicError as exc:
        raise target.decoder.decode(revert_data(exc)) from None
    except Web3RPCError as exc:
        # only "no gas limit works" means the batch is too big; anything else is the node's problem
        message = str(exc).lower()
        if "gas" in message or "exceeds" in message or "out of" in message:
            return None
        raise TransactionError(f"the node could not estimate a batch: {exc}") from None


def size_batches(
    target: Target, sender: Sender, batches: Sequence[Batch], plan: GasPlan
) -> Iterator[SizedBatch]:
    """Each batch estimated on the node, halved until its estimate fits the budget."""
    queue = deque(batches)
    while queue:
        batch = queue.popleft()
        data = batch_calldata(target.kind.name, batch, target.valid_until)
        estimate = estimate_batch(target, sender.address, data)
        if estimate is None or estimate > plan.budget:
            if len(batch.recipients) == 1:
                raise TransactionError(
                    f"line {batch.recipients[0].line}: one recipient alone needs "
                    f"{'more gas than a block holds' if estimate is None else f'{estimate:,} gas'}, "
                    f"above the per-batch budget of {plan.budget:,}"
                )
            first, second = split_batch(batch)
            queue.extendleft((second, first))
            continue
        yield SizedBatch(batch, data, estimate, gas_limit_for(estimate, plan))


def existing_members(target: Target, addresses: Sequence[str]) -> set[str]:
    """The addresses that already hold a card (the batch would skip them: no need to send them)."""
    if target.kind.name != "cards" or not addresses:
        return set()
    selector = "0x" + function_signature_to_4byte_selector("balanceOf(address)").hex()
    members: set[str] = set()
    for start in range(0, len(addresses), MEMBER_CHECK_CHUNK):
        chunk = addresses[start : start + MEMBER_CHECK_CHUNK]
        requests = [
            (
                "eth_call",
                [{"to": target.contract.address, "data": selector + a[2:].lower().rjust(64, "0")}, "latest"],
            )
            for a in chunk
        ]
        for address, result in zip(chunk, rpc_results(target.chain, requests), strict=True):
            if int(result, 16) != 0:
                members.add(address)
    return members


ENROLMENT_SKIPPED_TOPIC = "0x" + keccak(text="EnrolmentSkipped(address,uint256)").hex()
"""MembershipCard's event for a batch entry left out because the wallet already held a card."""


def skipped_on_chain(target: Target, tx_hashes: Collection[str]) -> dict[str, int]:
    """Members that ``enrollBatch`` transactions ``tx_hashes`` left out, with the card each held.

    Planning leaves out whoever holds a card already, but a wallet can get one (a Merkle claim, a
    transfer it agreed to) before the batch is mined: the card then skips it and says so in an
    ``EnrolmentSkipped`` event instead of reverting the batch.
    """
    if target.kind.name != "cards" or not tx_hashes:
        return {}
    card = str(target.contract.address).lower()
    found: dict[str, int] = {}
    hashes = sorted(tx_hashes)
    for start in range(0, len(hashes), MEMBER_CHECK_CHUNK):
        chunk = hashes[start : start + MEMBER_CHECK_CHUNK]
        receipts = rpc_results(target.chain, [("eth_getTransactionReceipt", [h]) for h in chunk])
        for receipt in receipts:
            for log in (receipt or {}).get("logs", []):
                topics = log.get("topics", [])
                if str(log.get("address", "")).lower() == card and topics[:1] == [ENROLMENT_SKIPPED_TOPIC]:
                    found[to_checksum_address("0x" + topics[1][-40:])] = int(topics[2], 16)
    return found


def rpc_results(chain: Chain, requests: Sequence[tuple[str, list[Any]]]) -> list[Any]:
    """The results of a JSON-RPC batch; any error answer stops the run (nothing is guessed)."""
    responses = chain.batch(requests)
    for response in responses:
        if "error" in response:
            raise TransactionError(f"the node answered with an error: {response['error']}")
    return [response.get("result") for response in responses]
