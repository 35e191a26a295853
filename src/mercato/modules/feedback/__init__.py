"""Feedback from staff and shoppers, and its summary (satisfaction = share of 4 or 5 ratings).

Public surface: `summarise_feedback` (dashboards), the schemas below.
"""

from mercato.modules.feedback.schemas import FeedbackCreate, FeedbackRead, FeedbackSummary
from mercato.modules.feedback.service import summarise_feedback

__all__ = ["FeedbackCreate", "FeedbackRead", "FeedbackSummary", "summarise_feedback"]
