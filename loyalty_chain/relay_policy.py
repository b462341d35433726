"""What a brand's relayer agrees to pay for before it submits a member's signed redemption.

A gasless redemption costs the relayer the gas, not the member. The catalog already bounds what a
contract wallet's ERC-1271 check may burn (``PerkCatalog.ERC1271_GAS``), and this policy adds the
relayer's own limits, checked before anything is signed or sent:

* a member with code that did not sign with its own key (a contract wallet answering ERC-1271) is
  refused unless ``allow_contract_members`` (an EIP-7702 delegated EOA signing with its own key is
  treated as the EOA it is);
* the transaction is simulated from the relayer (a revert is raised, decoded, at no cost) and
  refused if it needs more than ``max_gas``, which also caps the gas limit it is sent with.

:func:`relay_call` builds the catalog call itself, after the checks that save a relayer gas (the
catalog, chain, relayer, nonce, deadline and, for a member without code, the signature).
:func:`prepare_relay` is the same for a service relaying many: every check, in the same order with
the same errors, on one JSON-RPC batch of reads, and the calldata encoded directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from .decoding import hex_int
from .delivery import Sender
from .delivery.sender import GAS_MARGIN
from .errors import InputError, RelayRefusedError
from .gasless import (
    ZERO_ADDRESS,
    RedemptionRequest,
    checksummed,
    is_delegated_eoa,
    parse_request,
    request_signer,
    signature_bytes,
    signed_by,
)

DEFAULT_MAX_RELAY_GAS = 300_000
"""A normal relayed redemption uses ~115,000 gas; a contract member's check may add up to 100,000."""
REDEEM_TYPES = ("address", "address", "uint256", "uint256", "uint256", "uint256", "bytes")
"""``PerkCatalog.redeemWithSignature(member, relayer, perkId, quantity, maxCost, deadline, signature)``."""
REDEEM_SELECTOR = function_signature_to_4byte_selector(f"redeemWithSignature({','.join(REDEEM_TYPES)})")
NONCES_SELECTOR = function_signature_to_4byte_selector("nonces(address)")


@dataclass(frozen=True)
class RelayPolicy:
    """The relayer's limits for one gasless redemption."""

    max_gas: int = DEFAULT_MAX_RELAY_GAS
    """Refuse a relay whose gas estimate is above this; it is also the most the transaction may use."""
    allow_contract_members: bool = False
    """Relay for members whose signature is checked by their own contract (ERC-1271): only for
    wallets the brand knows, since each such check runs code the member chose."""

    def __post_init__(self) -> None:
        if isinstance(self.max_gas, bool) or not isinstance(self.max_gas, int) or self.max_gas < 21_000:
            raise InputError(
                f"the relay gas ceiling must be a whole number of gas >= 21000, got {self.max_gas!r}"
            )


def check_relay(
    sender: Sender,
    call: ContractFunction,
    typed: Mapping[str, Any],
    signature: str | bytes,
    policy: RelayPolicy,
    *,
    code: bytes | None = None,
    estimate: int | None = None,
) -> int:
    """The gas limit to relay ``call`` with, or :class:`RelayRefusedError` if the policy refuses it.

    ``call`` is the ``redeemWithSignature`` call :func:`relay_call` built for
    the same ``typed`` request and ``signature``. ``code`` (the member's) and ``estimate`` (the
    call's gas, simulated from the relayer) are read here unless the caller read them already.
    """
    request = parse_request(typed)
    if code is None:
        code = bytes(sender.chain.w3.eth.get_code(request.member))  # type: ignore[arg-type]
    return _policy_gas(sender, lambda: call, request, signature, policy, code, estimate)


def _policy_gas(
    sender: Sender,
    call: Callable[[], ContractFunction],
    request: RedemptionRequest,
    signature: str | bytes,
    policy: RelayPolicy,
    code: bytes,
    estimate: int | None,
) -> int:
    member = request.member
    _check_member_code(request, signature, policy, code)
    if estimate is None:
        estimate = sender.simulate(call())  # a revert surfaces here, decoded, before anything is sent
    if estimate > policy.max_gas:
        raise RelayRefusedError(
            member,
            f"the redemption needs {estimate:,} gas, above the relay ceiling of {policy.max_gas:,}",
            "raise the ceiling (max_gas / --max-relay-gas) if you accept that cost",
        )
    return min(int(estimate * GAS_MARGIN), policy.max_gas)


def _check_member_code(
    request: RedemptionRequest, signature: str | bytes, policy: RelayPolicy, code: bytes
) -> None:
    """A member with code that did not sign with its own key only if the policy allows it."""
    if code and not signed_by(request, signature) and not policy.allow_contract_members:
        kind = "an EIP-7702 delegated account" if is_delegated_eoa(code) else "a contract"
        raise RelayRefusedError(
            request.member,
            f"it is {kind} whose signature only its own code can check (ERC-1271)",
            "relay for contract members only if you know the wallet (allow_contract_members / "
            "--allow-contract-members), or have the member sign with its own key",
        )


