"""The header a storefront sends to act as a logged-in shopper."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

CustomerToken = Annotated[
    str | None,
    Header(
        alias="X-Customer-Token",
        max_length=200,
        description="A customer token from `{T}/customers/login` (acts as that shopper)",
    ),
]
