"""Outgoing e-mail: an outbox table written in the business transaction, delivered by a job.

Public surface: `queue_mail` (from `service`).
"""

from mercato.modules.mail.service import queue_mail

__all__ = ["queue_mail"]
