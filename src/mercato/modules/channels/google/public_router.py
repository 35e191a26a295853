"""The callback Google sends the browser back to after consent: public, since Google
redirects a browser to it without a staff credential."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from mercato.kernel.deps import DbSession, Meta
from mercato.modules.channels.google import oauth
from mercato.modules.channels.google.schemas import OAuthLinked
from mercato.settings import get_settings

router = APIRouter(tags=["channels"])


@router.get(
    oauth.CALLBACK_PATH,
    response_model=OAuthLinked,
    responses={303: {"description": "Back to the dashboard page that started the link"}},
)
async def google_oauth_callback(
    request: Request,
    session: DbSession,
    meta: Meta,
    state: Annotated[str, Query(max_length=200)],
    code: Annotated[str | None, Query(max_length=2000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Where Google sends the browser after consent; stores the tokens (sealed).

    Only the browser that started the link (its `mercato_google_link` cookie) completes it.
    """
    linked = await oauth.complete_link(
        session,
        state=state,
        code=code,
        error=error,
        browser=request.cookies.get(oauth.BROWSER_COOKIE),
        meta=meta,
    )
    response: Response
    if linked.return_to:
        base = get_settings().public_url.rstrip("/")
        response = RedirectResponse(f"{base}{linked.return_to}?google=linked", status_code=303)
    else:
        answer = OAuthLinked(
            status="linked",
            tenant_id=linked.tenant_id,
            google_email=linked.google_email,
            scopes=linked.scopes,
        )
        response = JSONResponse(answer.model_dump(mode="json"))
    oauth.forget_browser(response)
    return response
