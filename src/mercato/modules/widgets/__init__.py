"""Embeddable recommendation widgets: one per placement, rendered by the widget script,
and the beacon that turns their views and clicks into tracking events.

Public surface: `get_widget`, `put_widget`, `list_widgets`, `delete_widget` and their
shapes `WidgetRead`, `WidgetWrite`, `Theme` (dashboard and demo seed), `render_preview`
(the dashboard's preview page) and `BeaconEvents`, the middleware the application installs.
"""

from mercato.modules.widgets.beacon import BeaconEvents
from mercato.modules.widgets.preview import render_preview
from mercato.modules.widgets.schemas import Theme, WidgetRead, WidgetWrite
from mercato.modules.widgets.service import delete_widget, get_widget, list_widgets, put_widget

__all__ = [
    "BeaconEvents",
    "Theme",
    "WidgetRead",
    "WidgetWrite",
    "delete_widget",
    "get_widget",
    "list_widgets",
    "put_widget",
    "render_preview",
]
