"""`{T}/google/oauth…`: the tenant's Google link (OAuth): start it, read it, unlink it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.channels.google import oauth
from mercato.modules.channels.google.schemas import GoogleLinkRead, OAuthLinkBody, OAuthLinkStarted
from mercato.modules.identity import require

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/google", tags=["google"])
IntegrationsReader = Annotated[TenantPrincipal, require(Permission.INTEGRATIONS_READ)]
IntegrationsWriter = Annotated[TenantPrincipal, require(Permission.INTEGRATIONS_WRITE)]


def _tenant(principal: TenantPrincipal) -> uuid.UUID:
    return principal.tenant_id


@router.post("/oauth/link", response_model=OAuthLinkStarted)
async def start_google_link(
    principal: IntegrationsWriter, response: Response, body: OAuthLinkBody | None = None
) -> OAuthLinkStarted:
    """The Google consent URL to send the browser to (step-up; valid ten minutes, single use).

    The response sets an HttpOnly cookie that the callback requires: open the URL in the
    browser that made this call.
    """
    started = await oauth.start_link(principal, body.return_to if body else None)
    oauth.remember_browser(response, started.browser_binding)
    return OAuthLinkStarted(
        authorization_url=started.authorization_url, expires_in=oauth.STATE_TTL_S
    )


@router.get("/oauth", response_model=GoogleLinkRead)
async def get_google_link(principal: IntegrationsReader, session: DbSession) -> GoogleLinkRead:
    link = await oauth.get_link(session, _tenant(principal))
    if link is None:
        return GoogleLinkRead(linked=False)
    return GoogleLinkRead(
        linked=link.status == "active",
        status=link.status,
        google_email=link.google_email,
        scopes=list(link.scopes),
        linked_by=link.linked_by,
        linked_at=link.linked_at,
        access_token_expires_at=link.access_token_expires_at,
        last_error=link.last_error,
    )


@router.delete("/oauth", status_code=status.HTTP_204_NO_CONTENT)
async def unlink_google(principal: IntegrationsWriter, session: DbSession, meta: Meta) -> Response:
    """Revoke Mercato's access at Google and forget the tokens."""
    await oauth.unlink(session, principal, meta)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
