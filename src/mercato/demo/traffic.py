"""The demo's live traffic: the keys its simulated shoppers use, and the stream's process.

`serve --demo` keeps a publishable key (allowed on the demo storefront's origin) and a
secret key for the checkouts in `demo-traffic.json` beside the demo login (owner-readable
only), reusing them while they are live keys of the demo tenant, and starts
`mercato demo traffic` beside the server at `MERCATO_DEMO_TRAFFIC_RATE` visits a second.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from mercato.demo import DemoContext, demo_tenant_id
from mercato.modules.identity import ApiKeyCreate, ensure_system_key

if TYPE_CHECKING:  # the simulation loads numpy: not for every `mercato` command
    from mercato.simulation.traffic import TrafficTarget

KEYS_FILE = "demo-traffic.json"
DEMO_ORIGIN = "https://demo-shop.example"  # the demo widgets' product links point there
ACTOR = "system:demo"
PUBLISHABLE = ApiKeyCreate(
    name="Demo traffic (storefront)",
    kind="publishable",
    permission="read_write",
    allowed_origins=[DEMO_ORIGIN],
)
SECRET = ApiKeyCreate(name="Demo traffic (checkout)", kind="secret", permission="read_write")


def keys_path(data_dir: Path) -> Path:
    return Path(data_dir) / KEYS_FILE


def read_target(path: Path, url: str) -> TrafficTarget:
    """The stream's target from a keys file `ensure_traffic_keys` wrote, on `url`."""
    from mercato.simulation.traffic import TrafficTarget

    stored = json.loads(path.read_text())
    stored["url"] = url
    return TrafficTarget(**stored)


async def ensure_traffic_keys(context: DemoContext) -> Path:
    """The keys file, with keys that work on this database (new ones when not)."""
    from mercato.simulation.traffic import TrafficTarget

    path = keys_path(context.settings.data_dir)
    tenant_id = await demo_tenant_id(context)
    known: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if known.get("tenant_id") != str(tenant_id):
        known = {}
    async with context.database.tenant_session(tenant_id) as session:
        publishable = await ensure_system_key(
            session, tenant_id, PUBLISHABLE, actor=ACTOR, known=known.get("publishable_key")
        )
        secret = await ensure_system_key(
            session, tenant_id, SECRET, actor=ACTOR, known=known.get("secret_key")
        )
    target = TrafficTarget("", str(tenant_id), publishable, DEMO_ORIGIN, secret)
    _write_private(path, {k: v for k, v in asdict(target).items() if k != "url"})
    return path


def _write_private(path: Path, content: dict[str, str | None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(content, handle)
    scratch.replace(path)


def start_traffic(url: str, keys: Path, rate: float) -> subprocess.Popen[bytes]:
    """`mercato demo traffic` in its own process (the server's event loop stays the
    server's); it waits for the server to be ready, and stops when told to."""
    return subprocess.Popen(  # noqa: S603 - our own command, arguments we built
        [
            sys.executable,
            "-m",
            "mercato.cli",
            "demo",
            "traffic",
            "--url",
            url,
            "--keys-file",
            str(keys),
            "--rate",
            str(rate),
            "--quiet",
        ],
        stdin=subprocess.DEVNULL,
    )
