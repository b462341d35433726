"""``python -m loyalty_chain.cli``: the same as the ``loyalty-chain`` command."""

from .main import main

raise SystemExit(main())
