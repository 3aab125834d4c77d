"""Settings from the environment (prefix UPWATCH_) and an optional .env file."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.network_ranges import NetworkList
from config.secret_keys import split_keys
from domain.check_options import split_resolver_address
from domain.limits import parse_time_zone


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="UPWATCH_", env_file=".env", extra="ignore")

    # Where the SQLite database (and its secret.key, lease files) lives when UPWATCH_DATABASE_URL
    # is unset; relative to the directory Upwatch starts in.
    data_dir: Path = Path("data")
    database_url: str = ""  # unset: sqlite:///<data_dir>/upwatch.db
    admin_password: SecretStr | None = None
    api_token: SecretStr | None = None
    # Encrypts stored secrets and signs acknowledgement links: one key, or several separated by
    # commas (the first is current, the others only decrypt; see config/secret_keys.py). Unset:
    # a key file beside the SQLite database, or a key kept in the PostgreSQL database.
    secret_key: SecretStr | None = None
    public_url: str = "http://localhost:8501"
    slack_webhook_url: SecretStr | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_to: str | None = None
    twilio_api_base: str | None = None
    monitors_file: str | None = None
    probes: bool = True
    # Ranges probes may never connect to (e.g. a cloud's metadata address), comma-separated CIDRs.
    probe_deny_nets: NetworkList = []
    # The DNS server probes look names up with ("9.9.9.9", "127.0.0.1:5353", "[::1]:53");
    # unset: the system's resolver (getaddrinfo, as every other program on the host).
    probe_resolver: str | None = None
    timezone: str = "UTC"  # calendar days of daily rollups and reports
    raw_retention_days: int = 90
    # How often the process holding the pruner lease prunes, and the others ask for the lease.
    prune_every_s: float = Field(default=24 * 3600, gt=0)
    status_title: str = "Service status"
    status_description: str = ""
    status_logo: str | None = None  # a local image file shown on the status page
    # Single sign-on (st.login, the [auth] section of .streamlit/secrets.toml): the e-mail
    # addresses of each role, comma-separated (access/sso); all empty keeps single sign-on off.
    # Alone, the allowed list names admins (as before roles); beside another list, viewers.
    sso_allowed_emails: str = ""
    sso_editor_emails: str = ""
    sso_admin_emails: str = ""
    # Log lines on stderr (config/logging_setup): from this level up (unset: INFO, and WARNING
    # in the child processes), as text or one JSON object a line.
    log_level: str | None = None
    log_format: Literal["text", "json"] = "text"
    # Requests a minute one API client (a token, else an address) may make, in bursts of a
    # tenth of that (at least 10); acknowledgement-link requests a minute per address.
    api_requests_per_minute: int = Field(default=600, ge=1)
    ack_requests_per_minute: int = Field(default=30, ge=1)

    @model_validator(mode="after")
    def _database_in_data_dir(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'upwatch.db'}"
        return self

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, name: str | None) -> str | None:
        if not name:
            return None
        if not isinstance(logging.getLevelName(name.upper()), int):
            raise ValueError("use DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return name.upper()

    @field_validator("secret_key")
    @classmethod
    def _key_list(cls, value: SecretStr | None) -> SecretStr | None:
        """'new, old,' is kept as 'new,old'; a blank variable is no key at all."""
        keys = split_keys(value.get_secret_value()) if value is not None else []
        return SecretStr(",".join(keys)) if keys else None

    @property
    def secret_keys(self) -> list[str]:
        """UPWATCH_SECRET_KEY's keys, current first; empty when it is unset."""
        return split_keys(self.secret_key.get_secret_value()) if self.secret_key else []

    @field_validator("probe_resolver")
    @classmethod
    def _resolver_address(cls, resolver: str | None) -> str | None:
        if not resolver or not resolver.strip():
            return None
        split_resolver_address(resolver.strip())  # ValueError says how to write it
        return resolver.strip()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        parse_time_zone(name)  # ValueError says what to write instead
        return name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
