"""The channels module's commands (`mercato taxonomy …`), gathered for the `mercato` CLI."""

from mercato.modules.channels.taxonomy.cli import taxonomy_app

__all__ = ["taxonomy_app"]
