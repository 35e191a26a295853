"""A stand-in SMS/push gateway that checks Mercato's webhook signature as a real one would."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOLERANCE_S = 300


@dataclass
class FakeGateway:
    secret: bytes
    received: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    idempotency_keys: list[str] = field(default_factory=list)

    def _valid(self, request: Request, body: bytes) -> bool:
        timestamp = request.headers.get("x-mercato-timestamp", "")
        sent = request.headers.get("x-mercato-signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE_S:
            return False
        expected = hmac.new(self.secret, f"{timestamp}.".encode() + body, hashlib.sha256)
        return hmac.compare_digest(sent, "sha256=" + expected.hexdigest())

    async def _messages(self, request: Request) -> JSONResponse:
        body = await request.body()
        if not self._valid(request, body):
            self.rejected.append(request.headers.get("x-mercato-signature", ""))
            return JSONResponse({"error": "bad signature"}, status_code=401)
        self.received.append(json.loads(body))
        self.idempotency_keys.append(request.headers.get("idempotency-key", ""))
        return JSONResponse({"id": f"gw-{len(self.received)}"}, status_code=202)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/messages", self._messages, methods=["POST"])])
