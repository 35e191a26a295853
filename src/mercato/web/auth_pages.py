"""Sign-in pages: login, logout, sign-up, e-mail verification, password reset, session upkeep.

Each page calls the same identity services as `/api/v1/auth/*` (with the same rate
limits), so a dashboard login is an API login: same tokens, same security log.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.errors import DomainError
from mercato.modules import identity
from mercato.settings import get_settings
from mercato.web.csrf import check_csrf
from mercato.web.forms import FormState, attempt, form_status, parse, read_form
from mercato.web.session import (
    ACCESS_COOKIE,
    SIGNED_IN_COOKIE,
    SignInRequired,
    forget_session,
    principal_from_token,
    seconds_left,
    signed_in_principal,
    store_access_token,
    store_session,
)
from mercato.web.templating import render

router = APIRouter(prefix="/app", include_in_schema=False, dependencies=[Depends(check_csrf)])
Limited = Depends(identity.limit_auth_request)


def safe_next(target: str | None) -> str:
    """Only ever redirect inside the dashboard (no open redirects)."""
    if target and target.startswith("/app") and not target.startswith(("//", "/app\\")):
        return target if "\\" not in target else "/app"
    return "/app"


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/login")
async def login_form(request: Request, next: str = "/app") -> HTMLResponse:
    # The access cookie lapsed but a session exists: the page script tries to resume it.
    resume = SIGNED_IN_COOKIE in request.cookies and ACCESS_COOKIE not in request.cookies
    return render(
        request, "auth/login.html", {"form": FormState(), "next": safe_next(next), "resume": resume}
    )


@router.post("/login", dependencies=[Limited])
async def login(request: Request, session: DbSession, meta: Meta) -> Response:
    submitted, form = await read_form(request)
    target = safe_next(submitted.get("next"))

    async def sign_in() -> identity.IssuedTokens:
        body = parse(identity.LoginRequest, submitted)
        await identity.limit_login_attempt(request, body.email)
        user = await identity.login(session, email=body.email, password=body.password, meta=meta)
        return await identity.start_session(session, user)

    issued = await attempt(session, form, sign_in)
    if issued is None:
        context = {"form": form, "next": target, "resume": False}
        return render(request, "auth/login.html", context, status_code=form_status(form))
    response = _see_other(target)
    store_session(response, issued)
    return response


@router.post("/logout")
async def logout(request: Request, session: DbSession, meta: Meta) -> Response:
    """Deny-list the access token and revoke its refresh family, as the API's logout does."""
    try:
        principal = await signed_in_principal(request, session)
    except SignInRequired:
        principal = None
    if principal is not None:
        await identity.logout(session, principal, refresh_token=None, meta=meta)
    response = _see_other("/app/login?signed_out=1")
    forget_session(response)
    return response


@router.get("/signup")
async def signup_form(request: Request) -> HTMLResponse:
    return render(request, "auth/signup.html", {"form": FormState()})


@router.post("/signup", dependencies=[Limited])
async def signup(request: Request, session: DbSession, meta: Meta) -> Response:
    submitted, form = await read_form(request)
    verification_required = get_settings().email_verification_required

    async def create_account() -> identity.IssuedTokens | None:
        body = parse(identity.SignupRequest, submitted)
        user = await identity.signup(
            session, email=body.email, password=body.password, name=body.name, meta=meta
        )
        if verification_required:
            return None
        return await identity.start_session(session, user)

    issued = await attempt(session, form, create_account)
    if form.failed:
        return render(request, "auth/signup.html", {"form": form}, status_code=form_status(form))
    if issued is None:
        return render(request, "auth/check_inbox.html", {"email": form.value("email")})
    response = _see_other("/app")
    store_session(response, issued)
    return response


@router.get("/verify-email")
async def verify_email_form(request: Request, token: str = "") -> HTMLResponse:
    """A button, not an automatic change: mail scanners open links without asking."""
    return render(request, "auth/verify_email.html", {"form": FormState(), "token": token})


@router.post("/verify-email", dependencies=[Limited])
async def verify_email(request: Request, session: DbSession, meta: Meta) -> HTMLResponse:
    submitted, form = await read_form(request)

    async def confirm() -> object:
        body = parse(identity.TokenRequest, submitted)
        return await identity.verify_email(session, token=body.token, meta=meta)

    done = await attempt(session, form, confirm)
    context = {"form": form, "token": form.value("token"), "verified": done is not None}
    return render(request, "auth/verify_email.html", context, status_code=form_status(form))


