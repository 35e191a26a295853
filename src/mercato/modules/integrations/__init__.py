"""Per-tenant integration settings (BigQuery, SFTP, SMTP, Google, Stripe), secrets sealed.

Other modules call `get_integration_config` (decrypted, for jobs), `open_sftp` and
`bigquery_credentials` + `bigquery_client` (inside `bigquery_errors`). Both connections
go through egress, and their failures (`SftpFailed`, `BigQueryFailed`) carry messages
safe to show a tenant.
"""

from mercato.modules.integrations.bigquery import (
    BigQueryFailed,
    bigquery_client,
    bigquery_credentials,
    bigquery_errors,
)
from mercato.modules.integrations.service import get_integration_config
from mercato.modules.integrations.sftp import SftpFailed, open_sftp

__all__ = [
    "BigQueryFailed",
    "SftpFailed",
    "bigquery_client",
    "bigquery_credentials",
    "bigquery_errors",
    "get_integration_config",
    "open_sftp",
]
