"""What goes wrong on the way out, and the words a tenant may see for it.

The errors subclass httpx's, so an HTTP caller's `except httpx.HTTPError` covers a refusal
as well as a broken connection. `public_message` turns any of them into a sentence that
says nothing the remote side (or our network) said: a refused address, an unknown name, a
closed port and a silently dropped one all read "could not connect", so the answer is no
port scanner. The details go to the log.
"""

from __future__ import annotations

import httpx


class CannotConnect(httpx.ConnectError):
    """No connection was made: the name did not resolve, or no address accepted it."""


class EgressRefused(CannotConnect):
    """The target resolves to an address egress never connects to (and is not allowed)."""


class ResponseTooLarge(httpx.TransportError):
    """The answer went past the size cap; the rest was not read."""


class ResponseRefused(httpx.TransportError):
    """The answer came in a form egress does not accept (compressed despite `identity`)."""


class DeadlineExceeded(httpx.TimeoutException):
    """The whole request (connect, send, answer) took longer than its time limit."""


COULD_NOT_CONNECT = "could not connect"


def public_message(exc: BaseException) -> str:
    """A tenant-safe description of an outbound failure."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | OSError):
        return COULD_NOT_CONNECT
    if isinstance(exc, ResponseTooLarge):
        return "the answer was larger than allowed"
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "no answer in time"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    return "the connection failed"
