"""The business profile: name, address, phone (NAP), hours, links and SEO text of a tenant,
validated and rendered as schema.org JSON-LD.

Public surface: `get_profile(session, tenant_id)` (the row or None), `ProfileRead`,
`to_read`, and the event `profile.updated` `{"fields": [...]}`; for the demo seed,
`save_profile` and its `ProfileWrite`.
"""

from mercato.modules.profile.schemas import ProfileRead, ProfileWrite
from mercato.modules.profile.service import PROFILE_UPDATED, get_profile, save_profile, to_read

__all__ = [
    "PROFILE_UPDATED",
    "ProfileRead",
    "ProfileWrite",
    "get_profile",
    "save_profile",
    "to_read",
]
