"""The merchant dashboard, served at `/app` by the API process (Jinja2 + htmx, SVG charts).

`mount_dashboard(app)` wires it in. Screens live in `mercato.web.screens` (one file per
capability) and register themselves through `mercato.web.registry`; docs/dashboard.md
says how to add one.
"""

from mercato.web.dashboard import mount_dashboard

__all__ = ["mount_dashboard"]
