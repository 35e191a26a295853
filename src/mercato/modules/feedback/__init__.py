"""Feedback from staff and shoppers, and its summary (satisfaction = share of 4 or 5 ratings).

Public surface: `summarise_feedback` and `list_feedback` (dashboards), the schemas below,
and for the demo seed, which writes as the system, `has_feedback` and
`seed_shopper_feedback`.
"""

from mercato.modules.feedback.schemas import FeedbackCreate, FeedbackRead, FeedbackSummary
from mercato.modules.feedback.seeding import has_feedback, seed_shopper_feedback
from mercato.modules.feedback.service import list_feedback, summarise_feedback

__all__ = [
    "FeedbackCreate",
    "FeedbackRead",
    "FeedbackSummary",
    "has_feedback",
    "list_feedback",
    "seed_shopper_feedback",
    "summarise_feedback",
]
