"""What every signed-in page receives: who is asking, in which tenant, and how to answer.

Screen routes declare

    page: Annotated[Page, tenant_page("api_keys:read")]

which reads the access cookie (as the API reads a bearer token), enters the tenant in
the path exactly as API routes do (404 for a tenant the user is not in, `SET LOCAL
app.tenant_id`, the role's permissions) and checks the permission (403). `page.render`
then fills the layout: tenant switcher, role-aware navigation, CSRF token, theme.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.deps import DbSession, Meta, RequestMeta
from mercato.kernel.errors import DomainError, NotFound
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal, TenantPrincipal
from mercato.modules import identity
from mercato.web.csrf import check_csrf
from mercato.web.forms import STEP_UP_FIELD, FormState, attempt
from mercato.web.registry import get_registry
from mercato.web.session import (
    principal_from_token,
    remember_tenant,
    seconds_left,
    signed_in_principal,
    store_access_token,
)
from mercato.web.templating import is_htmx, render

T = TypeVar("T")
R = TypeVar("R", bound=Response)


def screen_router() -> APIRouter:
    """The router a screen module declares: tenant pages under `/app/t/{tenant_id}`."""
    return APIRouter(
        prefix="/app/t/{tenant_id}", include_in_schema=False, dependencies=[Depends(check_csrf)]
    )


@dataclass
class Page:
    """A signed-in request of the dashboard, optionally inside one tenant."""

    request: Request
    session: AsyncSession
    meta: RequestMeta
    principal: Principal
    user: identity.UserRead
    memberships: list[identity.TenantRead]
    tenant: identity.TenantFacts | None = None
    _on_response: list[Callable[[Response], None]] = field(default_factory=list)

    @property
    def tenant_id(self) -> uuid.UUID:
        assert self.tenant is not None, "only tenant pages have a tenant"
        return self.tenant.id

    @property
    def role(self) -> str | None:
        return self.principal.role

    def can(self, permission: Permission) -> bool:
        return self.tenant is not None and self.principal.can(permission)

    def url(self, path: str = "") -> str:
        """A link inside the current tenant: `page.url("settings/api-keys")`."""
        return f"/app/t/{self.tenant_id}/{path}".rstrip("/")

    def on_response(self, callback: Callable[[Response], None]) -> None:
        self._on_response.append(callback)

    async def step_up(self, password: str) -> None:
        """Re-check the password and continue this request with a fresh `auth_time`.

        The new access token replaces the cookie, as `POST /api/v1/auth/step-up` would.
        Attempts spend the login budget of the address (ten a minute per client): a
        borrowed session must not become a way to guess the password.
        """
        await identity.limit_login_attempt(self.request, self.user.email)
        await identity.authenticate_password(
            self.session, email=self.user.email, password=password, meta=self.meta
        )
        await identity.record_auth_event(
            self.session, "step_up", meta=self.meta, user_id=self.user.id
        )
        token, expires_in = await identity.step_up(self.principal)
        fresh = await principal_from_token(self.request, self.session, token)
        self.principal = dataclasses.replace(
            self.principal,
            auth_time=fresh.auth_time,
            token_id=fresh.token_id,
            token_expires_at=fresh.token_expires_at,
        )
        self.on_response(lambda response: store_access_token(response, token, expires_in))

    async def act(
        self, form: FormState, submitted: dict[str, str], action: Callable[[], Awaitable[T]]
    ) -> T | None:
        """Run a change (see `forms.attempt`), re-authenticating first if asked to.

        A submitted step-up password is checked before the action; a wrong one is shown
        by the password field and the action does not run.
        """
        password = submitted.get(STEP_UP_FIELD)
        if password:
            try:
                await self.step_up(password)
            except DomainError as refused:
                form.step_up = True
                form.errors[STEP_UP_FIELD] = (
                    "That password is not right" if refused.status == 401 else refused.detail
                )
                return None

        return await attempt(self.session, form, action)

    def render(
        self,
        template: str,
        *,
        fragment: str | None = None,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        """The full page, or only `fragment` when htmx asked for a partial update."""
        registry = get_registry()
        chosen = fragment if fragment and is_htmx(self.request) else template
        shell: dict[str, Any] = {
            "page": self,
            "user": self.user,
            "tenant": self.tenant,
            "memberships": self.memberships,
            "nav": (
                registry.navigation(self.member, self.request.url.path)
                if self.tenant is not None
                else []
            ),
            "session_seconds_left": seconds_left(self.principal),
        }
        response = render(self.request, chosen, {**shell, **context}, status_code=status_code)
        return self.finish(response)

    @property
    def member(self) -> TenantPrincipal:
        """The principal inside this page's tenant: what a tenant screen passes to services."""
        if not isinstance(self.principal, TenantPrincipal):
            raise NotFound("No such tenant")  # a tenant screen always entered its tenant
        return self.principal

    def finish(self, response: R) -> R:
        """Give a response what this request owes the browser (a stepped-up access cookie,
        the remembered tenant); `render` does it, redirects call it themselves."""
        for callback in self._on_response:
            callback(response)
        return response


async def _user_page(request: Request, session: DbSession, meta: Meta) -> Page:
    principal = await signed_in_principal(request, session)
    user = await identity.staff_account(session, principal)
    assert user is not None  # authenticate() refuses tokens of deleted accounts
    memberships = await identity.my_tenants(session, principal)
    return Page(request, session, meta, principal, user, memberships)


SignedInPage = Annotated[Page, Depends(_user_page)]
"""A signed-in page outside any tenant (tenant creation, the tenant chooser)."""


def tenant_page(permission: Permission) -> Any:
    """Dependency for screens of one tenant that need `permission` to open."""

    async def tenant_scoped(
        tenant_id: uuid.UUID, page: Annotated[Page, Depends(_user_page)]
    ) -> Page:
        page.principal = await identity.enter_tenant(page.session, page.principal, tenant_id)
        # The same per-user tenant budget (and tenant write budget) as the API's calls.
        await identity.limit_tenant_request(page.request, page.principal)
        page.tenant = await identity.tenant_facts(page.session, tenant_id)
        page.principal.require(permission)
        page.on_response(lambda response: remember_tenant(response, tenant_id))
        return page

    tenant_scoped.permission = permission  # type: ignore[attr-defined]  # read by tests
    return Depends(tenant_scoped)
