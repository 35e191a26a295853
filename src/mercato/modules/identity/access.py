"""What an API process remembers about who may enter which tenant.

A tenant request needs the tenant's status and, for staff, that the account exists, its
role in the tenant and that its session was not logged out; for an API key, the key's
row. Reading them from PostgreSQL on every request costs more round trips than a
recommendation served from Redis makes in all, so each process keeps them in memory and
PostgreSQL tells every process when one changes: triggers on `tenant`, `membership`,
`api_key`, `staff_user` and `refresh_token` notify the channel `mercato_access` at commit,
whoever wrote the change (the API, a job, another machine, an operator's psql). On a Citus
cluster the triggers of the distributed `membership` and `api_key` run on workers, where
nobody listens, so this module notifies their changes itself on the coordinator: there, an
operator's direct SQL on those two tables is seen only when entries expire. Payloads:

    t:<tenant id>   the tenant, one of its memberships or one of its API keys changed
    u:<user id>     a staff account changed or was deleted
    s:<family id>   a staff session (refresh family) was revoked: logout, password reset

Memory is trusted only while notifications flow (`listen.is_live()`): while they do not,
every request reads PostgreSQL, because the notification that would have corrected an
entry may be the one that was lost. Entries also expire after `ENTRY_TTL_S`, and a load
that raced a change of what it read is not stored (`unchanged_since`). Changes made by
this process are applied to its own memory when their transaction commits, without waiting for the
notification to come back.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import psycopg
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, object_session

from mercato.kernel import listen
from mercato.kernel.db import after_commit, set_local
from mercato.modules.identity.models import ApiKey, Membership, StaffUser, Tenant
from mercato.modules.identity.tokens import ACCESS_TOKEN_TTL, CLOCK_LEEWAY_S

CHANNEL = "mercato_access"
NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', :payload)")
ENTRY_TTL_S = 60.0
MAX_ENTRIES = 20_000
# An access token outlives its session's revocation by at most its own lifetime.
REVOKED_SESSION_TTL_S = ACCESS_TOKEN_TTL.total_seconds() + CLOCK_LEEWAY_S + 60


@dataclass(frozen=True, slots=True)
class TenantRecord:
    """A tenant as every request may read it (`settings` must not be mutated)."""

    id: uuid.UUID
    name: str
    slug: str
    status: str
    settings: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    id: str
    tenant_id: str
    kind: str
    permission: str
    allowed_origins: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StaffAccess:
    """A staff account as seen from one tenant (`account_exists` False: deleted)."""

    account_exists: bool
    is_platform_admin: bool
    role: str | None


K = TypeVar("K")
V = TypeVar("V")


class _Expiring(Generic[K, V]):
    """A bounded map whose entries expire; the oldest insertions go first when full."""

    def __init__(self) -> None:
        self.entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> tuple[bool, V | None]:
        entry = self.entries.get(key)
        if entry is None:
            return False, None
        if entry[0] <= time.monotonic():
            self.entries.pop(key, None)
            return False, None
        return True, entry[1]

    def put(self, key: K, value: V, ttl_s: float = ENTRY_TTL_S) -> None:
        if len(self.entries) >= MAX_ENTRIES:
            for oldest in list(self.entries)[: MAX_ENTRIES // 10]:
                del self.entries[oldest]
        self.entries[key] = (time.monotonic() + ttl_s, value)


class AccessMemory:
    def __init__(self) -> None:
        self.tenants: _Expiring[uuid.UUID, TenantRecord | None] = _Expiring()
        self.keys: _Expiring[bytes, ResolvedKey | None] = _Expiring()
        self.staff: _Expiring[tuple[uuid.UUID, uuid.UUID], StaffAccess] = _Expiring()
        self.revoked_sessions: _Expiring[uuid.UUID, bool] = _Expiring()
        # Per tenant: the origins listed on its live publishable keys (`origins`).
        self.browser_origins: _Expiring[uuid.UUID, frozenset[str]] = _Expiring()
        # Change numbers of the subjects (tenants, users) whose entries notifications drop.
        self.clock = listen.ChangeClock(MAX_ENTRIES)

    @property
    def seq(self) -> int:
        """The change number a load notes before it reads PostgreSQL."""
        return self.clock.seq

    def unchanged_since(self, start: int, *subjects: uuid.UUID) -> bool:
        """Whether nothing about `subjects` changed since change number `start`."""
        return self.usable() and self.clock.unchanged_since(start, *subjects)

    def usable(self) -> bool:
        return listen.is_live()

    # --- invalidation -------------------------------------------------------------------
    def apply(self, payload: str) -> None:
        """One notification (or a change this process just committed)."""
        kind, _, raw = payload.partition(":")
        subject = uuid.UUID(raw)
        self.clock.changed(subject)
        if kind == "t":
            self.tenants.entries.pop(subject, None)
            self.browser_origins.entries.pop(subject, None)
            tenant = str(subject)
            self.keys.entries = {
                h: e
                for h, e in self.keys.entries.items()
                if e[1] is None or e[1].tenant_id != tenant
            }
            self.staff.entries = {k: e for k, e in self.staff.entries.items() if k[0] != subject}
        elif kind == "u":
            self.staff.entries = {k: e for k, e in self.staff.entries.items() if k[1] != subject}
        elif kind == "s":
            self.revoked_sessions.put(subject, True, REVOKED_SESSION_TTL_S)
        else:
            raise ValueError(f"unknown access notification {payload!r}")

    def reset(self) -> None:
        """Forget everything built on notifications (the listener lost its connection)."""
        self.clock.reset()
        self.tenants.entries.clear()
        self.keys.entries.clear()
        self.staff.entries.clear()
        self.revoked_sessions.entries.clear()
        self.browser_origins.entries.clear()

    async def load_revoked_sessions(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Sessions revoked recently enough that their access tokens may still be alive."""
        cursor = await conn.execute(
            "SELECT DISTINCT family_id FROM refresh_token "
            "WHERE revoked_at > now() - make_interval(secs => %s)",
            (REVOKED_SESSION_TTL_S,),
        )
        for (family_id,) in await cursor.fetchall():
            self.revoked_sessions.put(family_id, True, REVOKED_SESSION_TTL_S)


