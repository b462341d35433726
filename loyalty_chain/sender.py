"""Where the sending API used to live; it is :mod:`loyalty_chain.delivery` now.

Kept so that ``from loyalty_chain.sender import Sender, TxResult`` goes on working.
"""

from __future__ import annotations

from .delivery.sender import DeliveryOptions, Sender, TxResult
from .delivery.signing import calldata, sign_eip1559

__all__ = ["DeliveryOptions", "Sender", "TxResult", "calldata", "sign_eip1559"]
