"""Egress against real local servers: one lookup, the checked address, redirects, caps.

Names under `.test` are answered by a staged resolver (`resolver_override`), so a test
decides what a name resolves to, and when.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import ipaddress
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from mercato.kernel import egress
from mercato.kernel.egress import http as egress_http
from tests.fakes.server import free_port, serve
from tests.fakes.tcp import tcp_listener
from tests.modules.integrations.fakes import patched_settings


def _staged(*answers: list[str]) -> tuple[egress.Resolver, list[str]]:
    """A resolver giving `answers` in turn (the last one from then on); records each ask."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return answers[min(len(asked), len(answers)) - 1]

    return resolve, asked


def _named(app_name: str, hits: list[str]) -> Starlette:
    async def whoami(request: Request) -> PlainTextResponse:
        hits.append(request.url.path)
        return PlainTextResponse(f"{app_name} {request.headers['host']}")

    return Starlette(routes=[Route("/{path:path}", whoami)])


async def test_the_connection_goes_to_the_address_that_was_checked() -> None:
    """One lookup per connection, and the socket goes to its answer: a second, different
    answer (the rebinding trick) is never consulted."""
    port = free_port()
    hits_a: list[str] = []
    hits_b: list[str] = []
    resolver, asked = _staged(["127.0.0.1"], ["127.0.0.2"])
    async with (
        serve(_named("A", hits_a), port=port),
        serve(_named("B", hits_b), host="127.0.0.2", port=port),
    ):
        with (
            patched_settings(egress_allowed_hosts="rebind.test"),
            egress.resolver_override(resolver),
        ):
            async with egress.http_client() as http:
                first = await http.get(f"http://rebind.test:{port}/one")
                second = await http.get(f"http://rebind.test:{port}/two")  # same connection
    assert (first.text, second.text) == (f"A rebind.test:{port}", f"A rebind.test:{port}")
    assert asked == ["rebind.test"]
    assert (hits_a, hits_b) == (["/one", "/two"], [])


async def test_a_name_resolving_to_an_internal_address_is_refused(strict_egress) -> None:
    hits: list[str] = []
    resolver, asked = _staged(["127.0.0.1"])
    async with serve(_named("internal", hits)) as url:
        port = url.rsplit(":", 1)[1]
        with egress.resolver_override(resolver), pytest.raises(egress.EgressRefused):
            async with egress.http_client() as http:
                await http.get(f"http://hooks.rebind.test:{port}/")
    assert asked == ["hooks.rebind.test"]
    assert hits == []


async def test_one_internal_address_in_the_answer_refuses_the_name(strict_egress) -> None:
    resolver, _ = _staged(["93.184.216.34", "10.0.0.7"])
    with egress.resolver_override(resolver), pytest.raises(egress.EgressRefused):
        await egress.resolve_target("mixed.test", 443)


async def test_an_allowed_host_is_allowed_on_its_port_only() -> None:
    resolver, _ = _staged(["10.0.0.25"])
    with (
        patched_settings(egress_allowed_hosts="relay.test:25"),
        egress.resolver_override(resolver),
    ):
        target = await egress.resolve_target("Relay.Test.", 25)
        with pytest.raises(egress.EgressRefused):
            await egress.resolve_target("relay.test", 2525)
    assert target.addresses == (ipaddress.ip_address("10.0.0.25"),)


async def test_a_name_that_does_not_resolve_cannot_connect() -> None:
    async def nxdomain(host: str, port: int) -> list[str]:
        raise OSError(-2, "Name or service not known")

    with egress.resolver_override(nxdomain), pytest.raises(egress.CannotConnect) as caught:
        await egress.resolve_target("nowhere.test", 443)
    assert egress.public_message(caught.value) == egress.COULD_NOT_CONNECT


def _redirecting(hits: list[str], location: Callable[[], str]) -> Starlette:
    async def start(request: Request) -> RedirectResponse:
        hits.append("/start")
        return RedirectResponse(location(), status_code=302)

    async def secret(request: Request) -> PlainTextResponse:
        hits.append("/secret")
        return PlainTextResponse("internal data")

    return Starlette(routes=[Route("/start", start), Route("/secret", secret)])


async def test_a_redirect_to_an_internal_address_is_refused() -> None:
    """127.0.0.1 is allowed in the tests, `internal.test` (resolving to it) is not: the hop
    is checked like a first request and refused before it connects."""
    hits: list[str] = []
    port = free_port()
    app = _redirecting(hits, lambda: f"http://internal.test:{port}/secret")
    resolver, _ = _staged(["127.0.0.1"])
    async with serve(app, port=port) as url:
        with egress.resolver_override(resolver):
            async with egress.http_client(follow_redirects=True) as http:
                with pytest.raises(egress.EgressRefused):
                    await http.get(f"{url}/start")
            async with egress.http_client() as http:  # by default a 3xx is just an answer
                answer = await http.get(f"{url}/start")
    assert answer.status_code == 302
    assert hits == ["/start", "/start"]


async def test_redirects_to_allowed_places_are_followed_a_few_times() -> None:
    hits: list[str] = []
    async with (
        serve(_redirecting(hits, lambda: "/secret")) as url,
        egress.http_client(follow_redirects=True) as http,
    ):
        answer = await http.get(f"{url}/start")
    assert (answer.status_code, answer.text, hits) == (200, "internal data", ["/start", "/secret"])