memory = AccessMemory()
listen.subscribe(
    listen.Subscription(
        channel=CHANNEL,
        on_message=memory.apply,
        on_reset=memory.reset,
        on_ready=memory.load_revoked_sessions,
    )
)


# --- reads: memory first, PostgreSQL when memory cannot answer ------------------------------
TENANT_COLUMNS = (
    Tenant.id,
    Tenant.name,
    Tenant.slug,
    Tenant.status,
    Tenant.settings,
    Tenant.created_at,
)


def _tenant(row: Any) -> TenantRecord | None:
    if row is None or row.status is None:
        return None
    return TenantRecord(row.id, row.name, row.slug, row.status, row.settings or {}, row.created_at)


async def tenant_record(session: AsyncSession, tenant_id: uuid.UUID) -> TenantRecord | None:
    """The tenant (deleted ones included, with their status), or None when none has the id."""
    if memory.usable():
        found, remembered = memory.tenants.get(tenant_id)
        if found:
            return remembered
    start = memory.seq
    row = (await session.execute(select(*TENANT_COLUMNS).where(Tenant.id == tenant_id))).first()
    record = _tenant(row)
    if memory.unchanged_since(start, tenant_id):
        memory.tenants.put(tenant_id, record)
    return record


async def resolve_key(
    session: AsyncSession, key_hash: bytes
) -> tuple[ResolvedKey, TenantRecord | None] | None:
    """The live key with this hash and its tenant, or None (unknown or revoked)."""
    if memory.usable():
        found, resolved = memory.keys.get(key_hash)
        if found:
            if resolved is None:
                return None
            return resolved, await tenant_record(session, uuid.UUID(resolved.tenant_id))
    start = memory.seq
    # The api_key policy lets a transaction that holds the key's hash see its row (a
    # statement of its own: policies are checked before a select list is evaluated).
    await set_local(session, "app.api_key_hash", key_hash.hex())
    row = (
        await session.execute(
            select(
                ApiKey.id.label("key_id"),
                ApiKey.tenant_id,
                ApiKey.kind,
                ApiKey.permission,
                ApiKey.allowed_origins,
                *TENANT_COLUMNS,
            )
            .join(Tenant, Tenant.id == ApiKey.tenant_id)
            .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
        )
    ).first()
    resolved = None
    tenant = None
    if row is not None:
        resolved = ResolvedKey(
            id=str(row.key_id),
            tenant_id=str(row.tenant_id),
            kind=row.kind,
            permission=row.permission,
            allowed_origins=tuple(row.allowed_origins or ()),
        )
        tenant = _tenant(row)
    if resolved is None:
        if memory.unchanged_since(start):
            memory.keys.put(key_hash, None)
    elif tenant is not None and memory.unchanged_since(start, tenant.id):
        memory.keys.put(key_hash, resolved)
        memory.tenants.put(tenant.id, tenant)
    return None if resolved is None else (resolved, tenant)