@dataclass(frozen=True)
class PreparedRelay:
    """A relay every check took on: the ``redeemWithSignature`` transaction to send."""

    request: RedemptionRequest
    target: str
    """The catalog."""
    data: bytes
    """The call's ABI-encoded calldata."""
    gas: int
    """The gas limit to send it with (the estimate with a margin, within the policy's ceiling)."""


RpcCalls = Sequence[tuple[str, Sequence[Any]]]
"""JSON-RPC calls (method, params), as :meth:`loyalty_chain.chain.Chain.batch` takes them."""
ReadNode = Callable[[RpcCalls], list[dict[str, Any]]]
"""Sends JSON-RPC calls and returns their answers in order (``{"result": …}`` or ``{"error": …}``)."""


def prepare_relay(
    sender: Sender,
    catalog: Contract,
    request: RedemptionRequest,
    signature: str | bytes,
    policy: RelayPolicy,
    *,
    read: ReadNode | None = None,
    gas_hint: int | None = None,
) -> PreparedRelay:
    """:func:`relay_call` and :func:`check_relay` for a parsed ``request`` with one request to the
    node: the member's nonce, the chain time, the member's code and the gas estimate are read in
    one JSON-RPC batch, then every check runs on them, in the same order and with the same errors.
    The calldata is encoded once, directly (no contract objects on the way), the signer recovered
    at most once. ``read`` sends the reads (default: a batch of their own, ``sender.chain.batch``);
    a service admitting many relays at once may send several relays' reads in one batch.

    ``gas_hint``: a gas limit the relay probably runs within (what the last relay of the same perk
    was given). The simulation is then an ``eth_call`` with that limit (capped at the policy's
    ceiling) instead of ``eth_estimateGas`` (~7x the node's work: it executes the call again and
    again to narrow the limit down): if the call succeeds, the relay runs within the hint, so within
    the ceiling, and is sent with the hint as its limit. If it fails (a revert, or more gas needed)
    the relay is estimated and checked the usual way, with the same errors."""
    raw = signature_bytes(signature)
    target = str(catalog.address)
    _check_target(request, target, sender.chain.chain_id, sender.address)
    data = redeem_calldata(request, raw)
    member_word = bytes(12) + bytes.fromhex(request.member[2:])
    tx: dict[str, Any] = {"from": sender.address, "to": target, "data": "0x" + data.hex()}
    hint = min(gas_hint, policy.max_gas) if gas_hint is not None else None
    simulation = ("eth_call", [{**tx, "gas": hex(hint)}, "latest"]) if hint else ("eth_estimateGas", [tx])
    answers = (read or sender.chain.batch)(
        [
            ("eth_call", [{"to": target, "data": "0x" + (NONCES_SELECTOR + member_word).hex()}, "latest"]),
            ("eth_getBlockByNumber", ["latest", False]),
            ("eth_getCode", [request.member, "latest"]),
            simulation,
        ]
    )
    if any("result" not in a for a in answers[:3]):
        # the node said no to a plain read: ask again the usual way, which raises its error
        typed = request.typed_data()
        call = relay_call(catalog, typed, raw, relayer=sender.address)
        return PreparedRelay(request, target, data, check_relay(sender, call, typed, raw, policy))
    nonce, block, code = (a["result"] for a in answers[:3])
    reads = RelayReads(hex_int(nonce), hex_int(block["timestamp"]), bytes.fromhex(str(code)[2:]))
    _check_fresh(request, raw, reads)
    simulated = answers[3]
    draft = partial(unchecked_relay_call, catalog, request, raw)  # built only if simulated again
    if hint:
        _check_member_code(request, raw, policy, reads.code)
        if "result" in simulated:  # ran within the hint: within the ceiling
            return PreparedRelay(request, target, data, hint)
        # reverted or needs more gas: estimated and checked the usual way (a revert decoded)
        return PreparedRelay(
            request, target, data, _policy_gas(sender, draft, request, raw, policy, reads.code, None)
        )
    # a revert (or any refusal) of the estimate: simulated again the usual way, decoded
    estimate = hex_int(simulated["result"]) if "result" in simulated else None
    gas = _policy_gas(sender, draft, request, raw, policy, reads.code, estimate)
    return PreparedRelay(request, target, data, gas)


def redeem_calldata(request: RedemptionRequest, signature: bytes) -> bytes:
    """The ``redeemWithSignature`` calldata of ``request``, ABI-encoded by hand: six static words,
    the offset of ``signature`` (7 words in) and its length, then its bytes padded to a whole
    word (eth_abi's generic encoder took ~0.3 ms for this; checked equal to it in the tests)."""
    words = (
        int(request.member, 16),
        int(request.relayer, 16),
        request.perk_id,
        request.quantity,
        request.max_cost,
        request.deadline,
        7 * 32,
        len(signature),
    )
    padded = signature + bytes(-len(signature) % 32)
    return REDEEM_SELECTOR + b"".join(w.to_bytes(32, "big") for w in words) + padded