def _sized(body_size: int) -> Starlette:
    async def declared(request: Request) -> Response:
        return Response(b"x" * body_size)

    async def chunked(request: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(body_size // 1024):
                yield b"x" * 1024

        return StreamingResponse(chunks())

    async def gzipped(request: Request) -> Response:
        return Response(gzip.compress(b"x" * body_size), headers={"content-encoding": "gzip"})

    async def asked(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.headers["accept-encoding"])

    return Starlette(
        routes=[
            Route("/declared", declared),
            Route("/chunked", chunked),
            Route("/gz", gzipped),
            Route("/asked", asked),
        ]
    )


async def test_an_answer_over_the_cap_is_cut_off() -> None:
    async with serve(_sized(64 * 1024)) as url:
        async with egress.http_client(max_response_bytes=16 * 1024) as http:
            with pytest.raises(egress.ResponseTooLarge):
                await http.get(f"{url}/declared")  # refused on its Content-Length
            with pytest.raises(egress.ResponseTooLarge) as caught:
                await http.get(f"{url}/chunked")  # no length: stopped while reading
        async with egress.http_client(max_response_bytes=64 * 1024) as http:
            exact = await http.get(f"{url}/chunked")
    assert egress.public_message(caught.value) == "the answer was larger than allowed"
    assert len(exact.content) == 64 * 1024


async def test_the_operator_cap_is_a_ceiling_for_every_client() -> None:
    async with serve(_sized(8 * 1024)) as url:
        with patched_settings(egress_max_response_bytes="4096"):
            async with egress.http_client(max_response_bytes=1_048_576) as http:
                with pytest.raises(egress.ResponseTooLarge):
                    await http.get(f"{url}/chunked")


async def test_a_compressed_answer_is_refused_so_a_small_bomb_cannot_grow() -> None:
    async with (
        serve(_sized(1_048_576)) as url,
        egress.http_client(max_response_bytes=64 * 1024) as http,
    ):
        with pytest.raises(egress.ResponseRefused):
            await http.get(f"{url}/gz")  # 1 MB once inflated, a kilobyte on the wire
        asked = await http.get(f"{url}/asked", headers={"Accept-Encoding": "gzip"})
    assert asked.text == "identity"


async def test_a_trickling_answer_stops_at_the_request_deadline() -> None:
    """Each chunk arrives well within the read timeout; the whole answer does not."""

    async def trickle(request: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(50):
                yield b"."
                await asyncio.sleep(0.1)

        return StreamingResponse(chunks())

    async with serve(Starlette(routes=[Route("/", trickle)])) as url:
        started = asyncio.get_running_loop().time()
        async with egress.http_client(timeout_s=0.6) as http:
            with pytest.raises(egress.DeadlineExceeded) as caught:
                await http.get(url)
    assert asyncio.get_running_loop().time() - started < 2.5
    assert egress.public_message(caught.value) == "no answer in time"


async def test_unix_sockets_and_environment_proxies_are_not_ways_out(monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # would swallow every request
    async with serve(_named("direct", [])) as url, egress.http_client() as http:
        answer = await http.get(f"{url}/")
    assert answer.text.startswith("direct")


async def test_an_open_and_a_closed_internal_port_fail_alike(strict_egress) -> None:
    accepted: list[int] = []
    async with tcp_listener(accepted) as open_port:
        failures = []
        for port in (open_port, free_port()):
            with pytest.raises(egress.CannotConnect) as caught:
                await egress.open_socket("127.0.0.1", port, timeout_s=2)
            failures.append(egress.public_message(caught.value))
    assert failures == [egress.COULD_NOT_CONNECT, egress.COULD_NOT_CONNECT]
    assert accepted == []  # refused before any packet left


async def test_a_socket_is_connected_to_the_checked_address() -> None:
    accepted: list[int] = []
    resolver, asked = _staged(["127.0.0.1"])
    async with tcp_listener(accepted) as port:
        with (
            patched_settings(egress_allowed_hosts="smtp.test"),
            egress.resolver_override(resolver),
        ):
            sock = await egress.open_socket("smtp.test", port, timeout_s=2)
            peer = sock.getpeername()
            sock.close()
        with pytest.raises(egress.CannotConnect):
            await egress.open_socket("127.0.0.1", free_port(), timeout_s=2)
    assert (peer[0], peer[1], asked) == ("127.0.0.1", port, ["smtp.test"])


def _certificate_for(name: str, folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for `name` only (no IP address in it): (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def trusted_certificate(tmp_path, monkeypatch):
    """A certificate for `tls.test` that egress trusts (through SSL_CERT_FILE)."""
    cert_file, key_file = _certificate_for("tls.test", tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    egress_http._tls_context.cache_clear()
    yield cert_file, key_file
    egress_http._tls_context.cache_clear()


async def test_tls_is_verified_for_the_name_while_connecting_to_the_address(
    trusted_certificate,
) -> None:
    cert_file, key_file = trusted_certificate
    resolver, _ = _staged(["127.0.0.1"])
    app = _named("tls", [])
    async with serve(app, ssl_certfile=str(cert_file), ssl_keyfile=str(key_file)) as url:
        port = url.rsplit(":", 1)[1]
        with (
            patched_settings(egress_allowed_hosts="127.0.0.1,tls.test"),
            egress.resolver_override(resolver),
        ):
            async with egress.http_client() as http:
                by_name = await http.get(f"https://tls.test:{port}/")
                with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                    await http.get(f"https://127.0.0.1:{port}/")  # the certificate has no IP
    assert by_name.text == f"tls tls.test:{port}"
