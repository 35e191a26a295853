"""A webhook receiver on 127.0.0.1 that can hold the first request as long as a test wants.

It runs on threads (the standard library's server), so it keeps answering while the test
blocks on subprocesses and sleeps.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    delivery_id: str
    event: str
    body: bytes


@dataclass
class Receiver:
    url: str
    hold_first: bool
    requests: list[Received] = field(default_factory=list)
    first_arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, received: Received) -> bool:
        """Keep the request; True if it is the first one and must be held."""
        with self.lock:
            self.requests.append(received)
            first = len(self.requests) == 1
        if first:
            self.first_arrived.set()
        return first and self.hold_first


@contextmanager
def webhook_receiver(*, hold_first: bool = False) -> Iterator[Receiver]:
    """Answer 200 to every POST; with `hold_first`, the first waits until `release` is set."""
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            received = Received(
                self.headers.get("Mercato-Delivery", ""),
                self.headers.get("Mercato-Event", ""),
                body,
            )
            if receiver.record(received):
                receiver.release.wait(timeout=120)
            try:
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender is gone (killed mid-request)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", hold_first)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
