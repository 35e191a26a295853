"""Marketing → Experiments and Recommendations: A/B/n tests between strategies (create,
start, pause, complete; results per arm with lift, interval, raw and Holm-adjusted
p-values, chance to win, guardrails, and the SRM check across all arms), an explorer
showing every strategy's list for one shopper or product, and the tenant's model versions
with a button to fit one now."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Annotated, Any, get_args
from urllib.parse import urlsplit

from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import DomainError, NotFound, ValidationFailed
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal
from mercato.modules import experiments
from mercato.modules.analytics import TopProductsBy, top_products
from mercato.modules.audit import record_audit
from mercato.modules.experiments import ExperimentCreate, ExperimentRead
from mercato.modules.recommendations import (
    FitQueued,
    RecommendationList,
    RecommendationQuery,
    StrategyName,
    list_models,
    recommend,
    request_fit,
)
from mercato.web.charts import interval_chart
from mercato.web.forms import FormState, form_status, parse, read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import OverviewPanel, Screen, Section

router = screen_router()
EXPERIMENTS = "personalization/experiments"
EXPLORER = "personalization/recommendations"
# The form's arms beyond control and variant: optional, the rest of the traffic after
# control's share split evenly among all of them.
EXTRA_ARMS = range(3, 7)
MODELS = EXPLORER + "/models"

SCREENS = [
    Screen(
        "marketing.experiments",
        "Experiments",
        EXPERIMENTS,
        Permission.EXPERIMENTS_READ,
        Section.marketing,
        20,
    ),
    Screen(
        "marketing.recommendations",
        "Recommendations",
        EXPLORER,
        Permission.RECOMMENDATIONS_READ,
        Section.marketing,
        10,
    ),
]

Reader = Annotated[Page, tenant_page(Permission.EXPERIMENTS_READ)]
Writer = Annotated[Page, tenant_page(Permission.EXPERIMENTS_WRITE)]

STRATEGY_LABELS = {
    "collaborative": "Collaborative (people like this shopper)",
    "content_based": "Content-based (similar products)",
    "trending": "Trending",
    "frequently_bought_together": "Frequently bought together",
    "auto": "Auto (the best available)",
}
STRATEGIES = [(name, STRATEGY_LABELS.get(name, name)) for name in get_args(StrategyName)]
EXPLORED = [name for name in get_args(StrategyName) if name != "auto"]
METRICS = [
    ("ctr", "Click-through rate"),
    ("conversion_rate", "Conversion rate"),
    ("revenue_per_user", "Revenue per user"),
]
ACTIONS = {
    "start": ("draft", "paused"),
    "pause": ("running",),
    "complete": ("draft", "running", "paused"),
}
NEW_EXPERIMENT = {
    "placement": "product_page",
    "control_strategy": "trending",
    "variant_strategy": "collaborative",
    "traffic_split": "50",
    "metric": "ctr",
    "sequential": "on",
}


def _experiment_body(submitted: Mapping[str, str]) -> dict[str, Any]:
    return {
        "name": submitted.get("name", "").strip(),
        "placement": submitted.get("placement", "").strip(),
        "control_strategy": submitted.get("control_strategy", ""),
        "variant_strategy": submitted.get("variant_strategy", ""),
        "traffic_split": submitted.get("traffic_split", "").strip(),
        "metric": submitted.get("metric", ""),
        "sequential": submitted.get("sequential") == "on",
    }


def _experiment_design(submitted: Mapping[str, str]) -> ExperimentCreate:
    """The form as `POST {T}/experiments` would take it: two arms from the original fields
    (validated as text first, so each problem shows by its field), then any more arms and
    the guardrails. With more arms, control keeps its share and the others split the rest."""
    two_arms = parse(ExperimentCreate, _experiment_body(submitted))
    extra = [submitted.get(f"arm{n}_strategy", "") for n in EXTRA_ARMS]
    extra = [strategy for strategy in extra if strategy]
    design: dict[str, Any] = {
        **two_arms.model_dump(),
        "guardrails": [name for name, _ in METRICS if submitted.get(f"guardrail_{name}") == "on"],
    }
    if extra:
        split = two_arms.traffic_split or 0
        strategies = [two_arms.control_strategy, two_arms.variant_strategy, *extra]
        others = (100 - split) / (len(strategies) - 1)
        design["arms"] = [
            {"name": _arm_name(index), "strategy": strategy, "weight": others if index else split}
            for index, strategy in enumerate(strategies)
        ]
        for name in ("control_strategy", "variant_strategy", "traffic_split"):
            design.pop(name)
    try:
        return parse(ExperimentCreate, design)
    except ValidationFailed as invalid:  # a zero weight comes from the share in control
        errors = [
            {**error, "field": "traffic_split"}
            if str(error["field"]).endswith(".weight")
            else dict(error)
            for error in invalid.errors or []
        ]
        raise ValidationFailed(invalid.detail, errors=errors) from invalid


def _arm_name(index: int) -> str:
    return ("control", "variant")[index] if index < 2 else f"variant_{index + 1}"


async def _render_list(
    page: Page,
    *,
    create: FormState | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    listed = await experiments.list_experiments(page.session, limit=100)
    return page.render(
        "screens/experiments.html",
        fragment="screens/_experiments.html",
        status_code=status_code,
        experiments=listed.data,
        create=create or FormState(values=dict(NEW_EXPERIMENT)),
        strategies=STRATEGIES,
        optional_strategies=[("", "— none —"), *STRATEGIES],
        extra_arms=EXTRA_ARMS,
        metrics=METRICS,
        notice=notice,
    )


@router.get("/" + EXPERIMENTS)
async def experiments_screen(page: Reader) -> HTMLResponse:
    return await _render_list(page)


@router.post("/" + EXPERIMENTS)
async def create_experiment(page: Writer) -> HTMLResponse:
    """Create a draft, audited as `POST {T}/experiments` is."""
    submitted, form = await read_form(page.request)

    async def create() -> ExperimentRead:
        body = _experiment_design(submitted)
        experiment = await experiments.create_experiment(page.session, page.tenant_id, body)
        await record_audit(
            page.session,
            actor=page.member,
            action="experiment.created",
            target=f"experiment:{experiment.id}",
            changes={"status": {"from": None, "to": "draft"}},
            meta=page.meta,
        )
        return experiments.to_read(experiment)

    created = await page.act(form, submitted, create)
    if created is None:
        return await _render_list(page, create=form, status_code=form_status(form))
    return await _render_list(page, notice=f"“{created.name}” is created as a draft.")


async def _render_detail(
    page: Page,
    experiment_id: uuid.UUID,
    *,
    problem: FormState | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    experiment = experiments.to_read(
        await experiments.get_experiment(page.session, page.tenant_id, experiment_id)
    )
    results = await experiments.experiment_results(page.session, page.tenant_id, experiment_id)
    charts = {
        arm.name: interval_chart(
            arm.ci_low, arm.ci_high, arm.lift, title=f"Lift of {arm.name} over control"
        )
        for arm in results.arms
        if arm.lift is not None and arm.ci_low is not None and arm.ci_high is not None
    }
    total = sum(arm.weight for arm in experiment.arms)
    return page.render(
        "screens/experiment.html",
        fragment="screens/_experiment.html",
        status_code=status_code,
        experiment=experiment,
        results=results,
        charts=charts,
        shares=[arm.weight / total * 100 for arm in experiment.arms],
        srm=results.srm,
        dropped=[
            (arm.name, failed)
            for arm in results.arms
            if (failed := [guard.metric for guard in arm.guardrails if guard.failed])
        ],
        actions=[name for name, states in ACTIONS.items() if experiment.status in states],
        labels=dict(STRATEGIES),
        metric_labels=dict(METRICS),
        problem=problem or FormState(),
        notice=notice,
        back=page.url(EXPERIMENTS),
    )


@router.get("/" + EXPERIMENTS + "/{experiment_id}")
async def experiment_screen(experiment_id: uuid.UUID, page: Reader) -> HTMLResponse:
    return await _render_detail(page, experiment_id)


DONE = {"start": "is running", "pause": "is paused", "complete": "is completed"}


@router.post("/" + EXPERIMENTS + "/{experiment_id}/{action}")
async def move_experiment(experiment_id: uuid.UUID, action: str, page: Writer) -> HTMLResponse:
    """Start, pause or complete, audited as `POST {T}/experiments/{id}/{action}` is."""
    if action not in ACTIONS:
        raise NotFound("No such action")
    submitted, form = await read_form(page.request)

    async def apply() -> str:
        before = await experiments.get_experiment(page.session, page.tenant_id, experiment_id)
        was = before.status
        moved = await experiments.move(page.session, page.tenant_id, experiment_id, action)
        await record_audit(
            page.session,
            actor=page.member,
            action=f"experiment.{action}",
            target=f"experiment:{moved.id}",
            changes={"status": {"from": was, "to": moved.status}},
            meta=page.meta,
        )
        return f"“{moved.name}” {DONE[action]}."

    notice = await page.act(form, submitted, apply)
    if notice is None:
        return await _render_detail(
            page, experiment_id, problem=form, status_code=form_status(form)
        )
    return await _render_detail(page, experiment_id, notice=notice)


# Recommendation explorer ------------------------------------------------------------------


@router.get("/" + EXPLORER)
async def recommendations_screen(
    page: Annotated[Page, tenant_page(Permission.RECOMMENDATIONS_READ)],
) -> HTMLResponse:
    params = page.request.query_params
    user_id = params.get("user_id", "").strip()[:200]
    product_id = params.get("product_id", "").strip()[:128]
    example = "user_id" not in params and "product_id" not in params
    if example:
        product_id = await _example_product(page) or ""
    form = FormState(values={"user_id": user_id, "product_id": product_id})
    columns: list[tuple[str, str, RecommendationList | None, str | None]] = []
    if user_id or product_id:
        for strategy in EXPLORED:
            query = RecommendationQuery(
                user_id=user_id or None,
                product_id=product_id or None,
                strategy=strategy,
                limit=8,
            )
            try:
                body = await recommend(page.session, page.tenant_id, query)
                listed = RecommendationList.model_validate(json.loads(body))
                columns.append((strategy, STRATEGY_LABELS[strategy], listed, None))
            except DomainError as error:
                columns.append((strategy, STRATEGY_LABELS[strategy], None, error.detail))
    return page.render(
        "screens/recommendations.html",
        fragment="screens/_recommendations.html",
        form=form,
        columns=columns,
        example=example and bool(product_id),
        local_image=local_image,
        models=await list_models(page.session, page.member),
        models_form=FormState(),
        models_notice=None,
    )


@router.post("/" + MODELS)
async def fit_model_now(
    page: Annotated[Page, tenant_page(Permission.RECOMMENDATION_MODELS_WRITE)],
) -> HTMLResponse:
    """Queue a fit, audited as `POST {T}/recommendations/models` is."""
    submitted, form = await read_form(page.request)

    async def fit() -> FitQueued:
        return await request_fit(page.session, page.member, page.meta)

    queued = await page.act(form, submitted, fit)
    notice = None if queued is None else f"A fit is queued (job {queued.job_id})."
    return page.render(
        "screens/recommendations.html",
        fragment="screens/_reco_models.html",
        status_code=form_status(form),
        form=FormState(values={"user_id": "", "product_id": ""}),
        columns=[],
        local_image=local_image,
        models=await list_models(page.session, page.member),
        models_form=form,
        models_notice=notice,
    )


async def _example_product(page: Page) -> str | None:
    """The most viewed product of the last 30 days, so the explorer opens on an example."""
    if not page.can(Permission.ANALYTICS_READ):
        return None
    top = await top_products(
        page.session, page.member, start=None, end=None, by=TopProductsBy.views, limit=1
    )
    return top.data[0].product_id if top.data else None


def local_image(url: str | None) -> str | None:
    """This server's own media path for an image, else None (a placeholder is shown).

    Media URLs are absolute with the configured public address, which need not be the
    address the dashboard is open on; remote images are not loaded at all (the pages'
    CSP allows only their own origin, and demo data names hosts that do not exist).
    """
    if not url:
        return None
    path = urlsplit(url).path
    return path if path.startswith("/media/") and ".." not in path else None


async def _experiment_summary(session: AsyncSession, principal: Principal) -> Mapping[str, Any]:
    listed = (await experiments.list_experiments(session, limit=100)).data
    running = [experiment for experiment in listed if experiment.status == "running"]
    return {
        "running": running,
        "drafts": sum(1 for experiment in listed if experiment.status == "draft"),
        "url": f"/app/t/{principal.tenant_id}/{EXPERIMENTS}",
    }


PANELS = [
    OverviewPanel(
        "experiments",
        "Experiments",
        Permission.EXPERIMENTS_READ,
        "panels/experiments.html",
        _experiment_summary,
        order=35,
    )
]
