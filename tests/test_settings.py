"""Settings: MERCATO_* variables, and production refusing unsafe defaults."""

from __future__ import annotations

import pytest

from mercato.settings import MissingSecretError, Settings


def test_variables_are_read_with_the_mercato_prefix(monkeypatch) -> None:
    monkeypatch.setenv("MERCATO_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("MERCATO_CORS_ORIGINS", "https://shop.example, https://b.example")
    monkeypatch.setenv("MERCATO_CORS_CREDENTIALED_ORIGINS", "https://admin.example")
    settings = Settings()
    assert settings.log_level == "DEBUG"
    assert settings.cors_origins == ["https://shop.example", "https://b.example"]
    assert settings.cors_credentialed_origins == ["https://admin.example"]


def test_production_refuses_the_default_secret_and_names_it(monkeypatch) -> None:
    monkeypatch.delenv("MERCATO_SECRET_KEY", raising=False)
    settings = Settings(
        env="production",
        database_url="postgresql://db/mercato",
        redis_url="redis://cache",
        metrics_token="m" * 32,
        secret_key="dev-secret-change-me",
    )
    with pytest.raises(MissingSecretError, match="MERCATO_SECRET_KEY"):
        settings.check_production_secrets()


def test_production_names_every_missing_variable() -> None:
    settings = Settings(env="production", secret_key="", database_url=None, redis_url=None)
    with pytest.raises(MissingSecretError) as info:
        settings.check_production_secrets()
    for name in (
        "MERCATO_SECRET_KEY",
        "MERCATO_METRICS_TOKEN",
        "MERCATO_DATABASE_URL",
        "MERCATO_REDIS_URL",
    ):
        assert name in str(info.value)


def test_production_with_everything_set_starts() -> None:
    Settings(
        env="production",
        secret_key="s" * 48,
        metrics_token="m" * 32,
        database_url="postgresql://db/mercato",
        redis_url="redis://cache",
    ).check_production_secrets()


def test_development_tolerates_defaults() -> None:
    Settings(env="development", secret_key="dev-secret-change-me").check_production_secrets()


def test_a_worker_is_presumed_dead_only_after_two_missed_heartbeats() -> None:
    with pytest.raises(ValueError, match="MERCATO_JOB_STALLED_AFTER_S"):
        Settings(job_heartbeat_s=10, job_stalled_after_s=15)
    assert Settings(job_heartbeat_s=0.5, job_stalled_after_s=2).job_stalled_after_s == 2
