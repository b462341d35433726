"""API keys for the back office: random, shown once, stored only as a SHA-256 hash, each with scopes.

A key is ``lcg_`` followed by 43 URL-safe characters (256 bits), far over the 32 characters
OpenZeppelin Relayer asks for; hashing it without a salt is enough because it is never guessable.
Requests carry it as ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid

from ..errors import InputError
from .store import Store

SCOPES = ("events:write", "events:read")
PREFIX = "lcg_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(store: Store, name: str, scopes: tuple[str, ...] = SCOPES) -> str:
    """A new key with ``scopes``; the only time its text exists outside the caller."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise InputError(f"scopes must be some of {', '.join(SCOPES)}, got {', '.join(scopes) or 'none'}")
    if not name.strip():
        raise InputError("an API key needs a name (who uses it, e.g. the shop's back-end)")
    key = PREFIX + secrets.token_urlsafe(32)
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO api_keys (id, name, hash, scopes, created) VALUES (?, ?, ?, ?, ?)",
            (uuid.uuid4().hex, name, hash_key(key), " ".join(scopes), time.time()),
        )
    return key


def scopes_of(store: Store, key: str) -> set[str] | None:
    """The scopes of a valid key, or None for an unknown or revoked one."""
    rows = store.query("SELECT scopes FROM api_keys WHERE hash = ? AND revoked = 0", (hash_key(key),))
    return set(str(rows[0][0]).split()) if rows else None
