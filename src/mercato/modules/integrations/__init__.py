"""Per-tenant integration settings (BigQuery, SFTP, SMTP, Google, Stripe), secrets sealed.

Other modules call `get_integration_config` (decrypted, for jobs), `open_sftp` and
`bigquery_credentials` + `bigquery_client` (inside `bigquery_errors`). Both connections
go through egress, and their failures (`SftpFailed`, `BigQueryFailed`) carry messages
safe to show a tenant. The dashboard edits settings with `list_integrations` and
`put_integration` (shapes `IntegrationRead`, kinds `KINDS` / `IntegrationKind`) and tests
a connection with `run_check` (`ConnectionCheck`). Importing it installs a tenant's SMTP
integration as the way out of that tenant's mail (`tenant_smtp_server`).
"""

from mercato.modules.integrations.bigquery import (
    BigQueryFailed,
    bigquery_client,
    bigquery_credentials,
    bigquery_errors,
)
from mercato.modules.integrations.connection_checks import run_check
from mercato.modules.integrations.kinds import KINDS, IntegrationKind
from mercato.modules.integrations.schemas import ConnectionCheck, IntegrationRead
from mercato.modules.integrations.service import (
    get_integration_config,
    list_integrations,
    put_integration,
)
from mercato.modules.integrations.sftp import SftpFailed, open_sftp
from mercato.modules.integrations.tenant_mail import tenant_smtp_server

__all__ = [
    "KINDS",
    "BigQueryFailed",
    "ConnectionCheck",
    "IntegrationKind",
    "IntegrationRead",
    "SftpFailed",
    "bigquery_client",
    "bigquery_credentials",
    "bigquery_errors",
    "get_integration_config",
    "list_integrations",
    "open_sftp",
    "put_integration",
    "run_check",
    "tenant_smtp_server",
]
