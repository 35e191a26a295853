"""Push the business profile to one Google Business Profile location, never overwriting
what was edited on Google's side.

Per field the row keeps a baseline: the value Google and Mercato last agreed on. A push
first reads the location (`locations.get`), then per field:
- Mercato and Google say the same → the baseline becomes that value;
- Google still holds the baseline (or nothing, before the first sync) → the field is sent;
- otherwise Google was edited: a conflict with both values, and the field is not sent.
Only the sent fields are in the `updateMask` of the one `locations.patch`. The merchant
resolves a conflict by keeping Mercato's value (the next push sends it) or taking
Google's (it is written into the profile). Google is called outside any transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import egress
from mercato.kernel.db import get_database
from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import NotFound, ValidationFailed, field_error
from mercato.kernel.jobs import defer
from mercato.kernel.logging import get_logger
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import record_audit
from mercato.modules.channels.business_profile.importer import (
    HTTP_TIMEOUT_S,
    BusinessProfileApi,
    GbpFailed,
)
from mercato.modules.channels.business_profile.profile_fields import (
    READ_MASK,
    UPDATE_MASKS,
    Value,
    from_google,
    from_profile,
    location_body,
    pruned,
    same,
)
from mercato.modules.channels.business_profile.schemas import ProfileConflict, ProfileSyncRead
from mercato.modules.channels.google import (
    BUSINESS_SCOPE,
    GoogleCredentials,
    GoogleLinkRevoked,
    get_link,
)
from mercato.modules.channels.models import GbpLocation, GbpProfileSync
from mercato.modules.profile import ProfilePatch, get_profile, save_profile, to_read

PUSH_TASK = "channels.push_business_profile"
PUSHED_FIELDS = tuple(UPDATE_MASKS)
CATEGORY_LANGUAGE = "en"
DEFAULT_REGION = "US"
# A queued push older than this is taken as lost (its worker died): an edit queues anew.
QUEUED_FOR_AT_MOST = timedelta(minutes=15)
Reason = Literal["google_changed", "both_changed", "first_sync"]

log = get_logger("mercato.channels.gbp_push")


@dataclass(slots=True)
class PushPlan:
    send: list[str] = field(default_factory=list)
    agreed: dict[str, Value] = field(default_factory=dict)
    conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)


def _empty(value: Value) -> bool:
    if isinstance(value, dict):
        return all(not part for part in value.values())
    return not value


def plan_push(
    ours: dict[str, Value], theirs: dict[str, Value], baseline: dict[str, Value], today: date
) -> PushPlan:
    """Decide per field: agreed, to send, or in conflict (see the module docstring)."""
    plan = PushPlan()
    for name in PUSHED_FIELDS:
        mine, google = ours[name], theirs[name]
        if same(name, mine, google):
            plan.agreed[name] = mine
            continue
        known = name in baseline
        base = pruned(name, baseline.get(name), today)
        if (known and same(name, google, base)) or (not known and _empty(google)):
            plan.send.append(name)
            continue
        reason: Reason = "first_sync"
        if known:
            reason = "google_changed" if same(name, mine, base) else "both_changed"
        plan.conflicts[name] = {"reason": reason, "mercato": mine, "google": google}
    return plan


async def get_sync(session: AsyncSession, tenant_id: uuid.UUID) -> GbpProfileSync | None:
    return await session.get(GbpProfileSync, tenant_id)


async def choose_location(
    session: AsyncSession, principal: TenantPrincipal, gbp_location_id: str, meta: RequestMeta
) -> GbpProfileSync:
    """Push the profile to this imported Business Profile location from now on.

    Another location than before starts over: no baseline, no conflicts.
    """
    tenant_id = principal.tenant_id
    if await session.get(GbpLocation, (tenant_id, gbp_location_id)) is None:
        message = f"No imported Business Profile location {gbp_location_id!r}"
        raise ValidationFailed(
            message, errors=[field_error("gbp_location_id", message, "not_found")]
        )
    sync = await session.get(GbpProfileSync, tenant_id, with_for_update=True)
    before = sync.gbp_location_id if sync else None
    if sync is None:
        sync = GbpProfileSync(tenant_id=tenant_id, baseline={}, conflicts={}, pushed_fields=[])
        session.add(sync)
    if before != gbp_location_id:
        sync.gbp_location_id = gbp_location_id
        sync.baseline, sync.conflicts, sync.status, sync.error = {}, {}, "idle", None
    await session.flush()
    await record_audit(
        session,
        tenant_id=tenant_id,
        actor=principal,
        action="gbp.profile_target_chosen",
        target=f"gbp:{gbp_location_id}",
        changes={"gbp_location_id": {"from": before, "to": gbp_location_id}},
        meta=meta,
    )
    return sync


async def queue_push(
    session: AsyncSession, tenant_id: uuid.UUID, *, delay_s: float | None = None
) -> bool:
    """Queue a push unless one is already waiting (it will read the newest profile), so a
    burst of edits makes one push. False when the profile is pushed nowhere."""
    sync = await session.get(GbpProfileSync, tenant_id, with_for_update=True)
    if sync is None:
        return False
    now = datetime.now(UTC)
    waiting = (
        sync.status == "queued" and sync.queued_at and now - sync.queued_at < QUEUED_FOR_AT_MOST
    )
    if not waiting:
        sync.status, sync.queued_at = "queued", now
        await defer(session, PUSH_TASK, delay_s=delay_s, tenant_id=str(tenant_id))
    return True


async def queue_push_now(session: AsyncSession, principal: TenantPrincipal) -> GbpProfileSync:
    """The merchant's "push now": 404 until a location is chosen, 409 without the link."""
    tenant_id = principal.tenant_id
    sync = await session.get(GbpProfileSync, tenant_id, with_for_update=True)
    if sync is None:
        raise NotFound("Choose the Business Profile location to push to first")
    link = await get_link(session, tenant_id)
    if link is None or link.status != "active" or BUSINESS_SCOPE not in link.scopes:
        raise GoogleLinkRevoked("The Google link does not grant Business Profile")
    sync.status, sync.queued_at = "queued", datetime.now(UTC)
    await defer(session, PUSH_TASK, tenant_id=str(tenant_id))
    await session.flush()
    return sync


