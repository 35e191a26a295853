"""GTIN (EAN/UPC) check digits: GTIN-8, -12, -13 and -14 share one mod-10 rule."""

from __future__ import annotations

GTIN_LENGTHS = (8, 12, 13, 14)


def check_digit(body: str) -> int:
    """The check digit for `body` (a GTIN without its last digit).

    From the right, digits are weighted 3, 1, 3, 1, …; the check digit tops the sum up to
    a multiple of ten.
    """
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_gtin(value: str) -> bool:
    return (
        value.isascii()
        and value.isdigit()
        and len(value) in GTIN_LENGTHS
        and check_digit(value[:-1]) == int(value[-1])
    )


def complete_gtin(body: str) -> str:
    """`body` with its check digit appended."""
    if not (body.isascii() and body.isdigit()) or len(body) + 1 not in GTIN_LENGTHS:
        raise ValueError(f"a GTIN body has 7, 11, 12 or 13 digits, got {body!r}")
    return body + str(check_digit(body))
