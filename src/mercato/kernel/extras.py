"""Optional extras: features only some deployments need, installed with `mercato[<extra>]`.

`pip install mercato` leaves out the libraries of the S3 media store (`s3`), BigQuery
imports (`bigquery`), SFTP master data (`sftp`) and the embedded PostgreSQL and Redis of the
demo (`local`). Their code imports the library where the feature starts, inside
`needs_extra`, so a deployment without the extra runs everything else and a request or job
that needs it fails with a message naming the extra to install.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mercato.kernel.errors import Conflict


class ExtraNotInstalled(Conflict):
    slug, title = "extra-not-installed", "This feature is not installed on this server"


@contextmanager
def needs_extra(extra: str, feature: str) -> Iterator[None]:
    """Turn a missing library of `extra` into ExtraNotInstalled naming the install command."""
    try:
        yield
    except ModuleNotFoundError as missing:
        raise ExtraNotInstalled(
            f"{feature} needs the optional '{extra}' extra, which is not installed on this "
            f"server: pip install 'mercato[{extra}]' (missing module {missing.name!r})"
        ) from missing