@dataclass(frozen=True, slots=True)
class ProfilePushOutcome:
    sent: list[str]
    conflicts: list[str]
    error: str | None


async def _category_ids(
    api: BusinessProfileApi, names: list[str], region: str
) -> tuple[list[str], str | None]:
    ids: list[str] = []
    for name in names:
        found = await api.category_name(name, region, CATEGORY_LANGUAGE)
        if found is None:
            return [], f"categories not pushed: Google has no category {name!r} in {region}"
        ids.append(found)
    return ids, None


async def _exchange(
    tenant_id: uuid.UUID,
    location_id: str,
    ours: dict[str, Value],
    baseline: dict[str, Value],
    region: str | None,
    today: date,
) -> tuple[PushPlan, str | None]:
    """Read the location, decide, and send what may be sent; returns the plan and a
    problem to show (a category Google does not know)."""
    problem = None
    async with egress.http_client(timeout_s=HTTP_TIMEOUT_S) as http:
        api = BusinessProfileApi(http, GoogleCredentials(tenant_id))
        current = await api.location(location_id, READ_MASK)
        plan = plan_push(ours, from_google(current, region, today), baseline, today)
        values = {name: ours[name] for name in plan.send}
        if "categories" in values:
            values["categories"], problem = await _category_ids(
                api, ours["categories"], region or DEFAULT_REGION
            )
            if problem:
                plan.send.remove("categories")
                del values["categories"]
        if plan.send:
            mask = ",".join(UPDATE_MASKS[name] for name in plan.send)
            await api.patch_location(location_id, mask, location_body(values))
    return plan, problem


