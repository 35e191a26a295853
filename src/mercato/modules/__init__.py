"""Domain modules. Each is a package with models, schemas, service, router and jobs.

`import_all("models")` imports that file of every module, so Alembic sees every table and
the worker knows every task without a hand-kept list.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from pathlib import Path
from types import ModuleType

from mercato.kernel.jobs import job_app


def module_names() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if info.ispkg)


def import_all(submodule: str) -> list[ModuleType]:
    imported = []
    for name in module_names():
        dotted = f"{__name__}.{name}.{submodule}"
        if importlib.util.find_spec(dotted) is not None:
            imported.append(importlib.import_module(dotted))
    return imported


# Jobs are deferred by task name (`kernel.jobs.defer`): whatever process defers one first
# imports every module's jobs, so the task is known with its queue and options.
job_app.import_paths = [
    f"{__name__}.{name}.jobs"
    for name in module_names()
    if (Path(__file__).parent / name / "jobs.py").exists()
]