def redeem_arguments(data: bytes) -> bytes:
    """The ABI-encoded arguments of ``redeemWithSignature`` calldata (what follows its selector):
    encoded exactly as one ``SignedRedemption`` item of ``redeemBatchWithSignature``. Refused
    unless the selector is right and the rest is whole words, at least the head, the signature's
    length and one word of it."""
    if data[:4] != REDEEM_SELECTOR or len(data) < 4 + (len(REDEEM_TYPES) + 2) * 32 or (len(data) - 4) % 32:
        raise InputError(f"not redeemWithSignature calldata (selector 0x{data[:4].hex()}, {len(data)} bytes)")
    return data[4:]


def decode_redeem_calldata(data: bytes) -> tuple[Any, ...]:
    """The arguments of stored ``redeemWithSignature`` calldata, in order (addresses checksummed),
    as ``redeemBatchWithSignature`` takes each item."""
    member, relayer, *numbers, signature = abi_decode(REDEEM_TYPES, redeem_arguments(data))
    return (checksummed(member, "member"), checksummed(relayer, "relayer"), *numbers, signature)


def _redeem_args(request: RedemptionRequest, signature: bytes) -> tuple[Any, ...]:
    return (
        request.member,
        request.relayer,
        request.perk_id,
        request.quantity,
        request.max_cost,
        request.deadline,
        signature,
    )


@dataclass(frozen=True)
class RelayReads:
    """What :func:`relay_call` reads from the chain, read by the caller instead (e.g. in one JSON-RPC
    batch with the gas estimate): the member's catalog nonce, the chain time, the member's code."""

    nonce: int
    now: int
    code: bytes


def relay_call(
    catalog: Contract,
    typed: Mapping[str, Any],
    signature: str | bytes,
    *,
    relayer: str,
    reads: RelayReads | None = None,
) -> ContractFunction:
    """The ``redeemWithSignature`` call for a signed request, after the checks that save a relayer gas.

    Raises :class:`InputError` when the request is for another catalog or chain, names another
    relayer than ``relayer``, its nonce is not the member's current one (already used or cancelled,
    or signed too early), its deadline has passed, or, for a member without code, the signature is
    not the member's. (A member with code is the relay policy's business:
    :func:`loyalty_chain.relay_policy.check_relay`.) With ``reads`` nothing is asked of the node.
    """
    request = parse_request(typed)
    raw = signature_bytes(signature)
    w3 = catalog.w3
    _check_target(request, str(catalog.address), int(w3.eth.chain_id), relayer)
    if reads is None:
        reads = RelayReads(
            int(catalog.functions.nonces(request.member).call()),
            int(w3.eth.get_block("latest")["timestamp"]),
            bytes(w3.eth.get_code(request.member)),  # type: ignore[arg-type]
        )
    _check_fresh(request, raw, reads)
    return unchecked_relay_call(catalog, request, raw)


def _check_target(request: RedemptionRequest, catalog: str, chain_id: int, relayer: str) -> None:
    """The request is for this catalog and chain, and this relayer may submit it."""
    if request.catalog != catalog:
        raise InputError(
            f"the request is for catalog {request.catalog}, not {catalog}; build it for this one"
        )
    if request.chain_id != chain_id:
        raise InputError(f"the request is for chain id {request.chain_id}, this is chain id {chain_id}")
    relayer = checksummed(relayer, "relayer")
    if request.relayer not in (relayer, ZERO_ADDRESS):
        raise InputError(
            f"the request names relayer {request.relayer}, not {relayer}; relay it from that account "
            "or have the member sign one for this relayer"
        )


def _check_fresh(request: RedemptionRequest, signature: bytes, reads: RelayReads) -> None:
    """The request's nonce is the member's next, its deadline not passed, and (for a member
    without code) the signature is the member's."""
    if request.nonce != reads.nonce:
        raise InputError(
            f"the request carries nonce {request.nonce} but {request.member}'s next nonce is {reads.nonce} "
            "(already used or cancelled, or another request must go first); have the member sign a fresh one"
        )
    if request.deadline < reads.now:
        raise InputError(
            f"the request expired at {request.deadline} (chain time {reads.now}); sign a fresh one"
        )
    if not reads.code:
        signer = request_signer(request, signature)
        if signer != request.member:
            raise InputError(f"the signature is {signer}'s, not the member {request.member}'s")


def unchecked_relay_call(catalog: Contract, request: RedemptionRequest, signature: bytes) -> ContractFunction:
    """The ``redeemWithSignature`` call for ``request`` as it is, nothing checked (for estimating
    it; :func:`relay_call` is the checked way)."""
    call: ContractFunction = catalog.functions.redeemWithSignature(*_redeem_args(request, signature))
    return call
