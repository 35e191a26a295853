"""Egress: the one way out for every outbound connection (HTTP, SSH, SMTP).

It resolves a host once, refuses internal and reserved addresses unless the operator
allows the host (`MERCATO_EGRESS_ALLOWED_HOSTS`), connects to the address it checked,
re-checks every redirect hop, and caps answers in size and time. Tenants see only
`public_message(...)`; the details go to the log. See docs/egress.md.
"""

from mercato.kernel.egress.addresses import refusal_reason
from mercato.kernel.egress.errors import (
    COULD_NOT_CONNECT,
    CannotConnect,
    DeadlineExceeded,
    EgressRefused,
    ResponseRefused,
    ResponseTooLarge,
    public_message,
)
from mercato.kernel.egress.http import http_client
from mercato.kernel.egress.targets import (
    Resolver,
    Target,
    literal_refusal,
    open_socket,
    resolve_target,
    resolver_override,
)

__all__ = [
    "COULD_NOT_CONNECT",
    "CannotConnect",
    "DeadlineExceeded",
    "EgressRefused",
    "Resolver",
    "ResponseRefused",
    "ResponseTooLarge",
    "Target",
    "http_client",
    "literal_refusal",
    "open_socket",
    "public_message",
    "refusal_reason",
    "resolve_target",
    "resolver_override",
]
