"""`/api/v1/auth/*` and the JWKS: staff sign-up, login, tokens, verification, resets."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request, Response, status
from sqlalchemy import select

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.errors import Forbidden, Unauthorized
from mercato.kernel.security import Principal
from mercato.modules.identity import accounts, auth_events, invitations, oidc, sessions, tokens
from mercato.modules.identity.auth import CurrentUser, limit_auth_request, limit_login_attempt
from mercato.modules.identity.models import Membership, StaffUser, Tenant
from mercato.modules.identity.permissions import Role
from mercato.modules.identity.schemas import (
    AcceptInvitationRequest,
    AccessTokenResponse,
    ForgotPasswordRequest,
    InvitationAccepted,
    LoginRequest,
    MembershipRead,
    OidcCallbackRequest,
    OidcLoginResponse,
    RefreshRequest,
    ResetPasswordRequest,
    SessionResponse,
    SignupRequest,
    SignupResponse,
    StepUpRequest,
    TokenPair,
    TokenRequest,
    UserRead,
)
from mercato.modules.identity.sessions import (
    REFRESH_COOKIE,
    REFRESH_COOKIE_PATH,
    REFRESH_COOKIE_SAMESITE,
)
from mercato.settings import get_settings


class CrossOriginCookie(Forbidden):
    slug, title = "cross-origin-cookie", "The session cookie cannot be used from this origin"


router = APIRouter(prefix="/api/v1/auth", tags=["auth"], dependencies=[Depends(limit_auth_request)])
jwks_router = APIRouter(tags=["auth"])


def _user_read(user: StaffUser) -> UserRead:
    return UserRead(
        id=user.id,
        email=user.email,
        name=user.name,
        email_verified=user.email_verified_at is not None,
    )


def _set_refresh_cookie(response: Response, refresh_token: str) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        refresh_token,
        max_age=int(sessions.REFRESH_TOKEN_TTL.total_seconds()),
        httponly=True,
        secure=get_settings().is_production,
        samesite=REFRESH_COOKIE_SAMESITE,
        path=REFRESH_COOKIE_PATH,
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _refresh_cookie(request: Request) -> str | None:
    """The refresh cookie, if the request may use it: 403 from another origin.

    SameSite keeps other *sites* from sending the cookie, but a page of the same site on
    another origin (a storefront on shop.example.com next to the dashboard on
    app.example.com) sends it all the same. Browsers name the calling page in `Origin` on
    every cross-origin POST: only our own origin and the listed dashboard origins may spend
    the cookie. A request without `Origin` is not a browser's cross-origin call.
    """
    cookie = request.cookies.get(REFRESH_COOKIE)
    origin = request.headers.get("origin")
    if cookie is None or origin is None:
        return cookie
    settings = get_settings()
    own = {_origin(str(request.base_url)), _origin(settings.public_url)}
    if origin in own or origin in settings.cors_credentialed_origins:
        return cookie
    raise CrossOriginCookie(f"The refresh cookie cannot be used from {origin}")


def _token_pair(response: Response, issued: sessions.IssuedTokens) -> TokenPair:
    _set_refresh_cookie(response, issued.refresh_token)
    return TokenPair(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
    )


@router.post("/signup", status_code=status.HTTP_201_CREATED, response_model=SignupResponse)
async def signup(body: SignupRequest, session: DbSession, meta: Meta) -> SignupResponse:
    user = await accounts.signup(
        session, email=body.email, password=body.password, name=body.name, meta=meta
    )
    return SignupResponse(user=_user_read(user))


@router.post("/login", response_model=TokenPair)
async def login(
    body: LoginRequest, request: Request, response: Response, session: DbSession, meta: Meta
) -> TokenPair:
    await limit_login_attempt(request, body.email)
    user = await accounts.login(session, email=body.email, password=body.password, meta=meta)
    return _token_pair(response, await sessions.start_session(session, user))


@router.post("/refresh", response_model=TokenPair)
async def refresh(
    request: Request,
    response: Response,
    session: DbSession,
    meta: Meta,
    body: RefreshRequest | None = None,
) -> TokenPair:
    token = (body.refresh_token if body else None) or _refresh_cookie(request)
    if not token:
        raise Unauthorized("Send refresh_token in the body or the refresh cookie")
    return _token_pair(response, await sessions.refresh(session, refresh_token=token, meta=meta))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    request: Request,
    principal: CurrentUser,
    session: DbSession,
    meta: Meta,
    body: RefreshRequest | None = None,
) -> Response:
    token = (body.refresh_token if body else None) or _refresh_cookie(request)
    await sessions.logout(session, principal, refresh_token=token, meta=meta)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH)
    return response


@router.get("/session", response_model=SessionResponse)
async def current_session(principal: CurrentUser, session: DbSession) -> SessionResponse:
    user = await session.get(StaffUser, principal.user_id)
    assert user is not None
    assert principal.auth_time is not None
    rows = await session.execute(
        select(Membership.tenant_id, Membership.role, Tenant.name, Tenant.slug)
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .where(Membership.user_id == user.id, Tenant.status != "deleted")
        .order_by(Tenant.name)
    )
    return SessionResponse(
        user=_user_read(user),
        memberships=[
            MembershipRead(tenant_id=t, role=Role(r), tenant_name=n, tenant_slug=s)
            for t, r, n, s in rows.all()
        ],
        auth_time=principal.auth_time,
        is_platform_admin=user.is_platform_admin,
    )


@router.post("/step-up", response_model=AccessTokenResponse)
async def step_up(
    body: StepUpRequest, request: Request, principal: CurrentUser, session: DbSession, meta: Meta
) -> AccessTokenResponse:
    """A fresh `auth_time`; attempts spend the address's login budget (no guessing)."""
    user = await session.get(StaffUser, principal.user_id)
    assert user is not None
    await limit_login_attempt(request, user.email)
    await accounts.authenticate_password(
        session, email=user.email, password=body.password, meta=meta
    )
    await auth_events.record_auth_event(session, "step_up", meta=meta, user_id=user.id)
    token, expires_in = await sessions.step_up(principal)
    return AccessTokenResponse(access_token=token, expires_in=expires_in)


