"""Service settings, read from the environment once and passed to whoever needs them."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("campaign-service", appauthor=False))


class Settings(BaseSettings):
    """Every setting of the service. Environment variables use the CAMPAIGN_SERVICE_ prefix."""

    model_config = SettingsConfigDict(env_prefix="CAMPAIGN_SERVICE_", extra="ignore")

    database_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "CAMPAIGN_SERVICE_DATABASE_URL"),
        description="PostgreSQL URL (postgresql:// or postgresql+asyncpg://). "
        "Unset: an embedded PostgreSQL is started in HOME/pgdata.",
    )
    home: Path = Field(
        default_factory=_default_home,
        description="Data directory for the embedded PostgreSQL.",
    )
    host: str = Field(default="127.0.0.1", description="Address `serve` listens on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `serve` listens on.")
    db_pool_size: int = Field(default=10, ge=1, description="Connections kept per process.")
    max_body_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        description="Largest accepted request body; larger ones get 413.",
    )
    default_org_concurrency_limit: int = Field(
        default=10, ge=1, description="Concurrency limit of orgs created without one."
    )
    log_level: str = Field(default="INFO", description="Python log level.")
    log_format: str = Field(
        default="auto",
        description="`json`, `text`, or `auto` (text on a terminal, JSON otherwise).",
    )
