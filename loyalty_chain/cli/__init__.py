"""The ``loyalty-chain`` command line: a thin layer over the library.

Every command takes ``--json`` for machine-readable output and exits non-zero with a one-line
reason on failure. A command that needs a chain connects for its own duration and no longer.

    main       the group, its global options, and :func:`main` (our errors → one line, exit 1)
    context    what every command shares: the chain, the signer, delivery options, output
    devnet     a managed anvil in the foreground          demo      the README's main job
    program    deploy, show, report                       points    issue, transfer, balance
    member     enroll, show, tier, renew, revoke          perk      add, list, redeem, gasless
    airdrop    push airdrops from a CSV, resumable        merkle    Merkle claim campaigns
    accounts   encrypted keystores                        gateway   serve (the brand gateway), gateway-key
    giving     charities and donations (issue 12)         exchange  partner exchange (issue 12)
    early      ``perk early``: early access for holders (issue 12)
"""

from __future__ import annotations

from .main import cli, main

__all__ = ["cli", "main"]
