"""Marketing → Google channels: feed precheck, push jobs (cancel, retry), Merchant Center
item statuses with the fix per issue and local inventory per store, the hosted feed's
addresses (copy, rotate), the Google link, Business Profile insights; and the business
profile form with its validation (what `GET {T}/profile/validation` reports)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mercato.kernel.errors import ValidationFailed
from mercato.kernel.permissions import Permission
from mercato.modules import channels
from mercato.modules import profile as profiles
from mercato.modules.channels import (
    ConflictResolution,
    FeedJobRead,
    FeedJobStatusBody,
    ProfileTarget,
)
from mercato.modules.profile import ProfilePatch, ProfileRead
from mercato.web.charts import line_chart
from mercato.web.forms import FormState, form_status, parse, read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import Screen, Section

router = screen_router()
PATH = "channels"
PROFILE = "business-profile"
INSIGHT_DAYS = 28
JOBS_SHOWN = 20
ITEMS_SHOWN = 100
ITEM_STATUSES = ("approved", "pending", "disapproved")

SCREENS = [
    Screen(
        "marketing.channels",
        "Google channels",
        PATH,
        Permission.CHANNELS_READ,
        Section.marketing,
        30,
    ),
    Screen(
        "marketing.profile",
        "Business profile",
        PROFILE,
        Permission.PROFILE_READ,
        Section.marketing,
        35,
    ),
]

Reader = Annotated[Page, tenant_page(Permission.CHANNELS_READ)]
Writer = Annotated[Page, tenant_page(Permission.CHANNELS_WRITE)]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


async def _google_link(page: Page) -> Any:
    if not page.can(Permission.INTEGRATIONS_READ):
        return None
    return await channels.google_link(page.session, page.tenant_id)


async def _insights(page: Page) -> Any:
    """Daily Business Profile views and searches over the last four weeks, all locations."""
    end = datetime.now(UTC).date()
    start = end - timedelta(days=INSIGHT_DAYS - 1)
    rows = await channels.business_profile_insights(
        page.session, page.tenant_id, start=start, end=end, location_code=None
    )
    views: dict[str, float] = {}
    for row in rows:
        label = row.day.strftime("%m-%d")
        views[label] = views.get(label, 0) + row.views + row.searches
    return line_chart(list(views.items()), title="Business Profile views and searches per day")


async def _render(
    page: Page,
    *,
    precheck: Any = None,
    problem: FormState | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    feed = await channels.hosted_feed(page.session, page.tenant_id)
    xml_url, tsv_url = channels.feed_urls(feed)
    jobs, _ = await channels.list_feed_jobs(
        page.session, limit=JOBS_SHOWN, cursor=None, status=None
    )
    issues_by_product: dict[str, list[Any]] = {}
    if precheck is not None:
        for issue in sorted(
            precheck.issues, key=lambda i: (i.product_id, SEVERITY_ORDER.get(i.severity, 3))
        ):
            issues_by_product.setdefault(issue.product_id, []).append(issue)
    return page.render(
        "screens/channels.html",
        fragment="screens/_channels.html",
        status_code=status_code,
        item_counts=await channels.feed_item_counts(page.session, page.tenant_id),
        local_counts=await channels.local_inventory_counts(page.session, page.tenant_id),
        feed=feed,
        xml_url=xml_url,
        tsv_url=tsv_url,
        jobs=[FeedJobRead.model_validate(job) for job in jobs],
        link=await _google_link(page),
        insights=await _insights(page),
        precheck=precheck,
        issues_by_product=issues_by_product,
        problem=problem or FormState(),
        notice=notice,
    )


@router.get("/" + PATH)
async def channels_screen(page: Reader) -> HTMLResponse:
    return await _render(page)


@router.get("/" + PATH + "/items")
async def items_screen(
    page: Reader, status: str | None = None, cursor: str | None = None
) -> HTMLResponse:
    """Products in Merchant Center with Google's status, issues and the fix for each known
    issue code, as `GET {T}/feed/items` lists them."""
    wanted = status if status in ITEM_STATUSES else None
    rows, next_cursor = await channels.list_feed_items(
        page.session,
        page.tenant_id,
        status=wanted,
        account_id=None,
        limit=ITEMS_SHOWN,
        cursor=cursor,
    )
    return page.render(
        "screens/channel_items.html",
        fragment="screens/_channel_items.html",
        items=[channels.feed_item_read(row) for row in rows],
        counts=await channels.feed_item_counts(page.session, page.tenant_id),
        status=wanted,
        next_cursor=next_cursor,
    )


@router.post("/" + PATH + "/precheck")
async def run_precheck(page: Reader) -> HTMLResponse:
    """Check every product against the Merchant Center data spec, as `POST {T}/feed/precheck`."""
    result = await channels.precheck_products(page.session, page.tenant_id, None)
    return await _render(page, precheck=result)


async def _action(page: Page, action: Any) -> HTMLResponse:
    submitted, form = await read_form(page.request)
    notice = await page.act(form, submitted, action)
    if notice is None:
        return await _render(page, problem=form, status_code=form_status(form))
    return await _render(page, notice=notice)


@router.post("/" + PATH + "/push")
async def push_feed(page: Writer) -> HTMLResponse:
    async def push() -> str:
        job = await channels.queue_push(
            page.session,
            page.tenant_id,
            account_id=None,
            requested_by=page.member.actor,
            trigger="manual",
        )
        return f"A push to Merchant Center is queued (job {str(job.id)[:8]})."

    return await _action(page, push)


@router.post("/" + PATH + "/jobs/{job_id}/status")
async def set_job_status(
    job_id: uuid.UUID, page: Annotated[Page, tenant_page(Permission.CHANNELS_MANAGE)]
) -> HTMLResponse:
    """`failed` cancels a queued or running job, `queued` retries a failed one."""
    wanted = (await page.request.form()).get("status")

    async def change() -> str:
        body = parse(FeedJobStatusBody, {"status": wanted})
        await channels.set_feed_job_status(
            page.session, page.member, job_id, body.status, page.meta
        )
        return "The job is queued again." if body.status == "queued" else "The job is cancelled."

    return await _action(page, change)


@router.post("/" + PATH + "/feed/rotate")
async def rotate_feed(page: Writer) -> HTMLResponse:
    async def rotate() -> str:
        await channels.rotate_feed_token(page.session, page.member, page.meta)
        return "The feed has new addresses; the old ones answer 404 from now on."

    return await _action(page, rotate)


@router.post("/" + PATH + "/google/link", response_model=None)
async def link_google(
    page: Annotated[Page, tenant_page(Permission.INTEGRATIONS_WRITE)],
) -> Response:
    """Send the browser to Google's consent screen; it comes back to this page."""
    submitted, form = await read_form(page.request)
    started = await page.act(
        form, submitted, lambda: channels.start_link(page.member, page.url(PATH))
    )
    if started is None:
        return await _render(page, problem=form, status_code=form_status(form))
    url = started.authorization_url
    response: Response
    if page.request.headers.get("hx-request") == "true":
        response = Response(status_code=204, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    channels.remember_browser(response, started.browser_binding)
    return page.finish(response)


@router.post("/" + PATH + "/google/unlink")
async def unlink_google(
    page: Annotated[Page, tenant_page(Permission.INTEGRATIONS_WRITE)],
) -> HTMLResponse:
    async def unlink() -> str:
        await channels.unlink_google(page.session, page.member, page.meta)
        return "The Google account is unlinked; Mercato's access is revoked."

    return await _action(page, unlink)


# Business profile -------------------------------------------------------------------------

TEXT_FIELDS = (
    "name",
    "business_type",
    "description",
    "phone",
    "email",
    "website",
    "seo_title",
    "seo_description",
    "price_range",
)
ADDRESS_FIELDS = ("street_address", "locality", "region", "postal_code", "country_code")


def _profile_values(profile: ProfileRead) -> dict[str, str]:
    values = {name: getattr(profile, name) or "" for name in TEXT_FIELDS}
    values.update({name: getattr(profile.address, name) or "" for name in ADDRESS_FIELDS})
    values["categories"] = ", ".join(profile.categories)
    return values


def _profile_body(submitted: Mapping[str, str]) -> dict[str, Any]:
    """The form as a `ProfilePatch`: the fields it shows, an emptied one cleared."""
    body: dict[str, Any] = {name: submitted.get(name, "").strip() or None for name in TEXT_FIELDS}
    address = {name: submitted.get(name, "").strip() or None for name in ADDRESS_FIELDS}
    body["address"] = address
    categories = [part.strip() for part in submitted.get("categories", "").split(",")]
    body["categories"] = [category for category in categories if category]
    return body


def _field_name(path: str) -> str:
    """`address.postal_code` is the form's `postal_code`; other paths keep their first part."""
    parts = path.split(".")
    if parts[0] == "address" and len(parts) > 1:
        return parts[1]
    return parts[0]


async def _render_profile(
    page: Page,
    *,
    form: FormState | None = None,
    notice: str | None = None,
    push_problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    current = profiles.to_read(await profiles.get_profile(page.session, page.tenant_id))
    validation = profiles.validate_profile(current, today=datetime.now(UTC).date())
    if form is None:
        form = FormState(values=_profile_values(current))
    by_field: dict[str, list[Any]] = {}
    for problem in validation.problems:
        by_field.setdefault(_field_name(problem.field), []).append(problem)
    push_state = await channels.profile_push_state(page.session, page.tenant_id)
    return page.render(
        "screens/profile.html",
        fragment="screens/_profile.html",
        status_code=status_code,
        form=form,
        profile=current,
        push=channels.profile_push_read(push_state) if push_state else None,
        gbp_locations=await channels.list_gbp_locations(page.session),
        push_problem=push_problem,
        validation=validation,
        by_field=by_field,
        notice=notice,
    )


@router.get("/" + PROFILE)
async def profile_screen(
    page: Annotated[Page, tenant_page(Permission.PROFILE_READ)],
) -> HTMLResponse:
    return await _render_profile(page)


@router.post("/" + PROFILE)
async def save_profile(
    page: Annotated[Page, tenant_page(Permission.PROFILE_WRITE)],
) -> HTMLResponse:
    """Change the fields the form shows, as `PATCH {T}/profile` does (hours are kept)."""
    submitted, form = await read_form(page.request)

    async def save() -> str:
        try:
            body = parse(ProfilePatch, _profile_body(submitted))
        except ValidationFailed as invalid:
            invalid.errors = [
                {**item, "field": _field_name(str(item.get("field", "")))}
                for item in invalid.errors or []
            ]
            raise
        await profiles.save_profile(
            page.session, page.tenant_id, page.member, body, page.meta, replace=False
        )
        return "The business profile is saved."

    notice = await page.act(form, submitted, save)
    if notice is None:
        return await _render_profile(page, form=form, status_code=form_status(form))
    return await _render_profile(page, notice=notice)


# Push to Google Business Profile ----------------------------------------------------------

ProfileWriter = Annotated[Page, tenant_page(Permission.CHANNELS_WRITE)]


async def _profile_action(page: Page, action: Any) -> HTMLResponse:
    submitted, form = await read_form(page.request)
    notice = await page.act(form, submitted, lambda: action(submitted))
    if notice is None:
        return await _render_profile(page, push_problem=form.message, status_code=form_status(form))
    return await _render_profile(page, notice=notice)


@router.post("/" + PROFILE + "/google/location")
async def choose_profile_location(page: ProfileWriter) -> HTMLResponse:
    """Push the profile to the chosen Business Profile location, as `PUT …/profile-push`."""

    async def choose(submitted: Mapping[str, str]) -> str:
        body = parse(ProfileTarget, {"gbp_location_id": submitted.get("gbp_location_id", "")})
        await channels.choose_profile_location(
            page.session, page.member, body.gbp_location_id, page.meta
        )
        return "Profile edits are pushed to this Business Profile location from now on."

    return await _profile_action(page, choose)


@router.post("/" + PROFILE + "/google/push")
async def push_profile_now(page: ProfileWriter) -> HTMLResponse:
    async def push(submitted: Mapping[str, str]) -> str:
        await channels.push_profile_now(page.session, page.member)
        return "A push to Google Business Profile is queued."

    return await _profile_action(page, push)


@router.post("/" + PROFILE + "/google/conflicts/{field}")
async def resolve_profile_conflict(field: str, page: ProfileWriter) -> HTMLResponse:
    """Keep Mercato's value or take Google's, as `POST …/profile-push/conflicts/{field}`."""

    async def resolve(submitted: Mapping[str, str]) -> str:
        body = parse(ConflictResolution, {"keep": submitted.get("keep", "")})
        await channels.resolve_profile_conflict(
            page.session, page.member, field, body.keep, page.meta
        )
        if body.keep == "google":
            return "Google's value is now the profile's."
        return "Mercato's value will be pushed to Google."

    return await _profile_action(page, resolve)
