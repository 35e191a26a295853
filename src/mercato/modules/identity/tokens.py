"""Access tokens: RS256 JWTs signed with keys kept (sealed) in the database.

The newest unretired key signs. Retired keys keep verifying until every token they signed
has expired (`verify_until`), then drop out of the JWKS. Verification pins the algorithm
list to RS256, so `alg: none` and HS256-with-the-public-key forgeries fail.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.crypto import seal, unseal
from mercato.kernel.db import get_database
from mercato.kernel.errors import Unauthorized
from mercato.modules.identity.models import SigningKey
from mercato.settings import get_settings

ALGORITHM = "RS256"
ACCESS_TOKEN_TTL = timedelta(minutes=15)
AUDIENCE = "mercato-api"
KEY_PURPOSE = "jwt-signing-key"
CACHE_TTL_S = 60.0
# A token naming a key this process does not know makes it reload the key ring (a key
# rotated elsewhere), at most this often: anyone can send such a token, before any limit.
UNKNOWN_KID_RELOAD_S = 5.0
CLOCK_LEEWAY_S = 30
FIRST_KEY_LOCK = 727_274_101


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    jti: str
    auth_time: datetime
    expires_at: datetime
    session_id: uuid.UUID


@dataclass
class _KeyCache:
    loaded_at: float = 0.0
    forced_at: float = float("-inf")
    signer: tuple[str, bytes] | None = None  # (kid, sealed private key)
    signing: tuple[str, Any] | None = None  # (kid, private key), unsealed on first use
    verifying: dict[str, Any] | None = None  # kid -> public key
    jwks: list[dict[str, Any]] | None = None


_cache = _KeyCache()


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _new_key() -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = private.public_key().public_numbers()
    kid = uuid.uuid4().hex[:16]
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SigningKey(
        kid=kid,
        private_key_sealed=seal(pem, purpose=KEY_PURPOSE),
        public_jwk={
            "kty": "RSA",
            "use": "sig",
            "alg": ALGORITHM,
            "kid": kid,
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
        },
    )


async def rotate_keys(session: AsyncSession) -> str:
    """Add a new signing key; older ones only verify until their tokens have expired."""
    now = datetime.now(UTC)
    await session.execute(
        update(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .values(retired_at=now, verify_until=now + ACCESS_TOKEN_TTL + timedelta(minutes=1))
    )
    key = _new_key()
    session.add(key)
    await session.flush()
    invalidate_cache()
    return key.kid


def invalidate_cache() -> None:
    _cache.loaded_at = 0.0


async def _usable_keys(session: AsyncSession) -> list[SigningKey]:
    now = datetime.now(UTC)
    rows = await session.scalars(
        select(SigningKey)
        .where(or_(SigningKey.verify_until.is_(None), SigningKey.verify_until > now))
        .order_by(SigningKey.created_at.desc())
    )
    return list(rows.all())


async def _load(*, force: bool = False) -> _KeyCache:
    """The key ring, from a transaction of its own so a first key is committed before use.

    Only public keys are prepared here; the signing key is unsealed when a token is issued.
    """
    now = time.monotonic()
    if force:
        # A ring read moments ago (forced or on expiry) cannot know the key either.
        if now - max(_cache.forced_at, _cache.loaded_at) < UNKNOWN_KID_RELOAD_S:
            return _cache
        _cache.forced_at = now
    elif _cache.signer and now - _cache.loaded_at < CACHE_TTL_S:
        return _cache
    async with get_database().session() as session:
        rows = await _usable_keys(session)
        if not any(row.retired_at is None for row in rows):
            # Serialise first-key creation across processes, then look again.
            await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": FIRST_KEY_LOCK})
            rows = await _usable_keys(session)
            if not any(row.retired_at is None for row in rows):
                key = _new_key()
                session.add(key)
                await session.flush()
                rows = [key, *rows]
    signer = next(row for row in rows if row.retired_at is None)
    verifying = {row.kid: jwt.algorithms.RSAAlgorithm.from_jwk(row.public_jwk) for row in rows}
    if _cache.signer is None or _cache.signer[0] != signer.kid:
        _cache.signer = (signer.kid, signer.private_key_sealed)
        _cache.signing = None
    _cache.verifying = verifying
    _cache.jwks = [row.public_jwk for row in rows]
    _cache.loaded_at = time.monotonic()
    return _cache


async def _signing_key() -> tuple[str, Any]:
    cache = await _load()
    signer = cache.signer
    if signer is None:
        raise RuntimeError("the key ring has no signing key")
    if cache.signing is None or cache.signing[0] != signer[0]:
        pem = unseal(signer[1], purpose=KEY_PURPOSE)
        cache.signing = (signer[0], serialization.load_pem_private_key(pem, password=None))
    return cache.signing


async def jwks() -> dict[str, list[dict[str, Any]]]:
    cache = await _load()
    return {"keys": list(cache.jwks or [])}


async def issue_access_token(
    *, user_id: uuid.UUID, auth_time: datetime, session_id: uuid.UUID
) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds; `sid` names its refresh family."""
    kid, private = await _signing_key()
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "jti": uuid.uuid4().hex,
        "auth_time": int(auth_time.timestamp()),
        "iat": int(now.timestamp()),
        "exp": int((now + ACCESS_TOKEN_TTL).timestamp()),
        "iss": get_settings().public_url,
        "aud": AUDIENCE,
        "sid": str(session_id),
    }
    token = jwt.encode(claims, private, algorithm=ALGORITHM, headers={"kid": kid})
    return token, int(ACCESS_TOKEN_TTL.total_seconds())


