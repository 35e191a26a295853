"""The tenant's Google link: OAuth consent and tokens (`oauth`), and fresh access tokens for
jobs that call Google on the tenant's behalf (`credentials`).

Feeds and the Business Profile import both call Google through this link; what they use is
listed here.
"""

from mercato.modules.channels.google.credentials import GoogleCredentials
from mercato.modules.channels.google.oauth import (
    BUSINESS_SCOPE,
    GoogleLinkRevoked,
    GoogleNotLinked,
    GoogleUnavailable,
    get_link,
)

__all__ = [
    "BUSINESS_SCOPE",
    "GoogleCredentials",
    "GoogleLinkRevoked",
    "GoogleNotLinked",
    "GoogleUnavailable",
    "get_link",
]
