"""Outgoing e-mail: an outbox table written in the business transaction, delivered by a job.

Public surface: `queue_mail` (from `service`), the delivery record, `mail_outcomes`, and
the port through which a tenant's own SMTP server is found (`tenant_smtp_with`,
`SmtpServer`), which the integrations module installs.
"""

from mercato.modules.mail.outcomes import MailOutcome, mail_outcomes
from mercato.modules.mail.service import queue_mail
from mercato.modules.mail.tenant_servers import SmtpServer, tenant_smtp_with

__all__ = ["MailOutcome", "SmtpServer", "mail_outcomes", "queue_mail", "tenant_smtp_with"]