@router.get("/forgot-password")
async def forgot_password_form(request: Request) -> HTMLResponse:
    return render(request, "auth/forgot_password.html", {"form": FormState(), "sent": False})


@router.post("/forgot-password", dependencies=[Limited])
async def forgot_password(request: Request, session: DbSession, meta: Meta) -> HTMLResponse:
    submitted, form = await read_form(request)

    async def send_link() -> bool:
        body = parse(identity.ForgotPasswordRequest, submitted)
        await identity.forgot_password(session, email=body.email, meta=meta)
        return True

    sent = await attempt(session, form, send_link) is not None
    context = {"form": form, "sent": sent}
    return render(request, "auth/forgot_password.html", context, status_code=form_status(form))


@router.get("/reset-password")
async def reset_password_form(request: Request, token: str = "") -> HTMLResponse:
    context = {"form": FormState(values={"token": token}), "done": False}
    return render(request, "auth/reset_password.html", context)


@router.post("/reset-password", dependencies=[Limited])
async def reset_password(request: Request, session: DbSession, meta: Meta) -> HTMLResponse:
    submitted, form = await read_form(request)

    async def change() -> object:
        body = parse(identity.ResetPasswordRequest, submitted)
        return await identity.reset_password(
            session, token=body.token, password=body.password, meta=meta
        )

    done = await attempt(session, form, change) is not None
    context = {"form": form, "done": done}
    return render(request, "auth/reset_password.html", context, status_code=form_status(form))


async def _invitation_page(
    request: Request,
    session: DbSession,
    form: FormState,
    *,
    accepted: identity.AcceptedInvitation | None = None,
) -> HTMLResponse:
    """The invitation's tenant, role and the fields accepting needs, or why it cannot be."""
    token = form.value("token")
    pending = None
    if accepted is None and token:
        lookup = FormState()
        pending = await attempt(
            session, lookup, lambda: identity.describe_invitation(session, token)
        )
        if pending is None and not form.failed:
            form.message, form.status = lookup.message, lookup.status
    context = {"form": form, "invitation": pending, "accepted": accepted}
    status = form_status(form) if accepted is None and form.failed else 200
    return render(request, "auth/accept_invitation.html", context, status_code=status)


@router.get("/accept-invitation")
async def accept_invitation_form(
    request: Request, session: DbSession, token: str = ""
) -> HTMLResponse:
    """A button, not an automatic change: mail scanners open links without asking."""
    return await _invitation_page(request, session, FormState(values={"token": token}))


@router.post("/accept-invitation", dependencies=[Limited])
async def accept_invitation(request: Request, session: DbSession, meta: Meta) -> HTMLResponse:
    submitted, form = await read_form(request)

    async def accept() -> identity.AcceptedInvitation:
        filled = {k: v for k, v in submitted.items() if k in ("token", "name", "password") and v}
        body = parse(identity.AcceptInvitationRequest, filled)
        return await identity.accept_invitation(
            session, token=body.token, name=body.name, password=body.password, meta=meta
        )

    accepted = await attempt(session, form, accept)
    return await _invitation_page(request, session, form, accepted=accepted)


class AccessTokenHandOver(BaseModel):
    access_token: str = Field(min_length=1, max_length=4000)


@router.get("/session")
async def session_status(request: Request, session: DbSession) -> JSONResponse:
    """Seconds left on the access cookie, 0 without one (the page script refreshes then)."""
    try:
        principal = await signed_in_principal(request, session)
    except SignInRequired:
        return JSONResponse({"expires_in": 0})
    return JSONResponse({"expires_in": seconds_left(principal)})


@router.post("/session/access")
async def adopt_access_token(
    request: Request, body: AccessTokenHandOver, session: DbSession
) -> JSONResponse:
    """Store a freshly refreshed access token in the HttpOnly cookie (CSRF-checked)."""
    try:
        principal = await principal_from_token(request, session, body.access_token)
    except DomainError as refused:
        raise SignInRequired(refused.detail) from refused
    expires_in = seconds_left(principal)
    response = JSONResponse({"expires_in": expires_in})
    store_access_token(response, body.access_token, expires_in)
    return response
