"""Integrations are the easiest SSRF: a tenant types a host, a port or a key file.

"Test connection" must neither reach our internal network nor tell its open ports from its
closed ones, and nothing a remote server says may come back in the answer.
"""

from __future__ import annotations

import json
import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.fakes.server import free_port, serve
from tests.fakes.tcp import tcp_listener
from tests.jobs import run_queued_jobs
from tests.modules.integrations.fakes import patched_settings, service_account_json
from tests.modules.masterdata.sftp_server import sftp_server
from tests.modules.tracking.helpers import new_shop

SECRET_BODY = "metadata-secret-" + uuid.uuid4().hex


def _token_endpoint(calls: list[str]) -> Starlette:
    """An internal service that answers 400 with something worth stealing."""

    async def token(request: Request) -> PlainTextResponse:
        calls.append(str(request.url))
        return PlainTextResponse(SECRET_BODY, status_code=400)

    return Starlette(routes=[Route("/token", token, methods=["POST"])])


def _bigquery(token_uri: str) -> dict:
    return {
        "project_id": "shop-analytics",
        "dataset": "analytics_1",
        "credentials_json": service_account_json(token_uri),
    }


async def _put(client, shop, kind: str, settings: dict):
    return await client.put(
        f"{shop.base}/integrations/{kind}", json=settings, headers=shop.owner.headers
    )


async def _test(client, shop, kind: str) -> dict:
    response = await client.post(
        f"{shop.base}/integrations/{kind}/test", headers=shop.owner.headers
    )
    assert response.status_code == 200, response.text
    assert SECRET_BODY not in response.text
    return dict(response.json())


async def test_a_key_file_aimed_at_another_token_endpoint_is_refused_before_any_request(
    client,
) -> None:
    calls: list[str] = []
    shop = await new_shop(client)
    async with serve(_token_endpoint(calls)) as url:
        put = await _put(client, shop, "bigquery", _bigquery(f"{url}/token"))
        listed = await client.get(f"{shop.base}/integrations", headers=shop.owner.headers)
    assert put.status_code == 422, put.text
    assert "token_uri" in put.text
    assert listed.json()["data"] == []
    assert calls == []


async def test_a_refused_service_account_key_is_reported_without_the_answer(client) -> None:
    """Even Google's own token endpoint (here: the operator's setting) is not quoted, by
    "test connection" or by the import job."""
    calls: list[str] = []
    shop = await new_shop(client)
    async with serve(_token_endpoint(calls)) as url:
        with patched_settings(google_token_url=f"{url}/token", bigquery_api_endpoint=url):
            put = await _put(client, shop, "bigquery", _bigquery(f"{url}/token"))
            assert put.status_code == 201, put.text
            checked = await _test(client, shop, "bigquery")
            created = await client.post(
                f"{shop.base}/ingest/jobs",
                json={"source": "bigquery", "start": "2026-11-01", "end": "2026-11-01"},
                headers=shop.owner.headers,
            )
            assert created.status_code == 202, created.text
            await run_queued_jobs("tracking")
    job = await client.get(
        f"{shop.base}/ingest/jobs/{created.json()['id']}", headers=shop.owner.headers
    )
    refused = "BigQuery authentication failed: Google refused the service account key (HTTP 400)"
    assert len(calls) == 2
    assert (checked["ok"], checked["message"]) == (False, refused)
    assert (job.json()["status"], job.json()["error"]) == ("failed", f"BigQueryFailed: {refused}")
    assert SECRET_BODY not in job.text


async def _sftp_answers(client, shop, ports: list[int]) -> list[dict]:
    answers = []
    for port in ports:
        put = await _put(
            client,
            shop,
            "sftp",
            {"host": "127.0.0.1", "port": port, "username": "u", "password": "p-" + str(port)},
        )
        assert put.status_code in (200, 201), put.text
        answers.append(await _test(client, shop, "sftp"))
    return answers


async def _smtp_answers(client, shop, ports: list[int]) -> list[dict]:
    answers = []
    for port in ports:
        settings = {
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "from_address": "shop@shop.example",
        }
        assert (await _put(client, shop, "smtp", settings)).status_code in (200, 201)
        answers.append(await _test(client, shop, "smtp"))
    return answers


async def test_internal_sftp_ports_all_read_could_not_connect(
    client, tmp_path, strict_egress
) -> None:
    """A real SFTP server, a silent open port and a closed port on 127.0.0.1: with the
    address refused, the three answers are identical and no connection is made."""
    accepted: list[int] = []
    shop = await new_shop(client)
    async with sftp_server(tmp_path) as real, tcp_listener(accepted) as silent:
        answers = await _sftp_answers(client, shop, [real.port, silent, free_port()])
    assert {(a["ok"], a["message"]) for a in answers} == {
        (False, "could not connect to the SFTP server")
    }
    assert accepted == []


async def test_internal_smtp_ports_all_read_could_not_connect(client, strict_egress) -> None:
    accepted: list[int] = []
    shop = await new_shop(client)
    async with tcp_listener(accepted, b"220 mail.internal ESMTP\r\n") as smtp_like:
        answers = await _smtp_answers(client, shop, [smtp_like, free_port()])
    assert {(a["ok"], a["message"]) for a in answers} == {
        (False, "could not connect to the SMTP server")
    }
    assert accepted == []


async def test_a_reachable_port_that_is_not_the_service_reads_like_a_closed_one(client) -> None:
    """For hosts egress does allow (127.0.0.1 in the tests) the answer still carries no
    errno and no banner: an HTTP server and a closed port look the same."""
    accepted: list[int] = []
    shop = await new_shop(client)
    async with tcp_listener(
        accepted, b"HTTP/1.1 400 Bad Request\r\nServer: intranet\r\n\r\n"
    ) as web:
        sftp = await _sftp_answers(client, shop, [web, free_port()])
        smtp = await _smtp_answers(client, shop, [web, free_port()])
    assert len(accepted) == 2
    assert [a["message"] for a in sftp] == ["could not connect to the SFTP server"] * 2
    assert [a["message"] for a in smtp] == ["could not connect to the SMTP server"] * 2
    assert not any("intranet" in json.dumps(a) for a in sftp + smtp)
