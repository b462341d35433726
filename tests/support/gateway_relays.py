"""Relays stored as ``POST /v1/redemptions`` stores them, without the HTTP request that would wait for
them: for the tests that stop a gateway between storing and settling."""

from __future__ import annotations

import hashlib
import time
import uuid

from eth_account.signers.local import LocalAccount

from loyalty_chain.delivery.signing import calldata
from loyalty_chain.gasless import sign_typed_data
from loyalty_chain.gateway import Gateway
from loyalty_chain.gateway.relay_admission import admit
from loyalty_chain.relay_policy import relay_call


def store_relay(gateway: Gateway, member: LocalAccount, perk_id: int) -> str:
    """The member's signed redemption of ``perk_id`` admitted and stored (not sent); its id."""
    brand = gateway.client
    typed = brand.redemption_request(member.address, perk_id)
    signature = sign_typed_data(member, typed)
    call = relay_call(brand.catalog, typed, signature, relayer=brand.sender.address)
    gas = int(brand.sender.simulate(call) * 2)
    rid = uuid.uuid4().hex
    with gateway.store.transaction() as conn:
        refused = admit(
            conn,
            gateway.options.policy,
            rid=rid,
            member=member.address,
            perk_id=perk_id,
            quantity=1,
            sig_hash=hashlib.sha256(signature.encode()).hexdigest(),
            target=str(call.address),
            calldata="0x" + calldata(call).hex(),
            gas=gas,
            now=time.time(),
        )
    assert refused is None, refused
    return rid
