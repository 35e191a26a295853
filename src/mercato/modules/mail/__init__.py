"""Outgoing e-mail: an outbox table written in the business transaction, delivered by a job.

Public surface: `queue_mail` (from `service`) and the delivery record, `mail_outcomes`.
"""

from mercato.modules.mail.outcomes import MailOutcome, mail_outcomes
from mercato.modules.mail.service import queue_mail

__all__ = ["MailOutcome", "mail_outcomes", "queue_mail"]
