"""Content pages: Markdown rendered to sanitized HTML, SEO fields, scheduled publishing,
revisions, and a public read for storefronts.

Public surface: `render_markdown` (any module showing merchant-written Markdown).
"""

from mercato.modules.content.rendering import render_markdown

__all__ = ["render_markdown"]