async def push_profile(
    tenant_id: uuid.UUID, *, today: date | None = None
) -> ProfilePushOutcome | None:
    """Push the profile to its chosen location (the job's body); None when none is chosen.

    A refused link or an error from Google is recorded on the row (our words, not
    Google's) and nothing changes on either side.
    """
    today = today or datetime.now(UTC).date()
    database = get_database()
    async with database.tenant_session(tenant_id) as session:
        sync = await session.get(GbpProfileSync, tenant_id)
        if sync is None:
            return None
        link = await get_link(session, tenant_id)
        profile = to_read(await get_profile(session, tenant_id))
        location_id, baseline = sync.gbp_location_id, dict(sync.baseline)
    ours = from_profile(profile, today)
    try:
        if link is None or link.status != "active" or BUSINESS_SCOPE not in link.scopes:
            raise GoogleLinkRevoked("The Google link does not grant Business Profile")
        plan, problem = await _exchange(
            tenant_id, location_id, ours, baseline, profile.address.country_code, today
        )
    except (GoogleLinkRevoked, GbpFailed) as exc:
        return await _record_failure(tenant_id, location_id, str(exc))
    except httpx.HTTPError as exc:
        log.info("gbp_push_unreachable", tenant_id=str(tenant_id), error=repr(exc))
        message = f"Google Business Profile could not be reached: {egress.public_message(exc)}"
        return await _record_failure(tenant_id, location_id, message)
    now = datetime.now(UTC)
    async with database.tenant_session(tenant_id) as session:
        sync = await session.get(GbpProfileSync, tenant_id, with_for_update=True)
        if sync is None or sync.gbp_location_id != location_id:
            return None  # the target changed meanwhile: its own push follows
        detected = {name: c.get("detected_at") for name, c in sync.conflicts.items()}
        sync.baseline = {
            **sync.baseline,
            **plan.agreed,
            **{name: ours[name] for name in plan.send},
        }
        sync.conflicts = {
            name: {**c, "detected_at": detected.get(name) or now.isoformat()}
            for name, c in plan.conflicts.items()
        }
        sync.status, sync.error, sync.checked_at = "pushed", problem, now
        if plan.send:
            sync.pushed_fields, sync.pushed_at = plan.send, now
    return ProfilePushOutcome(sent=plan.send, conflicts=sorted(plan.conflicts), error=problem)


async def _record_failure(
    tenant_id: uuid.UUID, location_id: str, message: str
) -> ProfilePushOutcome:
    async with get_database().tenant_session(tenant_id) as session:
        sync = await session.get(GbpProfileSync, tenant_id, with_for_update=True)
        if sync is not None and sync.gbp_location_id == location_id:
            sync.status, sync.error, sync.checked_at = "failed", message, datetime.now(UTC)
    return ProfilePushOutcome(sent=[], conflicts=[], error=message)


def _as_patch(name: str, value: Value) -> ProfilePatch:
    """Google's value of one field as a profile PATCH (special hours without labels)."""
    if name == "address":
        value = value or None
    return ProfilePatch.model_validate({name: value})


async def resolve_conflict(
    session: AsyncSession,
    principal: TenantPrincipal,
    name: str,
    keep: Literal["mercato", "google"],
    meta: RequestMeta,
) -> GbpProfileSync:
    """End a conflict: keep Mercato's value (pushed next) or take Google's (saved into the
    profile). 404 when the field is not in conflict."""
    tenant_id = principal.tenant_id
    sync = await session.get(GbpProfileSync, tenant_id, with_for_update=True)
    conflict = (sync.conflicts if sync else {}).get(name)
    if sync is None or conflict is None:
        raise NotFound(f"No conflict on {name!r}")
    google = conflict["google"]
    if keep == "google":
        await save_profile(
            session, tenant_id, principal, _as_patch(name, google), meta, replace=False
        )
    sync.baseline = {**sync.baseline, name: google}
    sync.conflicts = {other: c for other, c in sync.conflicts.items() if other != name}
    await session.flush()
    await record_audit(
        session,
        tenant_id=tenant_id,
        actor=principal,
        action="gbp.profile_conflict_resolved",
        target=f"gbp:{sync.gbp_location_id}",
        changes={name: {"kept": keep}},
        meta=meta,
    )
    if keep == "mercato":
        sync.status, sync.queued_at = "queued", datetime.now(UTC)
        await defer(session, PUSH_TASK, tenant_id=str(tenant_id))
    return sync


def sync_read(sync: GbpProfileSync) -> ProfileSyncRead:
    return ProfileSyncRead(
        gbp_location_id=sync.gbp_location_id,
        status=sync.status,
        pushed_fields=list(sync.pushed_fields or []),
        pushed_at=sync.pushed_at,
        checked_at=sync.checked_at,
        error=sync.error,
        conflicts=[
            ProfileConflict(field=name, **conflict)
            for name, conflict in sorted((sync.conflicts or {}).items())
        ],
    )
