"""Signed outbound HTTP payloads: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.

The receiver recomputes the HMAC over the raw body with the shared secret and rejects
timestamps outside a tolerance window, which stops replays of captured requests.
"""

from __future__ import annotations

import hashlib
import hmac
import time

DEFAULT_TOLERANCE_S = 300


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The signature header value for `body`."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: int | None = None,
) -> bool:
    """True when `header` signs `body` with `secret` within the tolerance window."""
    pairs = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value for key, value in pairs if key.strip() == "t"]
    if len(stamps) != 1 or not (stamps[0].isascii() and stamps[0].isdigit()):
        return False
    stamp = int(stamps[0])
    if abs((int(time.time()) if now is None else now) - stamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp=stamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, value) for key, value in pairs if key.strip() == "v1")
