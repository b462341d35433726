"""Loyalty mechanics a program adds on top of points, cards and perks (issue 12).

* :class:`Giving` (``giving``): charities per program; members donate points (burned, running totals).

Each mechanic that needs a contract of its own adds it to the program's record
(:mod:`loyalty_chain.mechanics.addons`). Importing this package loads nothing until a name is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .giving import Charity, Donation, Giving

_EXPORTS = {"Charity": "giving", "Donation": "giving", "Giving": "giving"}

__all__ = ["Charity", "Donation", "Giving"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'loyalty_chain.mechanics' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
