"""Deploy a loyalty program and record it.

    ape run deploy                      # on ape's local network (anvil via ape-foundry)
    python scripts/deploy.py [NAME]     # on $LOYALTY_CHAIN_RPC, else a devnet for the run

The program's name is the argument, else $LOYALTY_PROGRAM, else "coffee".
"""

from __future__ import annotations

import os
import sys

from loyalty_chain.program import ProgramOptions, deploy_program
from loyalty_chain.scripting import script_session


def main(name: str | None = None) -> None:
    program = name or os.environ.get("LOYALTY_PROGRAM", "coffee")
    with script_session() as (chain, signer):
        record = deploy_program(chain, ProgramOptions(program, symbol="BEAN"), signer)
        for contract, address in record.addresses.items():
            print(f"{contract:20} {address}")
        print(f"recorded in {record.path} (chain id {chain.chain_id})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
