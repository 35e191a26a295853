"""Who is calling: the principal every service receives, and the errors of access control.

The identity module resolves credentials (staff JWTs, API keys) into a `Principal`; other
modules only ever see this object and call `principal.require(permission)`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from mercato.kernel.errors import DomainError, Forbidden
from mercato.kernel.permissions import Permission

STEP_UP_WINDOW = timedelta(minutes=5)


class PrincipalKind(StrEnum):
    user = "user"
    api_key = "api_key"
    customer = "customer"


class PermissionDenied(Forbidden):
    slug, title = "permission-denied", "Your role does not allow this"


class StepUpRequired(DomainError):
    status, slug, title = 401, "step-up-required", "Re-enter your password to continue"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller, scoped to one tenant once a tenant route resolves it."""

    kind: PrincipalKind
    subject_id: uuid.UUID
    permissions: frozenset[str] = field(default_factory=frozenset)
    tenant_id: uuid.UUID | None = None
    role: str | None = None
    auth_time: datetime | None = None
    token_id: str | None = None
    session_id: uuid.UUID | None = None
    token_expires_at: datetime | None = None
    key_kind: str | None = None
    is_platform_admin: bool = False

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.subject_id if self.kind is PrincipalKind.user else None

    @property
    def actor(self) -> str:
        """How audit trails name this caller: `user:<id>` or `api_key:<id>`."""
        return f"{self.kind.value}:{self.subject_id}"

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        if permission not in self.permissions:
            raise PermissionDenied(f"This needs the `{permission}` permission")

    def require_recent_auth(self, max_age: timedelta = STEP_UP_WINDOW) -> None:
        """Sensitive operations need a password entered in the last few minutes (step-up)."""
        if self.kind is not PrincipalKind.user:
            raise PermissionDenied("Only a staff user can do this, after re-entering a password")
        if self.auth_time is None or datetime.now(UTC) - self.auth_time > max_age:
            raise StepUpRequired(
                "This operation needs a recent login: POST /api/v1/auth/step-up with your "
                "password, then retry with the new access token"
            )


@dataclass(frozen=True, kw_only=True)
class TenantPrincipal(Principal):
    """A principal inside one tenant: what every tenant route and tenant service receives.

    Its tenant is not optional, so services never check it (an `assert` would vanish
    under `python -O`); mypy refuses to pass an untenanted `Principal` where one is needed.
    """

    tenant_id: uuid.UUID
