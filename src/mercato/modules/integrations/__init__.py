"""Per-tenant integration settings (BigQuery, SFTP, SMTP, Google, Stripe), secrets sealed.

Other modules call `get_integration_config` (decrypted, for jobs), `open_sftp` and
`bigquery_client`.
"""

from mercato.modules.integrations.bigquery import bigquery_client
from mercato.modules.integrations.service import get_integration_config
from mercato.modules.integrations.sftp import open_sftp

__all__ = ["bigquery_client", "get_integration_config", "open_sftp"]
