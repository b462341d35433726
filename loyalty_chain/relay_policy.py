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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from web3.contract import Contract
from web3.contract.contract import ContractFunction

from .decoding import hex_int
from .delivery import Sender
from .delivery.sender import GAS_MARGIN
from .delivery.signing import calldata
from .errors import InputError, RelayRefusedError
from .gasless import (
    ZERO_ADDRESS,
    RedemptionRequest,
    checksummed,
    is_delegated_eoa,
    parse_request,
    recover_signer,
    signature_bytes,
    signed_by_member,
)

DEFAULT_MAX_RELAY_GAS = 300_000
"""A normal relayed redemption uses ~115,000 gas; a contract member's check may add up to 100,000."""


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
    member = parse_request(typed).member
    if code is None:
        code = bytes(sender.chain.w3.eth.get_code(member))  # type: ignore[arg-type]
    if code and not signed_by_member(typed, signature) and not policy.allow_contract_members:
        kind = "an EIP-7702 delegated account" if is_delegated_eoa(code) else "a contract"
        raise RelayRefusedError(
            member,
            f"it is {kind} whose signature only its own code can check (ERC-1271)",
            "relay for contract members only if you know the wallet (allow_contract_members / "
            "--allow-contract-members), or have the member sign with its own key",
        )
    if estimate is None:
        estimate = sender.simulate(call)  # a revert surfaces here, decoded, before anything is sent
    if estimate > policy.max_gas:
        raise RelayRefusedError(
            member,
            f"the redemption needs {estimate:,} gas, above the relay ceiling of {policy.max_gas:,}",
            "raise the ceiling (max_gas / --max-relay-gas) if you accept that cost",
        )
    return min(int(estimate * GAS_MARGIN), policy.max_gas)


def prepare_relay(
    sender: Sender,
    catalog: Contract,
    typed: Mapping[str, Any],
    signature: str | bytes,
    policy: RelayPolicy,
) -> tuple[ContractFunction, int]:
    """:func:`relay_call` and :func:`check_relay` with one request to the
    node: the member's nonce, the chain time, the member's code and the gas estimate are read in
    one JSON-RPC batch, then every check runs on them, in the same order and with the same errors.
    Returns the call and the gas limit to relay it with."""
    request = parse_request(typed)
    draft = unchecked_relay_call(catalog, request, signature_bytes(signature))
    nonce_call = catalog.functions.nonces(request.member)
    answers = sender.chain.batch(
        [
            ("eth_call", [{"to": catalog.address, "data": "0x" + calldata(nonce_call).hex()}, "latest"]),
            ("eth_getBlockByNumber", ["latest", False]),
            ("eth_getCode", [request.member, "latest"]),
            (
                "eth_estimateGas",
                [{"from": sender.address, "to": catalog.address, "data": "0x" + calldata(draft).hex()}],
            ),
        ]
    )
    if any("result" not in a for a in answers[:3]):
        # the node said no to a plain read: ask again the usual way, which raises its error
        call = relay_call(catalog, typed, signature, relayer=sender.address)
        return call, check_relay(sender, call, typed, signature, policy)
    nonce, block, code = (a["result"] for a in answers[:3])
    reads = RelayReads(hex_int(nonce), hex_int(block["timestamp"]), bytes.fromhex(str(code)[2:]))
    call = relay_call(catalog, typed, signature, relayer=sender.address, reads=reads)
    estimated = answers[3]
    # a revert (or any refusal) of the estimate: simulated again the usual way, decoded
    estimate = hex_int(estimated["result"]) if "result" in estimated else None
    return call, check_relay(sender, call, typed, signature, policy, code=reads.code, estimate=estimate)


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
    if request.catalog != catalog.address:
        raise InputError(
            f"the request is for catalog {request.catalog}, not {catalog.address}; build it for this one"
        )
    chain_id = int(w3.eth.chain_id)
    if request.chain_id != chain_id:
        raise InputError(f"the request is for chain id {request.chain_id}, this is chain id {chain_id}")
    relayer = checksummed(relayer, "relayer")
    if request.relayer not in (relayer, ZERO_ADDRESS):
        raise InputError(
            f"the request names relayer {request.relayer}, not {relayer}; relay it from that account "
            "or have the member sign one for this relayer"
        )
    current = reads.nonce if reads else int(catalog.functions.nonces(request.member).call())
    if request.nonce != current:
        raise InputError(
            f"the request carries nonce {request.nonce} but {request.member}'s next nonce is {current} "
            "(already used or cancelled, or another request must go first); have the member sign a fresh one"
        )
    now = reads.now if reads else int(w3.eth.get_block("latest")["timestamp"])
    if request.deadline < now:
        raise InputError(f"the request expired at {request.deadline} (chain time {now}); sign a fresh one")
    code = reads.code if reads else bytes(w3.eth.get_code(request.member))  # type: ignore[arg-type]
    if not code:
        signer = recover_signer(typed, raw)
        if signer != request.member:
            raise InputError(f"the signature is {signer}'s, not the member {request.member}'s")
    return unchecked_relay_call(catalog, request, raw)


def unchecked_relay_call(catalog: Contract, request: RedemptionRequest, signature: bytes) -> ContractFunction:
    """The ``redeemWithSignature`` call for ``request`` as it is, nothing checked (for estimating
    it; :func:`relay_call` is the checked way)."""
    call: ContractFunction = catalog.functions.redeemWithSignature(
        request.member,
        request.relayer,
        request.perk_id,
        request.quantity,
        request.max_cost,
        request.deadline,
        signature,
    )
    return call
