"""Master data from the merchant's systems (sales reps and their locations) by SFTP.

Public surface: `sync_master_data` (used by ingestion jobs) and `list_sales_reps`.
"""

from mercato.modules.masterdata.service import SyncReport, list_sales_reps, sync_master_data

__all__ = ["SyncReport", "list_sales_reps", "sync_master_data"]
