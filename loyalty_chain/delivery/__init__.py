"""The delivery layer: every write of loyalty_chain goes through here.

Sending is a pipeline of small, named steps, each in its own module::

    rpc (loyalty_chain.rpc)  the transport: retries with backoff honouring Retry-After, batch splitting
    nonces                   one nonce sequence per account, healed after any failure
    fees                     the fee cap, the tip, ≥12.5% replacement bumps, the run's budget
    signing                  EIP-1559 bytes and calldata, signed locally
    flights                  one nonce's transaction and its versions; what a node's answer means
    pace                     the chain's head, block time and block gas
    outbox                   sign → broadcast → watch: backpressure, drops, replacements
    finality                 confirmations, and blocks reorged away
    identity                 is this node the chain we sent on? (chain id, pinned block, our code)
    operations               idempotency keys: the same key never sends twice
    sender                   one account's writes: simulate, deliver, decode

What it guarantees: an error after a send is never reported as a failure unless the chain proves
it (the transaction's nonce mined another transaction, or the node refused it for good); when it
cannot tell, :class:`~loyalty_chain.errors.OutcomeUnknownError` carries the hashes and nonces.
"""

from __future__ import annotations

from .fees import FeePolicy, parse_eth, parse_gwei
from .flights import Tx
from .identity import NodeIdentity
from .sender import DeliveryOptions, Sender, TxResult, send_from_many

__all__ = [
    "DeliveryOptions",
    "FeePolicy",
    "NodeIdentity",
    "Sender",
    "Tx",
    "TxResult",
    "parse_eth",
    "parse_gwei",
    "send_from_many",
]
