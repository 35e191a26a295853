"""Test harness: a real PostgreSQL database and Redis for the whole run.

With `MERCATO_TEST_DATABASE_URL` / `MERCATO_TEST_REDIS_URL` set (CI points them at the
machine's servers) the suite creates a fresh database on that server and drops it at the
end; without them it starts the embedded servers under `.mercato-test/`. The database is
migrated by Alembic once; each test then owns its tenants and users (unique names), and
service-level tests can use `db_session`, a transaction rolled back at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from mercato.kernel import citus
from tests.chromium import ARGS as BROWSER_ARGS
from tests.chromium import MISSING as NO_BROWSER
from tests.chromium import find as find_browser

REPO = Path(__file__).resolve().parents[1]
EMBEDDED_DIR = REPO / ".mercato-test"
TEST_SECRET = "test-secret-" + "x" * 32  # test-only; a later check scans logs for it


def _create_database(server_url: str) -> tuple[str, str]:
    """Create a uniquely named database on `server_url`; return (its URL, its name)."""
    name = f"mercato_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_url(server_url).set(drivername="postgresql")
    # On a Citus coordinator (`make test-citus`) the database is made on every node.
    citus.create_database(admin.render_as_string(hide_password=False), name)
    url = make_url(server_url).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False), name


def _drop_database(server_url: str, name: str) -> None:
    admin = make_url(server_url).set(drivername="postgresql")
    citus.drop_database(admin.render_as_string(hide_password=False), name)


class _Servers:
    server_url: str = ""
    database_name: str = ""
    data_dir: str = ""
    log_file: str = ""


def pytest_configure(config: pytest.Config) -> None:
    """Point every MERCATO_* setting at the test servers before any test module imports."""
    from mercato.kernel import embedded

    server_url = os.environ.get("MERCATO_TEST_DATABASE_URL")
    if not server_url:
        EMBEDDED_DIR.mkdir(exist_ok=True)
        server_url = embedded.postgres_url(EMBEDDED_DIR).replace("/mercato?", "/postgres?")
    redis_url = os.environ.get("MERCATO_TEST_REDIS_URL") or embedded.redis_url(EMBEDDED_DIR)

    database_url, name = _create_database(server_url)
    _Servers.server_url, _Servers.database_name = server_url, name
    _Servers.data_dir = tempfile.mkdtemp(prefix="mercato-test-data-")
    _Servers.log_file = str(Path(_Servers.data_dir) / "suite.log")

    os.environ.update(
        {
            "MERCATO_ENV": "development",
            "MERCATO_DATABASE_URL": database_url,
            "MERCATO_REDIS_URL": redis_url,
            "MERCATO_DATA_DIR": _Servers.data_dir,
            "MERCATO_SECRET_KEY": TEST_SECRET,
            "MERCATO_LOG_FORMAT": "json",
            "MERCATO_LOG_LEVEL": "INFO",
            "MERCATO_LOG_FILE": _Servers.log_file,
            # The local fakes of Google, Stripe, OIDC, SMTP, SFTP and webhook receivers
            # listen on 127.0.0.1; tests that prove a refusal use `strict_egress`.
            "MERCATO_EGRESS_ALLOWED_HOSTS": "127.0.0.1",
            # The suite makes thousands of calls from one address in minutes; tests of the
            # limits themselves set tight budgets explicitly.
            "MERCATO_RATE_LIMITS": json.dumps(
                {
                    "auth": "1000000/minute",
                    "login": "1000000/minute",
                    "tenant_writes": "1000000/minute",
                    "default": "1000000/minute",
                }
            ),
        }
    )
    os.environ.pop("MERCATO_METRICS_TOKEN", None)
    os.environ.pop("MERCATO_APP_DATABASE_URL", None)

    from mercato.kernel.migrate import upgrade
    from mercato.settings import get_settings

    get_settings.cache_clear()
    upgrade(get_settings())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any log line of the whole suite holds a test secret or password."""
    from tests.factories import PASSWORD

    log = Path(_Servers.log_file)
    if not log.exists():
        return
    leaks = [
        line[:300]
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
        if TEST_SECRET in line or PASSWORD in line
    ]
    if leaks:
        session.config.get_terminal_writer().line(
            "SECRETS IN LOGS:\n" + "\n".join(leaks[:20]), red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `run_last` inspect what the rest of the suite left behind."""
    items.sort(key=lambda item: item.get_closest_marker("run_last") is not None)


def pytest_collection_finish(session: pytest.Session) -> None:
    """A run that kept tests marked `browser` (after `-m`, `-k`) and has no browser stops
    here, before any test runs, with the one line saying how to get one."""
    if any(item.get_closest_marker("browser") for item in session.items) and not find_browser():
        pytest.exit(NO_BROWSER, returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    """Headless Chromium (`tests.chromium.find`) for the tests marked `browser`."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(find_browser()), args=BROWSER_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _Servers.database_name:
        _drop_database(_Servers.server_url, _Servers.database_name)
    if _Servers.data_dir:
        shutil.rmtree(_Servers.data_dir, ignore_errors=True)
    from mercato.kernel import embedded

    embedded.release_all()


@pytest.fixture(scope="session")
def settings() -> object:
    from mercato.settings import get_settings

    return get_settings()


@pytest.fixture(scope="session")
async def app(settings: object) -> AsyncIterator[object]:
    """The application with its lifespan running (pools open) for the whole session."""
    from mercato.app import create_app

    application = create_app()
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: object) -> AsyncIterator[object]:
    import httpx

    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def strict_egress() -> Iterator[None]:
    """Egress as in production: no host allowed, so 127.0.0.1 is refused like any internal
    address (settings are cached, hence the cache clears around it)."""
    from mercato.settings import get_settings

    previous = os.environ["MERCATO_EGRESS_ALLOWED_HOSTS"]
    os.environ["MERCATO_EGRESS_ALLOWED_HOSTS"] = ""
    get_settings.cache_clear()
    try:
        yield
    finally:
        os.environ["MERCATO_EGRESS_ALLOWED_HOSTS"] = previous
        get_settings.cache_clear()


@pytest.fixture
async def db_session(app: object) -> AsyncIterator[object]:
    """An application-role session whose transaction is rolled back after the test."""
    from mercato.kernel.db import get_database

    async with get_database().sessionmaker() as session:
        await session.begin()
        try:
            yield session
        finally:
            await session.rollback()


@pytest.fixture(scope="session")
def owner_dsn() -> str:
    """libpq DSN of the owner role on the test database (for checks RLS must not hide)."""
    from mercato.kernel.db import libpq_url
    from mercato.settings import get_settings

    url = get_settings().database_url
    assert url is not None
    return libpq_url(url)
