"""The API's rate limits, applied to the dashboard's own routes.

A dashboard tenant page spends the same per-user tenant budget as the API call it stands
for (and, for a change, the tenant's write budget), so the dashboard is no way around the
limits. The budgets themselves live in the identity module; this is only the seam.
"""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.security import Principal
from mercato.modules.identity.auth import _limit_tenant_request


async def limit_tenant_page(
    request: Request, response: Response, principal: Principal, session: AsyncSession
) -> None:
    """429 once the user's budget in this tenant is spent (the API's `require` does the same)."""
    await _limit_tenant_request(request, response, principal, session)
