"""The embedded chain's provider: eth-tester (py-evm) in-process, answering like a JSON-RPC node.

web3's ``EthereumTesterProvider`` formats eth-tester's answers (snake_case keys such as
``block_number``) into JSON-RPC shape (``blockNumber``) in a middleware that only web3's own
``w3.eth`` calls go through. Everything in this package that speaks JSON-RPC directly
(``provider.make_request``, batches of raw transactions and receipts) saw the unformatted answers
and failed (``KeyError: 'blockNumber'``). Here the formatting happens in ``make_request`` itself,
batches are answered one request at a time, and eth-tester's exceptions become JSON-RPC errors in
their place in a batch, as a node would send them. Imported only when an embedded chain is made.
"""

from __future__ import annotations

import ast
import contextlib
from typing import TYPE_CHECKING, Any, cast

from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from eth_tester.exceptions import ValidationError as TesterValidationError
from web3 import EthereumTesterProvider, Web3
from web3.middleware import combine_middleware
from web3.providers.eth_tester.middleware import (
    default_transaction_fields_middleware,
    ethereum_tester_middleware,
)
from web3.types import RPCEndpoint, RPCResponse

from .web3_stack import lean_middleware

if TYPE_CHECKING:
    from collections.abc import Callable

    from web3.middleware.base import MiddlewareOnion

REFUSALS: tuple[type[Exception], ...] = (TesterValidationError, TransactionFailed, ValueError)
"""What eth-tester raises where a node answers with a JSON-RPC error (bad nonce, too little
balance, revert in a call); py-evm's own ValidationError is a ValueError subclass."""

_CALLS = frozenset({"eth_call", "eth_estimateGas", "eth_createAccessList"})


class EmbeddedProvider(EthereumTesterProvider):
    """An ``EthereumTesterProvider`` whose raw requests and batches look like a node's."""

    def __init__(self, tester: EthereumTester) -> None:
        super().__init__(tester)
        self._formatter: Any = None

    def attach(self, w3: Web3) -> None:
        """Bind the formatting middleware to the Web3 instance that owns this provider."""
        self._formatter = ethereum_tester_middleware(w3)

    def request_func(self, w3: Web3, middleware_onion: MiddlewareOnion) -> Callable[..., RPCResponse]:
        # web3's own calls: formatting now happens in make_request, so only the default-fields
        # filler is added after the user's middleware (web3 would otherwise format twice).
        middleware = (*middleware_onion.as_tuple_of_middleware(), default_transaction_fields_middleware)
        cache_key = self._request_func_cache[0]
        if cache_key != middleware:
            self._request_func_cache = (
                middleware,
                combine_middleware(middleware=middleware, w3=w3, provider_request_fn=self.make_request),
            )
        return self._request_func_cache[-1]

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        if method in _CALLS and params and isinstance(params[0], dict) and "from" not in params[0]:
            # eth-tester refuses a call without a sender; like web3's own glue, call from the first
            # funded account (the zero address, a node's default, cannot afford eth-tester's gas)
            tester: Any = self.ethereum_tester
            params = [{**params[0], "from": tester.get_accounts()[0]}, *params[1:]]
        if self._formatter is None:
            return self._answer(method, params)
        method, params = self._formatter.request_processor(method, params)
        response = self._answer(method, params)
        return cast(RPCResponse, self._formatter.response_processor(method, response))

    def _answer(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        """eth-tester's answer as a JSON-RPC response; a revert answers like geth and anvil do
        (code 3 with the revert data), where web3's own glue raises eth-tester's exception and
        loses the custom error's selector and values."""
        self._current_request_id += 1
        reply: dict[str, Any] = {"id": self._current_request_id, "jsonrpc": "2.0"}
        namespace, _, endpoint = method.partition("_")
        delegator = (self.api_endpoints or {}).get(namespace, {}).get(endpoint)
        if delegator is None:
            reply["error"] = {"code": -32601, "message": f"Unknown RPC Endpoint: {method}"}
            return cast(RPCResponse, reply)
        try:
            reply["result"] = delegator(self.ethereum_tester, params)
        except NotImplementedError:
            reply["error"] = {"code": -32601, "message": f"RPC Endpoint has not been implemented: {method}"}
        except TransactionFailed as exc:
            reply["error"] = _revert_error(exc)
        return cast(RPCResponse, reply)

    def make_batch_request(self, requests: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse]:
        """Each request in turn (eth-tester has no batches); a refusal answers as a node's error."""
        answers: list[RPCResponse] = []
        for number, (method, params) in enumerate(requests):
            try:
                answer = dict(self.make_request(method, params))
            except REFUSALS as exc:
                answer = {"jsonrpc": "2.0", "error": {"code": -32000, "message": str(exc)}}
            answer["id"] = number  # batch answers are matched by id, in request order
            answers.append(cast(RPCResponse, answer))
        return answers


def _revert_error(exc: TransactionFailed) -> dict[str, Any]:
    """A revert as a node reports it: ``{"code": 3, "message": ..., "data": "0x<revert data>"}``."""
    detail: Any = exc.args[0] if exc.args else b""
    if isinstance(detail, Exception):  # eth-tester sometimes wraps the revert in another exception
        detail = detail.args[0] if detail.args else b""
    if isinstance(detail, str) and detail[:2] in ("b'", 'b"'):  # eth_call's revert data comes as repr()
        with contextlib.suppress(ValueError, SyntaxError):
            detail = ast.literal_eval(detail)
    if isinstance(detail, bytes):
        return {"code": 3, "message": "execution reverted", "data": "0x" + detail.hex()}
    return {"code": 3, "message": f"execution reverted: {detail}"}


def embedded_web3(mnemonic: str, accounts: int, hd_path: str) -> Web3:
    """A Web3 over a fresh in-process chain whose first ``accounts`` keys of ``mnemonic`` are funded."""
    backend = PyEVMBackend.from_mnemonic(mnemonic, num_accounts=accounts, hd_path=hd_path)
    provider = EmbeddedProvider(EthereumTester(backend))
    w3 = lean_middleware(Web3(provider))
    provider.attach(w3)
    return w3