# Tokens verified a moment ago: sha256(issuer, token) -> (trusted until, kid, claims).
# Parsing and checking a JWT is a large share of a request's CPU; the outcome cannot change
# while the token is unexpired and its key still verifies (revocation is the denylist's job).
_verified: dict[bytes, tuple[float, str, AccessClaims]] = {}
VERIFIED_CACHE_TTL_S = 30.0
VERIFIED_CACHE_MAX = 10_000


def _verified_key(token: str, issuer: str) -> bytes:
    return hashlib.sha256(f"{issuer}\n{token}".encode()).digest()


def _recently_verified(digest: bytes) -> AccessClaims | None:
    entry = _verified.get(digest)
    if entry is None:
        return None
    until, kid, claims = entry
    if (
        until <= time.monotonic()
        or time.time() > claims.expires_at.timestamp() + CLOCK_LEEWAY_S
        or kid not in (_cache.verifying or {})
    ):
        _verified.pop(digest, None)
        return None
    return claims


def remembered_claims(token: str) -> AccessClaims | None:
    """The claims of a token this process verified moments ago (None: verify it)."""
    return _recently_verified(_verified_key(token, get_settings().public_url))


async def verify_access_token(token: str) -> AccessClaims:
    """Check signature (RS256 only), expiry, issuer and audience; raise 401 otherwise."""
    digest = _verified_key(token, get_settings().public_url)
    recent = _recently_verified(digest)
    if recent is not None:
        return recent
    kid, claims = await _verify(token)
    if len(_verified) >= VERIFIED_CACHE_MAX:
        _verified.clear()
    _verified[digest] = (time.monotonic() + VERIFIED_CACHE_TTL_S, kid, claims)
    return claims


async def _verify(token: str) -> tuple[str, AccessClaims]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthorized("The access token is malformed") from exc
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or not isinstance(kid, str):
        raise Unauthorized("The access token is not signed with an accepted algorithm")
    cache = await _load()
    if kid not in (cache.verifying or {}):
        cache = await _load(force=True)  # a key rotated in another process
    key = (cache.verifying or {}).get(kid)
    if key is None:
        raise Unauthorized("The access token was signed with an unknown key")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=get_settings().public_url,
            leeway=CLOCK_LEEWAY_S,
            options={"require": ["sub", "jti", "exp", "iat", "auth_time", "iss", "aud", "sid"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The access token has expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("The access token is not valid") from exc
    try:
        return kid, AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            jti=str(claims["jti"]),
            auth_time=datetime.fromtimestamp(int(claims["auth_time"]), UTC),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            session_id=uuid.UUID(str(claims["sid"])),
        )
    except (ValueError, TypeError) as exc:
        raise Unauthorized("The access token is not valid") from exc
