"""The tenant audit trail. Public surface: `record_audit`, `field_changes`."""

from mercato.modules.audit.service import field_changes, record_audit

__all__ = ["field_changes", "record_audit"]
