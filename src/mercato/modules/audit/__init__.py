"""The tenant audit trail. Public surface: `record_audit`, `field_changes`, `list_entries`.

It depends on no other module; identity serves the trail's read route.
"""

from mercato.modules.audit.service import field_changes, list_entries, record_audit

__all__ = ["field_changes", "list_entries", "record_audit"]
