"""The business profile: name, address, phone (NAP), hours, links and SEO text of a tenant,
validated and rendered as schema.org JSON-LD.

Public surface: `get_profile(session, tenant_id)` (the row or None), `ProfileRead`,
`to_read`, and the event `profile.updated` `{"fields": [...]}`; for the dashboard and the
demo seed, `save_profile` with its `ProfileWrite` / `ProfilePatch` and `validate_profile`.
"""

from mercato.modules.profile.schemas import ProfilePatch, ProfileRead, ProfileWrite
from mercato.modules.profile.service import PROFILE_UPDATED, get_profile, save_profile, to_read
from mercato.modules.profile.validation import validate_profile

__all__ = [
    "PROFILE_UPDATED",
    "ProfilePatch",
    "ProfileRead",
    "ProfileWrite",
    "get_profile",
    "save_profile",
    "to_read",
    "validate_profile",
]
