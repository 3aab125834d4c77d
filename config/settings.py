"""Settings from the environment (prefix UPWATCH_) and an optional .env file."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="UPWATCH_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///data/upwatch.db"
    admin_password: SecretStr | None = None
    api_token: SecretStr | None = None
    secret_key: SecretStr | None = None  # signs acknowledgement links; kept in the DB if unset
    public_url: str = "http://localhost:8501"
    slack_webhook_url: SecretStr | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_to: str | None = None
    twilio_api_base: str | None = None
    monitors_file: str | None = None
    probes: bool = True
    timezone: str = "UTC"  # calendar days of daily rollups and reports
    raw_retention_days: int = 90
    # How often the process holding the pruner lease prunes, and the others ask for the lease.
    prune_every_s: float = Field(default=24 * 3600, gt=0)
    status_title: str = "Service status"
    status_description: str = ""
    status_logo: str | None = None  # a local image file shown on the status page


    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            message = f"unknown time zone {name!r}: use an IANA name like Europe/Berlin"
            raise ValueError(message) from None
        return name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
