"""What each integration kind holds, and which of its fields are secrets.

Each kind is a Pydantic model of its whole configuration. Secret fields are never
returned by the API: they read back as `{"set": true}`, with the last four characters
(`"hint": "••••1234"`) only for API keys, whose tail helps tell two keys apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mercato.modules.integrations.bigquery import accepted_token_uris

Host = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.\-:\[\]]+$")]
Port = Annotated[int, Field(ge=1, le=65535)]
Secret = Annotated[str, Field(min_length=1, max_length=20_000)]
RemotePath = Annotated[str, Field(min_length=1, max_length=500)]


class _Kind(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SftpSettings(_Kind):
    host: Host
    port: Port = 22
    username: Annotated[str, Field(min_length=1, max_length=200)]
    password: Secret | None = None
    private_key: Secret | None = None
    host_key: str | None = Field(
        default=None, description="The server's public host key (OpenSSH format) to pin"
    )
    users_path: RemotePath = "users.csv"
    locations_path: RemotePath = "locations.csv"
    daily_sync: bool = True

    @model_validator(mode="after")
    def _one_credential(self) -> SftpSettings:
        if not self.password and not self.private_key:
            raise ValueError("set `password` or `private_key`")
        return self


class SmtpSettings(_Kind):
    host: Host
    port: Port = 587
    username: str | None = None
    password: Secret | None = None
    security: Literal["starttls", "tls", "none"] = "starttls"
    from_address: Annotated[str, Field(min_length=3, max_length=320)]


class BigQuerySettings(_Kind):
    project_id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9\-]{4,61}[a-z0-9]$")]
    dataset: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,1024}$")]
    location: str | None = None
    credentials_json: Secret = Field(description="A service account key file (JSON)")

    @field_validator("credentials_json")
    @classmethod
    def _service_account(cls, value: str) -> str:
        try:
            info = json.loads(value)
        except ValueError as exc:
            raise ValueError("credentials_json is not JSON") from exc
        if not isinstance(info, dict) or info.get("type") != "service_account":
            raise ValueError("credentials_json must be a service account key file")
        for name in ("client_email", "private_key", "token_uri"):
            if not info.get(name):
                raise ValueError(f"credentials_json lacks `{name}`")
        if info["token_uri"] not in accepted_token_uris():
            raise ValueError("credentials_json's `token_uri` must be Google's token endpoint")
        return value


class GoogleSettings(_Kind):
    client_id: Annotated[str, Field(min_length=1, max_length=500)]
    client_secret: Secret
    refresh_token: Secret | None = None
    merchant_id: str | None = None
    business_account_id: str | None = None


class StripeSettings(_Kind):
    secret_key: Annotated[str, Field(pattern=r"^(sk|rk)_(test|live)_[A-Za-z0-9]{8,}$")]
    publishable_key: Annotated[str, Field(pattern=r"^pk_(test|live)_[A-Za-z0-9]{8,}$")] | None = (
        None
    )
    webhook_secret: Annotated[str, Field(pattern=r"^whsec_[A-Za-z0-9]{8,}$")] | None = None


@dataclass(frozen=True)
class KindSpec:
    model: type[_Kind]
    secrets: tuple[str, ...]
    hinted: tuple[str, ...] = ()  # secrets whose last four characters may be shown


KINDS: dict[str, KindSpec] = {
    "sftp": KindSpec(SftpSettings, ("password", "private_key")),
    "smtp": KindSpec(SmtpSettings, ("password",)),
    "bigquery": KindSpec(BigQuerySettings, ("credentials_json",)),
    "google": KindSpec(GoogleSettings, ("client_secret", "refresh_token")),
    "stripe": KindSpec(
        StripeSettings, ("secret_key", "webhook_secret"), ("secret_key", "webhook_secret")
    ),
}
IntegrationKind = Literal["bigquery", "sftp", "smtp", "google", "stripe"]


def masked(spec: KindSpec, secrets: dict[str, str]) -> dict[str, Any]:
    """How the API shows secret fields: set or not, and a hint for API keys."""
    shown: dict[str, Any] = {}
    for name in spec.secrets:
        value = secrets.get(name)
        entry: dict[str, Any] = {"set": bool(value)}
        if value and name in spec.hinted and len(value) >= 12:
            entry["hint"] = "••••" + value[-4:]
        shown[name] = entry
    return shown
