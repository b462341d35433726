"""The chain id the gateway's requests would otherwise ask the node for again and again.

web3 asks ``eth_chainId`` before each gas estimate and a contract call or two (about five times
per relayed redemption, a quarter of its JSON-RPC requests). The gateway connected to one node and
learnt its chain id then, so its web3 answers that question itself. The delivery layer's check
that the node is still the chain it sent on (:mod:`loyalty_chain.delivery.identity`) asks through
``Chain.batch``, which does not go through web3's middleware, so it still asks the node.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from web3.middleware import Web3Middleware

from ..chain import Chain


def answer_chain_id_locally(chain: Chain) -> None:
    """Have ``chain.w3`` answer ``eth_chainId`` with ``chain.chain_id`` (added once)."""
    known = hex(chain.chain_id)

    class KnownChainId(Web3Middleware):
        def wrap_make_request(self, make_request: Callable[..., Any]) -> Callable[..., Any]:
            def request(method: str, params: Any) -> Any:
                if method == "eth_chainId":
                    return {"jsonrpc": "2.0", "id": 0, "result": known}
                return make_request(method, params)

            return request

    if "known_chain_id" not in {name for _, name in chain.w3.middleware_onion.middleware}:
        chain.w3.middleware_onion.add(KnownChainId, "known_chain_id")
