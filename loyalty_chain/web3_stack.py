"""The web3 middleware our connections run with: web3's defaults, minus two costs that buy nothing here.

web3's default onion is gas price strategy, ENS names, attribute dicts, validation and buffered gas
estimates. Two of them cost more than the rest of a call on a devnet:

- **validation** asks ``w3.eth.chain_id`` before every ``eth_call``, ``eth_estimateGas`` and
  ``eth_sendTransaction``, a second trip through the whole onion and its formatters, even when the
  transaction declares no chain id. :class:`ChainIdCheck` does the same checks (a declared chain id
  must be the node's, and is taken out of the call; a block's ``extraData`` over 32 bytes means a
  proof-of-authority chain) and asks the provider for the chain id only when one is declared.
- **ENS names** walks every request's parameters through ABI formatters looking for ``*.eth``
  names. Nothing in this package takes an ENS name: an address is checked where it comes in.

Both were a fifth of a contract call's CPU on a devnet. See ``tests/unit/test_web3_stack.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from web3.exceptions import ExtraDataLengthError, Web3ValidationError
from web3.middleware.base import Web3Middleware

if TYPE_CHECKING:
    from web3 import Web3
    from web3.types import RPCEndpoint

__all__ = ["ChainIdCheck", "lean_middleware"]

_TX_METHODS = frozenset({"eth_sendTransaction", "eth_estimateGas", "eth_call", "eth_createAccessList"})
_BLOCK_METHODS = frozenset({"eth_getBlockByHash", "eth_getBlockByNumber"})
_MAX_EXTRA_DATA = 32


class ChainIdCheck(Web3Middleware):
    """web3's validation middleware, asking the chain id only of a transaction that declares one."""

    def request_processor(self, method: RPCEndpoint, params: Any) -> Any:
        if method in _TX_METHODS and params and isinstance(params[0], dict) and "chainId" in params[0]:
            tx = dict(params[0])
            declared = tx.pop("chainId")
            node = _as_int(self._w3.provider.make_request("eth_chainId", []).get("result"))  # type: ignore[arg-type]
            if node is not None and _as_int(declared) != node:
                raise Web3ValidationError(
                    f"The transaction declared chain ID {_as_int(declared)!r}, "
                    f"but the connected node is on {node!r}"
                )
            return method, (tx, *params[1:])
        return method, params

    def response_processor(self, method: RPCEndpoint, response: Any) -> Any:
        if method in _BLOCK_METHODS and isinstance(response, dict):
            block = response.get("result")
            extra = block.get("extraData") if isinstance(block, dict) else None
            if isinstance(extra, str) and len(extra.removeprefix("0x")) > 2 * _MAX_EXTRA_DATA:
                raise ExtraDataLengthError(
                    f"The field extraData is {len(extra.removeprefix('0x')) // 2} bytes, but should be "
                    f"{_MAX_EXTRA_DATA}: this is likely a proof-of-authority chain. The full extraData "
                    f"is: {extra}"
                )
        return response


def _as_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        return int(value, 16) if value.startswith(("0x", "0X")) else int(value)
    return int(value)


def lean_middleware(w3: Web3) -> Web3:
    """``w3`` with :class:`ChainIdCheck` in place of web3's validation, and without ENS names."""
    w3.middleware_onion.replace("validation", ChainIdCheck)  # type: ignore[arg-type]  # web3's stub
    w3.middleware_onion.remove("ens_name_to_address")
    return w3
