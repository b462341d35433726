"""What the scripts in scripts/ share: a chain and a signer, however the script was started.

Under ``ape run <script>`` the chain is ape's connected provider (ape-foundry's anvil on the local
network); under ``python scripts/<script>.py`` it is ``$LOYALTY_CHAIN_RPC`` if set, else a managed
devnet for the script's duration. The signer is ``$LOYALTY_CHAIN_ACCOUNT`` (a keystore name,
``ape:ALIAS`` or ``dev:N``), else ``dev:0`` on a local chain.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from eth_account.signers.local import LocalAccount

from .chain import Chain, connect, launch_devnet


def _ape_provider_uri() -> str | None:
    """The RPC URL of ape's connected provider, if this runs inside ``ape run`` (ape not imported
    otherwise)."""
    if "ape" not in sys.modules:
        return None
    from ape import networks

    provider = networks.active_provider
    if provider is None or not provider.is_connected:
        return None
    uri = getattr(provider, "http_uri", None) or getattr(provider, "uri", None)
    return str(uri) if uri else None


@contextlib.contextmanager
def script_session() -> Iterator[tuple[Chain, LocalAccount]]:
    """``with script_session() as (chain, signer):`` for the length of one script."""
    from .accounts import resolve_account

    uri = _ape_provider_uri() or os.environ.get("LOYALTY_CHAIN_RPC")
    chain = connect(uri) if uri else launch_devnet()
    try:
        spec = os.environ.get("LOYALTY_CHAIN_ACCOUNT", "dev:0")
        yield chain, resolve_account(spec, chain)
    finally:
        chain.close()
