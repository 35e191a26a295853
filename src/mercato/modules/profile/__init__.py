"""The business profile: name, address, phone (NAP), hours, links and SEO text of a tenant,
validated and rendered as schema.org JSON-LD.

Public surface: `get_profile(session, tenant_id)` (the row or None), `ProfileRead`,
`to_read`, and the event `profile.updated` `{"fields": [...]}`.
"""

from mercato.modules.profile.schemas import ProfileRead
from mercato.modules.profile.service import PROFILE_UPDATED, get_profile, to_read

__all__ = ["PROFILE_UPDATED", "ProfileRead", "get_profile", "to_read"]
