"""Marketing → Experiments and the recommendation explorer, over HTTP with a real database."""

from __future__ import annotations

import re

import psycopg

from tests.factories import add_member, create_tenant, signup_and_login
from tests.jobs import run_queued_jobs
from tests.modules.recommendations.catalog_api import stock_the_catalog
from tests.modules.recommendations.shop import furniture
from tests.modules.tracking.helpers import new_shop, view
from tests.web.browser import signed_in

FORM = {
    "name": "Collaborative on product pages",
    "placement": "product_page",
    "control_strategy": "trending",
    "variant_strategy": "collaborative",
    "traffic_split": "50",
    "metric": "ctr",
    "sequential": "on",
}


class TestExperiments:
    async def test_create_start_pause_and_complete(self, client, owner_dsn) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        manager = await add_member(client, owner, tenant, "manager")
        dashboard = await signed_in(client, manager)
        url = f"/app/t/{tenant}/personalization/experiments"
        empty = await dashboard.get(url)
        assert "No experiments yet." in empty.text
        created = await dashboard.post(url, FORM, htmx=True)
        assert created.status_code == 200, created.text
        assert "is created as a draft." in created.text
        listed = await client.get(f"/api/v1/tenants/{tenant}/experiments", headers=owner.headers)
        [experiment] = listed.json()["data"]
        assert experiment["sequential"] is True
        assert experiment["status"] == "draft"

        detail = f"{url}/{experiment['id']}"
        page = await dashboard.get(detail)
        assert page.status_code == 200
        assert "Not enough data for an interval yet" in page.text
        assert ">Start<" in page.text
        started = await dashboard.post(f"{detail}/start", htmx=True)
        assert "is running." in started.text
        assert "data-status>running<" in started.text
        assert ">Pause<" in started.text
        assert ">Start<" not in started.text
        again = await dashboard.post(f"{detail}/start", htmx=True)
        assert again.status_code == 409
        assert "cannot start" in again.text
        paused = await dashboard.post(f"{detail}/pause", htmx=True)
        assert ">Resume<" in paused.text
        completed = await dashboard.post(f"{detail}/complete", htmx=True)
        assert "is completed." in completed.text
        assert "button" not in completed.text.split('id="results-title"')[0].split("</dl>")[1]
        assert (await dashboard.post(f"{detail}/explode", htmx=True)).status_code == 404
        with psycopg.connect(owner_dsn) as conn:
            actions = [
                row[0]
                for row in conn.execute(
                    "SELECT action FROM audit_log WHERE tenant_id = %s AND target = %s "
                    "ORDER BY created_at",
                    (tenant, f"experiment:{experiment['id']}"),
                )
            ]
        assert actions == [
            "experiment.created",
            "experiment.start",
            "experiment.pause",
            "experiment.complete",
        ]

    async def test_problems_are_shown_by_their_fields(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/personalization/experiments"
        await dashboard.get(url)
        refused = await dashboard.post(
            url, {**FORM, "placement": "no spaces", "traffic_split": "150"}, htmx=True
        )
        assert refused.status_code == 422
        assert 'id="f-placement-error"' in refused.text
        assert 'id="f-traffic_split-error"' in refused.text
        assert f'value="{FORM["name"]}"' in refused.text

    async def test_a_second_start_on_a_busy_placement_is_explained(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/personalization/experiments"
        await dashboard.get(url)
        ids = []
        for name in ("First", "Second"):
            await dashboard.post(url, {**FORM, "name": name}, htmx=True)
        listed = await client.get(f"/api/v1/tenants/{tenant}/experiments", headers=owner.headers)
        ids = [row["id"] for row in listed.json()["data"]]
        await dashboard.post(f"{url}/{ids[0]}/start", htmx=True)
        busy = await dashboard.post(f"{url}/{ids[1]}/start", htmx=True)
        assert busy.status_code == 409
        assert "is running on" in busy.text

    async def test_a_viewer_sees_results_but_no_buttons(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        made = await client.post(
            f"/api/v1/tenants/{tenant}/experiments",
            json={**FORM, "traffic_split": 50, "sequential": True},
            headers=owner.headers,
        )
        experiment_id = made.json()["id"]
        viewer = await add_member(client, owner, tenant, "viewer")
        dashboard = await signed_in(client, viewer)
        url = f"/app/t/{tenant}/personalization/experiments"
        page = await dashboard.get(url)
        assert FORM["name"] in page.text
        assert "Create experiment" not in page.text
        detail = await dashboard.get(f"{url}/{experiment_id}")
        assert detail.status_code == 200
        assert not re.search(r">(Start|Pause|Complete)<", detail.text)
        assert (await dashboard.post(url, FORM)).status_code == 403
        assert (await dashboard.post(f"{url}/{experiment_id}/start")).status_code == 403


class TestRecommendationExplorer:
    async def test_every_strategy_is_shown_side_by_side(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        viewer = await add_member(client, owner, tenant, "viewer")
        dashboard = await signed_in(client, viewer)
        url = f"/app/t/{tenant}/personalization/recommendations"
        first = await dashboard.get(url)
        assert first.status_code == 200
        assert "Enter a shopper's user id" in first.text
        shown = await dashboard.get(url, params={"user_id": "u-1"}, headers={"HX-Request": "true"})
        assert shown.status_code == 200
        for heading in ("Collaborative", "Content-based", "Trending", "Frequently bought together"):
            assert heading in shown.text
        assert "<html" not in shown.text

    async def test_the_models_panel_lists_versions_and_fits_now(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        manager = await add_member(client, owner, tenant, "manager")
        viewer = await add_member(client, owner, tenant, "viewer")
        await stock_the_catalog(client, owner.headers, tenant, furniture())
        url = f"/app/t/{tenant}/personalization/recommendations"
        seen = await (await signed_in(client, viewer)).get(url)
        assert "No model yet" in seen.text
        assert "Fit now" not in seen.text
        dashboard = await signed_in(client, manager)
        page = await dashboard.get(url)
        assert 'id="reco-models"' in page.text
        assert "Fit now" in page.text
        queued = await dashboard.post(f"{url}/models", htmx=True)
        assert queued.status_code == 200, queued.text
        assert "A fit is queued (job " in queued.text
        assert 'data-fitting="yes"' in queued.text
        assert "<html" not in queued.text
        refused = await dashboard.post(f"{url}/models", htmx=True)
        assert refused.status_code == 409
        assert "already under way" in refused.text
        await run_queued_jobs("models")
        fitted = await dashboard.get(url)
        assert 'data-fitting="no"' in fitted.text
        assert re.search(r'<td data-label="Version">1</td>', fitted.text)
        assert "history too short to score" in fitted.text
        assert (await (await signed_in(client, viewer)).post(f"{url}/models")).status_code == 403

    async def test_it_opens_on_the_most_viewed_product(self, client) -> None:
        shop = await new_shop(client)
        views = [view(f"u{n}", "p-popular") for n in range(3)] + [view("u9", "p-quiet")]
        sent = await client.post(
            f"{shop.base}/events/batch", json={"events": views}, headers=shop.key_headers
        )
        assert sent.json()["rejected"] == [], sent.text
        dashboard = await signed_in(client, shop.owner)
        url = f"/app/t/{shop.tenant_id}/personalization/recommendations"
        opened = await dashboard.get(url)
        assert re.search(r'name="product_id"[^>]*value="p-popular"', opened.text)
        assert "data-example" in opened.text
        assert "Frequently bought together" in opened.text  # the example's lists are shown
        cleared = await dashboard.get(url, params={"user_id": "", "product_id": ""})
        assert 'value="p-popular"' not in cleared.text  # a form sent empty stays empty
        assert "data-example" not in cleared.text


class TestWidgetEditor:
    async def test_edit_preview_and_save_a_widget(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        manager = await add_member(client, owner, tenant, "manager")
        dashboard = await signed_in(client, manager)
        url = f"/app/t/{tenant}/personalization/widgets"
        page = await dashboard.get(url, params={"placement": "cart"})
        assert page.status_code == 200
        assert "defaults" in page.text
        assert 'class="widget-frame" src="/app/t/' in page.text

        frame = await dashboard.get(
            f"{url}/cart/frame",
            params={"title": "Picked for you", "layout": "list", "columns": "1"},
            headers={"HX-Request": "true"},
        )
        src = re.search(r'src="([^"]+)"', frame.text)
        assert src
        preview = await dashboard.get(src.group(1).replace("&amp;", "&"))
        assert preview.status_code == 200
        assert "Picked for you" in preview.text
        assert "mw-list" in preview.text
        assert "'unsafe-inline'" in preview.headers["content-security-policy"]
        assert "script-src" not in preview.headers["content-security-policy"]
        broken = await dashboard.get(f"{url}/cart/preview", params={"draft": "1", "columns": "9"})
        assert "Fix the editor's fields" in broken.text

        body = {
            "title": "Picked for you",
            "layout": "grid",
            "columns": "3",
            "max_items": "6",
            "cta_text": "Have a look",
            "show_price": "on",
            "primary_color": "#aa3300",
            "text_color": "#111111",
            "background_color": "#ffffff",
            "muted_color": "#666666",
            "font_family": "Georgia, serif",
            "border_radius": "4",
        }
        saved = await dashboard.post(f"{url}/cart", body, htmx=True)
        assert saved.status_code == 200, saved.text
        assert "The cart widget is saved" in saved.text
        api = await client.get(f"/api/v1/tenants/{tenant}/widgets/cart", headers=owner.headers)
        assert api.json()["theme"]["primary_color"] == "#aa3300"
        assert api.json()["columns"] == 3

        refused = await dashboard.post(
            f"{url}/cart", {**body, "primary_color": "red", "columns": "9"}, htmx=True
        )
        assert refused.status_code == 422
        assert 'id="f-primary_color-error"' in refused.text
        assert 'id="f-columns-error"' in refused.text

        listed = await dashboard.get(url, params={"placement": "home"})
        assert '?placement=cart"><code>cart</code></a>' in listed.text
        assert "Delete widget" not in listed.text  # home shows the defaults
        deleted = await dashboard.post(f"{url}/cart/delete", {}, htmx=True)
        assert deleted.status_code == 200, deleted.text
        assert "The cart widget is deleted" in deleted.text
        assert "No placement is configured yet" in deleted.text
        api = await client.get(f"/api/v1/tenants/{tenant}/widgets/cart", headers=owner.headers)
        assert api.json()["configured"] is False
        again = await dashboard.post(f"{url}/cart/delete", {}, htmx=True)
        assert again.status_code == 404

    async def test_a_viewer_sees_the_widget_but_cannot_save(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        viewer = await add_member(client, owner, tenant, "viewer")
        dashboard = await signed_in(client, viewer)
        url = f"/app/t/{tenant}/personalization/widgets"
        page = await dashboard.get(url)
        assert page.status_code == 200
        assert "Save widget" not in page.text
        assert (await dashboard.post(f"{url}/product_page", {"title": "x"})).status_code == 403
        assert (await dashboard.post(f"{url}/product_page/delete", {})).status_code == 403
        bad = await dashboard.get(url, params={"placement": "no spaces"})
        assert bad.status_code == 422


class TestResults:
    async def test_lift_interval_and_a_sample_ratio_mismatch_are_shown(self, client) -> None:
        shop = await new_shop(client)
        made = await client.post(
            f"{shop.base}/experiments",
            json={**FORM, "traffic_split": 50, "sequential": False},
            headers=shop.owner.headers,
        )
        experiment_id = made.json()["id"]
        started = await client.post(
            f"{shop.base}/experiments/{experiment_id}/start", headers=shop.owner.headers
        )
        assert started.status_code == 200, started.text
        # 400 shoppers in control and 100 in the variant of a 50/50 split: a broken split.
        events = []
        for n in range(500):
            variant = "control" if n < 400 else "variant"
            shown = {
                "user_id": f"u{n}",
                "product_id": "p1",
                "experiment_id": experiment_id,
                "variant": variant,
                "placement": "product_page",
            }
            events.append({"type": "impression", **shown})
            if n % (5 if variant == "control" else 2) == 0:
                events.append({"type": "click", **shown})
        response = await client.post(
            f"{shop.base}/events/batch", json={"events": events}, headers=shop.key_headers
        )
        assert response.json()["rejected"] == [], response.text

        dashboard = await signed_in(client, shop.owner)
        page = await dashboard.get(
            f"/app/t/{shop.tenant_id}/personalization/experiments/{experiment_id}"
        )
        assert page.status_code == 200
        assert "data-srm" in page.text
        assert "Sample ratio mismatch." in page.text
        lift = re.search(r'data-kpi="lift">([^<]+)<', page.text)
        assert lift
        assert lift.group(1).startswith("+")  # clicks: 20 % in control, 50 % in the variant
        assert 'class="chart chart-interval positive"' in page.text
        assert re.search(r'data-kpi="p-value">0\.\d{3}<', page.text)
        assert re.search(r'data-kpi="chance-to-win">\d+ %<', page.text)


async def test_the_overview_lists_running_experiments(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    made = await client.post(
        f"/api/v1/tenants/{tenant}/experiments",
        json={**FORM, "traffic_split": 50, "sequential": True},
        headers=owner.headers,
    )
    dashboard = await signed_in(client, owner)
    draft = await dashboard.get(f"/app/t/{tenant}")
    assert 'data-kpi="running-experiments">0<' in draft.text
    assert "1 draft" in draft.text
    await client.post(
        f"/api/v1/tenants/{tenant}/experiments/{made.json()['id']}/start", headers=owner.headers
    )
    running = await dashboard.get(f"/app/t/{tenant}")
    assert 'data-kpi="running-experiments">1<' in running.text
    assert FORM["name"] in running.text


class TestArms:
    async def test_more_arms_and_guardrails_from_the_form(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/personalization/experiments"
        await dashboard.get(url)
        clash = await dashboard.post(url, {**FORM, "guardrail_ctr": "on"}, htmx=True)
        assert clash.status_code == 422
        assert 'id="f-guardrails-error"' in clash.text
        zero = await dashboard.post(
            url, {**FORM, "traffic_split": "100", "arm3_strategy": "trending"}, htmx=True
        )
        assert zero.status_code == 422
        assert 'id="f-traffic_split-error"' in zero.text
        created = await dashboard.post(
            url,
            {
                **FORM,
                "traffic_split": "40",
                "arm3_strategy": "content_based",
                "arm5_strategy": "frequently_bought_together",
                "guardrail_revenue_per_user": "on",
            },
            htmx=True,
        )
        assert created.status_code == 200, created.text
        assert "trending vs collaborative vs content_based vs frequently_bought_together" in (
            created.text
        )
        listed = await client.get(f"/api/v1/tenants/{tenant}/experiments", headers=owner.headers)
        [experiment] = listed.json()["data"]
        assert experiment["arms"] == [
            {"name": "control", "strategy": "trending", "weight": 40},
            {"name": "variant", "strategy": "collaborative", "weight": 20},
            {"name": "variant_3", "strategy": "content_based", "weight": 20},
            {"name": "variant_4", "strategy": "frequently_bought_together", "weight": 20},
        ]
        assert experiment["guardrails"] == ["revenue_per_user"]

    async def test_every_arm_is_shown_with_its_flags(self, client) -> None:
        shop = await new_shop(client)
        arms = [
            {"name": "control", "strategy": "trending", "weight": 1},
            {"name": "people", "strategy": "collaborative", "weight": 1},
            {"name": "similar", "strategy": "content_based", "weight": 1},
        ]
        made = await client.post(
            f"{shop.base}/experiments",
            json={
                "name": "Three arms",
                "placement": "product_page",
                "arms": arms,
                "metric": "ctr",
                "guardrails": ["revenue_per_user"],
                "sequential": False,
            },
            headers=shop.owner.headers,
        )
        experiment_id = made.json()["id"]
        # 300 / 100 / 100 shoppers for equal weights: a broken split. "people" clicks
        # more but its buyers spend a tenth of control's.
        events = []
        for n in range(500):
            arm = "control" if n < 300 else "people" if n < 400 else "similar"
            shown = {
                "user_id": f"u{n}",
                "product_id": "p1",
                "experiment_id": experiment_id,
                "variant": arm,
                "placement": "product_page",
            }
            events.append({"type": "impression", **shown})
            if n % (2 if arm == "people" else 5) == 0:
                events.append({"type": "click", **shown})
            if n % 3 == 0:
                spent = 10 + n % 4 if arm == "people" else 100 + n % 9
                events.append(
                    {
                        "type": "purchase",
                        "user_id": f"u{n}",
                        "product_id": "p1",
                        "revenue": f"{spent}.00",
                        "currency": "EUR",
                        "properties": {"order_id": f"o{n}"},
                    }
                )
        response = await client.post(
            f"{shop.base}/events/batch", json={"events": events}, headers=shop.key_headers
        )
        assert response.json()["rejected"] == [], response.text
        dashboard = await signed_in(client, shop.owner)
        page = await dashboard.get(
            f"/app/t/{shop.tenant_id}/personalization/experiments/{experiment_id}"
        )
        assert page.status_code == 200
        for arm in arms:
            assert f'data-arm="{arm["name"]}"' in page.text
        assert 'data-arm-chart="people"' in page.text
        assert 'data-arm-chart="similar"' in page.text
        assert "Users did not split 33.3 / 33.3 / 33.3 as configured" in page.text
        assert 'data-guardrail-failed="revenue_per_user"' in page.text
        assert "people lowers revenue per user significantly below control." in page.text
        assert "Holm-Bonferroni" in page.text
        assert 'data-kpi="lift"' not in page.text  # the two-arm summary only
