"""Modules talk through each other's public API, never through each other's tables.

- A module's SQL names only its own tables. What another module may read in bulk is
  published as a view (e.g. tracking's `tracking_events`), which no ORM model maps.
- A module imports another only from its package (`from mercato.modules.catalog import
  get_products`), never from the files behind it; `make lint`'s import contracts keep the
  packages acyclic on top of this.
- So does everything above the modules (the dashboard, the demo seed, the simulation, the
  entry points), except where an entry point mounts a module's routes or commands.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

import mercato.modules
from mercato.kernel.orm import Base

MODULES = Path(mercato.modules.__file__).parent
SRC = MODULES.parent
MODULE_NAMES = sorted(p.name for p in MODULES.iterdir() if (p / "__init__.py").exists())
# A string is SQL when it has a statement keyword in capitals, as this codebase writes SQL.
SQL_STATEMENT = re.compile(r"\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|TRUNCATE)\b")
TABLE_NAMED = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE|ONLY)\s+([a-z_][a-z0-9_]*)", re.I)


def _table_owners() -> dict[str, str]:
    for name in MODULE_NAMES:
        if (MODULES / name / "models.py").exists():
            importlib.import_module(f"mercato.modules.{name}.models")
    owners: dict[str, str] = {}
    for mapper in Base.registry.mappers:
        parts = mapper.class_.__module__.split(".")
        if parts[:2] == ["mercato", "modules"]:
            for table in mapper.tables:
                owners[table.name] = parts[2]
    return owners


def _module_files(module: str) -> list[Path]:
    return sorted((MODULES / module).rglob("*.py"))


def _strings(tree: ast.AST) -> list[ast.Constant]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_the_table_owners_are_found() -> None:
    owners = _table_owners()
    assert owners["event"] == "tracking"
    assert owners["product"] == "catalog"
    assert owners["tenant"] == "identity"


@pytest.mark.parametrize("module", MODULE_NAMES)
def test_a_modules_sql_names_only_its_own_tables(module: str) -> None:
    owners = _table_owners()
    foreign = []
    for path in _module_files(module):
        for node in _strings(ast.parse(path.read_text(encoding="utf-8"))):
            if not SQL_STATEMENT.search(node.value):
                continue
            for match in TABLE_NAMED.finditer(node.value):
                owner = owners.get(match.group(1).lower())
                if owner is not None and owner != module:
                    foreign.append(f"{path.name}:{node.lineno} {match.group(1)} of {owner}")
    assert not foreign, f"{module} names other modules' tables: {foreign}"


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


def _reaches_behind_the_package(importer: str, name: str) -> bool:
    parts = name.split(".")
    if parts[:2] != ["mercato", "modules"] or len(parts) < 4:
        return False
    other, inner = parts[2], parts[3]
    # `from mercato.modules.catalog import get_products` names `catalog.get_products`:
    # an attribute of the package, not a file behind it.
    is_file = (MODULES / other / f"{inner}.py").exists() or (MODULES / other / inner).is_dir()
    return other != importer and is_file


@pytest.mark.parametrize("module", MODULE_NAMES)
def test_a_module_imports_others_only_through_their_package(module: str) -> None:
    behind = []
    for path in _module_files(module):
        for line, name in _imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
            if _reaches_behind_the_package(module, name):
                behind.append(f"{path.name}:{line} {name}")
    assert not behind, f"{module} reaches behind other modules' packages: {behind}"


def test_reaching_behind_a_package_is_recognised() -> None:
    assert _reaches_behind_the_package("cart", "mercato.modules.catalog.models")
    assert _reaches_behind_the_package("cart", "mercato.modules.catalog.models.Product")
    assert not _reaches_behind_the_package("cart", "mercato.modules.catalog.get_products")
    assert not _reaches_behind_the_package("catalog", "mercato.modules.catalog.models")


# What lives beside `modules/`: each top-level package or file of `mercato`.
OUTSIDE = sorted(
    p.name
    for p in SRC.iterdir()
    if p.name != "modules" and (p.suffix == ".py" or (p / "__init__.py").exists())
)
# Entry points mount each module's HTTP routes and CLI commands by the file they live in,
# as `import_all` finds models and jobs: those files are the module's outer face.
ENTRY_POINT_FILES = {
    "app.py": {"router", "audit_router", "auth_router", "tenants_router", "lean"},
    "cli.py": {"cli", "commands"},
}


def _allowed_outside(path: str, name: str) -> bool:
    inner = name.split(".")[3]
    return inner in ENTRY_POINT_FILES.get(path, set())


@pytest.mark.parametrize("top", OUTSIDE)
def test_code_above_the_modules_uses_them_only_through_their_package(top: str) -> None:
    root = SRC / top
    files = sorted(root.rglob("*.py")) if root.is_dir() else [root]
    behind = []
    for path in files:
        relative = path.relative_to(SRC).as_posix()
        for line, name in _imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
            # `top` is not a module, so every module is "another" one to it.
            if _reaches_behind_the_package(top, name) and not _allowed_outside(relative, name):
                behind.append(f"{relative}:{line} {name}")
    assert not behind, f"{top} reaches behind module packages: {behind}"


def test_the_code_above_the_modules_is_found() -> None:
    assert {"app.py", "cli.py", "demo", "simulation", "web", "worker.py"} <= set(OUTSIDE)
    assert not set(OUTSIDE) & set(MODULE_NAMES)


def test_only_route_and_command_files_are_entry_point_exceptions() -> None:
    assert _allowed_outside("app.py", "mercato.modules.catalog.router")
    assert _allowed_outside("cli.py", "mercato.modules.recommendations.cli.reco_app")
    assert not _allowed_outside("app.py", "mercato.modules.widgets.beacon")
    assert not _allowed_outside("web/pages.py", "mercato.modules.identity.models")