@router.post("/verify-email", status_code=status.HTTP_204_NO_CONTENT)
async def verify_email(body: TokenRequest, session: DbSession, meta: Meta) -> Response:
    await accounts.verify_email(session, token=body.token, meta=meta)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/accept-invitation", response_model=InvitationAccepted)
async def accept_invitation(
    body: AcceptInvitationRequest, session: DbSession, meta: Meta
) -> InvitationAccepted:
    """Join the tenant a mailed invitation names; the token proves the mailbox.

    `name` and `password` create the account when the address has none; `password` alone
    reclaims an unverified account (its other sessions are revoked). Then log in.
    """
    accepted = await invitations.accept_invitation(
        session, token=body.token, name=body.name, password=body.password, meta=meta
    )
    return InvitationAccepted(
        tenant_id=accepted.tenant_id, role=Role(accepted.role), user=_user_read(accepted.user)
    )


@router.post("/forgot-password", status_code=status.HTTP_202_ACCEPTED)
async def forgot_password(
    body: ForgotPasswordRequest, session: DbSession, meta: Meta
) -> dict[str, str]:
    await accounts.forgot_password(session, email=body.email, meta=meta)
    return {"status": "If the address has an account, a reset link is on its way."}


@router.post("/reset-password", status_code=status.HTTP_204_NO_CONTENT)
async def reset_password(body: ResetPasswordRequest, session: DbSession, meta: Meta) -> Response:
    await accounts.reset_password(session, token=body.token, password=body.password, meta=meta)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/oidc/login", response_model=OidcLoginResponse)
async def oidc_login() -> OidcLoginResponse:
    return OidcLoginResponse(authorization_url=await oidc.authorization_url())


@router.post("/oidc/callback", response_model=TokenPair)
async def oidc_callback(
    body: OidcCallbackRequest, response: Response, session: DbSession, meta: Meta
) -> TokenPair:
    user = await oidc.complete_login(session, code=body.code, state=body.state, meta=meta)
    return _token_pair(response, await sessions.start_session(session, user))


@jwks_router.get("/.well-known/jwks.json", summary="Public keys that verify access tokens")
async def jwks() -> dict[str, list[dict[str, object]]]:
    return await tokens.jwks()


__all__ = ["Principal", "jwks_router", "router"]
