"""Insights: the sales-rep task lists (purchase follow-ups, cart abandonment, search gaps,
repeat visitors) computed from events, with the status reps give each item."""

from mercato.modules.insights.export import tasks_csv
from mercato.modules.insights.schemas import (
    StatusFilter,
    TaskItem,
    TaskList,
    TaskPage,
    TaskState,
    TaskStatusUpdate,
)
from mercato.modules.insights.service import list_tasks, set_status

__all__ = [
    "StatusFilter",
    "TaskItem",
    "TaskList",
    "TaskPage",
    "TaskState",
    "TaskStatusUpdate",
    "list_tasks",
    "set_status",
    "tasks_csv",
]