async def staff_access(
    session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[StaffAccess, TenantRecord | None]:
    """The account, its role in the tenant, and the tenant."""
    if memory.usable():
        found, remembered = memory.staff.get((tenant_id, user_id))
        if found and remembered is not None:
            return remembered, await tenant_record(session, tenant_id)
    start = memory.seq
    row = (
        await session.execute(
            select(StaffUser.is_platform_admin, Membership.role, *TENANT_COLUMNS)
            .select_from(StaffUser)
            .outerjoin(Tenant, Tenant.id == tenant_id)
            .outerjoin(
                Membership,
                (Membership.tenant_id == tenant_id) & (Membership.user_id == StaffUser.id),
            )
            .where(StaffUser.id == user_id)
        )
    ).first()
    if row is None:
        return StaffAccess(False, False, None), None
    access = StaffAccess(True, bool(row.is_platform_admin), row.role)
    tenant = _tenant(row)
    if memory.unchanged_since(start, tenant_id, user_id):
        memory.staff.put((tenant_id, user_id), access)
        memory.tenants.put(tenant_id, tenant)
    return access, tenant


async def session_revoked(session: AsyncSession, family_id: uuid.UUID) -> bool:
    """Whether the staff session was logged out (or revoked by a password reset)."""
    if memory.usable():
        found, _ = memory.revoked_sessions.get(family_id)
        return found
    live = await session.scalar(
        text(
            "SELECT EXISTS (SELECT 1 FROM refresh_token WHERE family_id = :family "
            "AND revoked_at IS NULL AND expires_at > now())"
        ),
        {"family": family_id},
    )
    return not live


# --- changes made here: applied to this process's memory at commit --------------------------
def _on_commit(session: Session, payload: str) -> None:
    async def apply() -> None:
        memory.apply(payload)

    after_commit(session, apply)


def sessions_revoked(session: AsyncSession, family_ids: list[uuid.UUID]) -> None:
    """Staff sessions this transaction revokes (bulk updates the ORM does not see)."""
    for family_id in family_ids:
        _on_commit(session.sync_session, f"s:{family_id}")


def _tenant_of(target: Tenant | Membership | ApiKey) -> uuid.UUID:
    return target.id if isinstance(target, Tenant) else target.tenant_id


def _tenant_added(_mapper: Any, _connection: Any, target: Tenant | Membership | ApiKey) -> None:
    """A new row: this process forgets what it knew; others learn nothing (as the triggers,
    which notify updates and deletes only, so a busy tenant's caches stay warm elsewhere)."""
    session = object_session(target)
    if session is not None:
        _on_commit(session, f"t:{_tenant_of(target)}")


def _tenant_changed(_mapper: Any, connection: Any, target: Tenant | Membership | ApiKey) -> None:
    session = object_session(target)
    if session is not None:
        tenant = _tenant_of(target)
        if not isinstance(target, Tenant):
            # On Citus these tables' triggers run on the workers, where no process listens
            # (migration 0170_citus_triggers): the writer notifies on the coordinator. On
            # plain PostgreSQL the trigger's identical notification is folded into this one.
            connection.execute(NOTIFY, {"payload": f"t:{tenant}"})
        _on_commit(session, f"t:{tenant}")


def _account_changed(_mapper: Any, _connection: Any, target: StaffUser) -> None:
    session = object_session(target)
    if session is not None:
        _on_commit(session, f"u:{target.id}")


for _model in (Tenant, Membership, ApiKey):
    event.listen(_model, "after_insert", _tenant_added)
    for _change in ("after_update", "after_delete"):
        event.listen(_model, _change, _tenant_changed)
for _change in ("after_update", "after_delete"):
    event.listen(StaffUser, _change, _account_changed)
