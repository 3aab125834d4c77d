"""UPWATCH_SECRET_KEY as a list of keys, and the key each one gives for one purpose.

The variable holds one key or several, comma-separated. The first is the current key: it
encrypts stored secrets and signs acknowledgement links. The ones after it only decrypt and
verify, so a key can be retired without a flag day (see README, "Secrets").

No key is used as it was typed: each purpose derives its own with HKDF-SHA256 and its own info
string, so the key that signs links (whose signatures anyone holding a link sees) is not the key
that encrypts the database's secrets. HKDF assumes a random key, not a passphrase: the README
says how to make one.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

LINK_SIGNING = b"upwatch acknowledgement links v1"
SECRETS_AT_REST = b"upwatch secrets at rest v1"


def split_keys(value: str) -> list[str]:
    """'new, old' -> ['new', 'old']. Blank entries (a stray comma, an empty variable) are no key."""
    return [key for key in (part.strip() for part in value.split(",")) if key]


@lru_cache(maxsize=64)
def derive_key(key: str, purpose: bytes) -> bytes:
    """32 bytes for `purpose`, from one of the operator's keys (cached: links are signed often)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(key.encode())


def fernet_key(key: str) -> bytes:
    """The Fernet key (url-safe base64 of 32 bytes) that encrypts stored secrets under `key`."""
    return base64.urlsafe_b64encode(derive_key(key, SECRETS_AT_REST))
