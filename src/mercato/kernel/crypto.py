"""Secrets at rest: AES-256-GCM with keys derived from `MERCATO_SECRET_KEY`, and keyed hashes.

Ciphertexts carry the id of the key that sealed them, so the secret can be rotated: put
the old value in `MERCATO_PREVIOUS_SECRET_KEYS` and everything sealed before stays
readable while new writes use the new key. Each use (`purpose`) derives its own key, so
a ciphertext of one purpose can never be opened as another.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mercato.settings import get_settings

FORMAT_VERSION = b"m1"
NONCE_BYTES = 12
KEY_ID_BYTES = 4


class DecryptionError(Exception):
    """The ciphertext was not sealed by any configured key, or was tampered with."""


def _derive(secret: str, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"mercato", info=purpose.encode()
    ).derive(secret.encode())


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:KEY_ID_BYTES]


@lru_cache(maxsize=64)
def _keys(purpose: str, secrets: tuple[str, ...]) -> list[tuple[bytes, bytes]]:
    return [(_key_id(k), k) for k in (_derive(s, purpose) for s in secrets)]


def _configured_secrets() -> tuple[str, ...]:
    settings = get_settings()
    return (
        settings.secret_key.get_secret_value(),
        *(s.get_secret_value() for s in settings.previous_secret_keys),
    )


def seal(plaintext: bytes, *, purpose: str) -> bytes:
    """Encrypt with the current key: version ‖ key id ‖ nonce ‖ ciphertext+tag."""
    key_id, key = _keys(purpose, _configured_secrets())[0]
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_VERSION + key_id + nonce + AESGCM(key).encrypt(nonce, plaintext, purpose.encode())


def unseal(sealed: bytes, *, purpose: str) -> bytes:
    if not sealed.startswith(FORMAT_VERSION):
        raise DecryptionError("unknown ciphertext format")
    body = sealed[len(FORMAT_VERSION) :]
    key_id, nonce, ciphertext = (
        body[:KEY_ID_BYTES],
        body[KEY_ID_BYTES : KEY_ID_BYTES + NONCE_BYTES],
        body[KEY_ID_BYTES + NONCE_BYTES :],
    )
    for candidate_id, key in _keys(purpose, _configured_secrets()):
        if hmac.compare_digest(candidate_id, key_id):
            try:
                return AESGCM(key).decrypt(nonce, ciphertext, purpose.encode())
            except Exception as exc:
                raise DecryptionError("the ciphertext failed authentication") from exc
    raise DecryptionError("sealed with a key that is no longer configured")


def sealed_key_id(sealed: bytes) -> str:
    """Which key sealed this value (hex), to find values still under a retired key."""
    return sealed[len(FORMAT_VERSION) : len(FORMAT_VERSION) + KEY_ID_BYTES].hex()


@lru_cache(maxsize=64)
def _hash_key(secret: str, purpose: str) -> bytes:
    # Keyed by the secret itself, so a rotated secret derives a new key.
    return _derive(secret, purpose)


def keyed_hash(value: str, *, purpose: str) -> bytes:
    """HMAC-SHA256 of `value` under the current secret: lookups without storing the value."""
    key = _hash_key(_configured_secrets()[0], purpose)
    return hmac.new(key, value.encode(), hashlib.sha256).digest()
