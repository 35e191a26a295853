"""The screen registry: every screen module is imported, and a broken one is never hidden."""

from __future__ import annotations

import secrets
import textwrap
import uuid
from pathlib import Path

import pytest

from mercato.kernel.security import Principal, PrincipalKind
from mercato.modules.identity.permissions import permissions_for_role
from mercato.web.registry import Section, discover, get_registry

SCREEN_MODULE = """
from mercato.web.pages import screen_router
from mercato.web.registry import Screen, Section
{imports}
router = screen_router()
SCREENS = [Screen("{key}", "{title}", "{path}", "{permission}", Section.{section})]
"""


def _package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, modules: dict[str, str]) -> str:
    name = f"screens_{secrets.token_hex(4)}"
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module, source in modules.items():
        (package / f"{module}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def _screen(key: str, permission: str, imports: str = "", section: str = "commerce") -> str:
    return SCREEN_MODULE.format(
        imports=imports,
        key=key,
        title=key.title(),
        path=key,
        permission=permission,
        section=section,
    )


def _principal(role: str) -> Principal:
    return Principal(
        kind=PrincipalKind.user,
        subject_id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        role=role,
        permissions=permissions_for_role(role),
    )


@pytest.mark.parametrize(
    "imports",
    [
        "from mercato.modules.no_such_capability import x",
        "from mercato.modules.identity import no_such_function",
        "import no_such_lib",
    ],
)
def test_a_screen_that_fails_to_import_stops_discovery(tmp_path, monkeypatch, imports) -> None:
    package = _package(
        tmp_path,
        monkeypatch,
        {
            "present": _screen("present", "catalog:read"),
            "broken": _screen("broken", "catalog:read", imports),
        },
    )
    with pytest.raises(ImportError):
        discover(package)


def test_navigation_follows_the_permission_matrix(tmp_path, monkeypatch) -> None:
    package = _package(
        tmp_path,
        monkeypatch,
        {
            "products": _screen("products", "catalog:read"),
            "keys": _screen("keys", "api_keys:read", section="settings"),
        },
    )
    registry = discover(package)
    viewer, admin = _principal("viewer"), _principal("admin")
    viewer_nav = registry.navigation(viewer, f"/app/t/{viewer.tenant_id}/products/42")
    assert [(group.section, [e.screen.key for e in group.entries]) for group in viewer_nav] == [
        (Section.commerce, ["products"])
    ]
    assert viewer_nav[0].entries[0].current is True
    admin_nav = registry.navigation(admin, "/elsewhere")
    assert [group.section for group in admin_nav] == [Section.commerce, Section.settings]


def test_the_dashboard_registers_the_identity_screens() -> None:
    keys = {screen.key for screen in get_registry().screens}
    assert {"overview", "settings.members", "settings.api_keys", "settings.audit"} <= keys
