"""Password hashing (argon2id at or above OWASP's minimum) and the password policy."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP password storage cheat sheet: argon2id, m ≥ 19 MiB, t ≥ 2, p = 1.
TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1
MIN_LENGTH = 10
MAX_LENGTH = 256

# Frequently chosen passwords long enough to pass the length rule; compared case-insensitively.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "0123456789",
        "0987654321",
        "1111111111",
        "1234512345",
        "12345678910",
        "123456789a",
        "a123456789",
        "qwertyuiop",
        "qwerty1234",
        "1qaz2wsx3edc",
        "1q2w3e4r5t",
        "q1w2e3r4t5",
        "zaq12wsxcde",
        "asdfghjkl1",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "p@ssw0rd123",
        "iloveyou12",
        "iloveyou123",
        "letmein123",
        "welcome123",
        "welcome1234",
        "admin12345",
        "administrator",
        "changeme123",
        "football123",
        "baseball123",
        "sunshine123",
        "princess123",
        "dragon1234",
        "monkey12345",
        "superman123",
        "trustno1234",
        "abc1234567",
        "abcdefghij",
        "abcd123456",
        "qwerty123456",
        "1234567890q",
        "987654321a",
        "master1234",
        "shadow1234",
        "michael123",
        "computer123",
        "internet123",
        "starwars123",
        "whatever123",
        "secret1234",
        "mercato123",
        "mercato2026",
        "summer2026",
        "winter2026",
        "spring2026",
        "autumn2026",
        "password2026",
        "passwordpassword",
        "qwertyqwerty",
        "letmeinplease",
    }
)


class WeakPassword(ValueError):
    """The password breaks the policy; the message says how."""


def check_policy(password: str, *, email: str | None = None, name: str | None = None) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"must be at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        raise WeakPassword("is one of the most commonly used passwords")
    if len(set(password)) < 4:
        raise WeakPassword("has too few different characters")
    personal = [email.split("@")[0].lower() if email else "", (name or "").lower()]
    if any(part and len(part) >= 4 and lowered == part for part in personal):
        raise WeakPassword("must not be your name or e-mail address")


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM)


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not-a-real-password-only-burns-time")


def burn_verification_time(password: str) -> None:
    """Spend what a real check costs, so an unknown e-mail cannot be told apart by timing."""
    verify_password(_dummy_hash(), password)
