"""Content pages: Markdown rendered to sanitized HTML, SEO fields, scheduled publishing,
revisions, and a public read for storefronts.

Public surface: `render_markdown` (any module showing merchant-written Markdown); for the
dashboard, `list_pages`, `create_page` and its `PageCreate`; for the demo seed, which
writes as the system, `seed_page`.
"""

from mercato.modules.content.rendering import render_markdown
from mercato.modules.content.schemas import PageCreate
from mercato.modules.content.seeding import seed_page
from mercato.modules.content.service import create_page, list_pages

__all__ = ["PageCreate", "create_page", "list_pages", "render_markdown", "seed_page"]
