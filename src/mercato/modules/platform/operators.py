"""Platform operators: who they are (`staff_user.is_platform_admin`).

Operator routes live under `/api/v1/platform/…` and declare `principal: Operator`: a staff
user's access token whose account carries the flag, else 403. API keys never qualify:
they belong to one tenant. Identity makes operators (`grant_platform_admin`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from mercato.kernel.errors import Forbidden
from mercato.kernel.security import Principal
from mercato.modules.identity import CurrentUser


class NotPlatformOperator(Forbidden):
    slug, title = "platform-operator-required", "Only platform operators can do this"


async def _operator(principal: CurrentUser) -> Principal:
    if not principal.is_platform_admin:
        raise NotPlatformOperator("This needs a platform operator (mercato create-admin)")
    return principal


Operator = Annotated[Principal, Depends(_operator)]
