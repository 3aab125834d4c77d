"""Stored secrets are encrypted at rest, read back plain, rotate, and the database file is private.

Secrets stored: a monitor's basic-auth password and a custom header, another's bearer token, a
Slack webhook channel's URL, and the link-signing key. Each test runs on the per-test SQLite file
and, where the `backend` fixture is used, on PostgreSQL too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from pydantic import SecretStr
from sqlalchemy import create_engine, select, text

from checks.run_check import check_now
from composition.cli import main as upwatch
from config.secret_keys import LINK_SIGNING, derive_key, fernet_key
from config.settings import Settings, get_settings
from domain.monitor_input import parse_monitor_input
from notifiers.ack import InvalidLink, ack_token, verify_token
from notifiers.message import Notice
from notifiers.registry import build_channel
from storage.alerting_admin import ChannelSpec, channel_row, save_channel
from storage.db import get_engine
from storage.key_source import stored_signing_key
from storage.migrate import alembic_config
from storage.models import Monitor
from storage.monitors import create_monitor, get_monitor
from storage.schedule import active_check_specs
from storage.secret_box import SEALED, SEALED_TEXT_PREFIX, SecretBox, SecretsUnreadable
from storage.tables import table_of
from tests.fakes import FakeHTTPServer
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)

PASSWORD = "pw-correct-horse-battery"
HEADER_VALUE = "hdr-api-key-0451"
TOKEN = "tok-bearer-8d2f7a"
HOOK_PATH = "/services/T000/B000/hook-secret-77aa"
NOTICE = Notice(kind="down", monitor_name="API", monitor_slug="api", state="down",
                reason="HTTP 503", since=datetime(2024, 5, 1, tzinfo=UTC),
                dashboard_url="http://127.0.0.1/", status_url="http://127.0.0.1/status",
                event_id=1)


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as running:
        yield running


@dataclass(frozen=True)
class Stored:
    basic: str  # slugs
    bearer: str
    plain: str
    channel_id: int
    signing_key: str

    @property
    def secrets(self) -> list[str]:
        return [PASSWORD, HEADER_VALUE, TOKEN, HOOK_PATH.rsplit("/", 1)[1], self.signing_key]


def store_secrets(server: FakeHTTPServer) -> Stored:
    basic = create_monitor(parse_monitor_input({
        "name": "Basic", "url": f"{server.url}/basic", "options": {
            "basic_auth_user": "alice", "basic_auth_password": PASSWORD,
            "headers": {"X-Api-Key": HEADER_VALUE}}}))
    bearer = create_monitor(parse_monitor_input({
        "name": "Bearer", "url": f"{server.url}/bearer", "options": {"bearer_token": TOKEN}}))
    plain = create_monitor(parse_monitor_input({"name": "Plain", "url": f"{server.url}/plain"}))
    channel = save_channel(ChannelSpec(
        name="ops", kind="slack_webhook", config={},
        secrets={"webhook_url": f"{server.url}{HOOK_PATH}"}, events=["down"]))
    return Stored(basic.slug, bearer.slug, plain.slug, channel.id, stored_signing_key(get_engine()))


def raw_values() -> list[str]:
    """The sealed columns as the database holds them, bypassing the models' column types."""
    with get_engine().connect() as connection:
        return [str(value) for query in (
            "SELECT CAST(options AS TEXT) FROM monitor",
            "SELECT CAST(secrets AS TEXT) FROM alert_channel",
            "SELECT secret_key FROM alert_settings",
        ) for value in connection.execute(text(query)).scalars() if value is not None]


def sealed_tokens(value: object) -> list[str]:
    if isinstance(value, str):
        return [value.removeprefix(SEALED_TEXT_PREFIX)] if value.startswith(
            SEALED_TEXT_PREFIX) else []
    if isinstance(value, dict):
        if set(value) == {SEALED}:
            return [value[SEALED]]
        return [token for item in value.values() for token in sealed_tokens(item)]
    return []


def stored_tokens() -> list[str]:
    return [token for raw in raw_values()
            for token in sealed_tokens(raw if raw.startswith(SEALED_TEXT_PREFIX)
                                       else json.loads(raw))]


def use_keys(monkeypatch: pytest.MonkeyPatch, keys: str | None) -> None:
    """Restart with other UPWATCH_SECRET_KEY keys: new settings, a new engine."""
    if get_engine.cache_info().currsize:  # an engine is open (the last start may have refused)
        get_engine().dispose()
    if keys is None:
        monkeypatch.delenv("UPWATCH_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("UPWATCH_SECRET_KEY", keys)
    get_settings.cache_clear()
    get_engine.cache_clear()


def assert_read_back_plain(stored: Stored, server: FakeHTTPServer) -> None:
    """Every part that uses a secret sees it plain: the probes, the channel, the forms' source."""
    basic, bearer = get_monitor(stored.basic), get_monitor(stored.bearer)
    assert basic is not None and bearer is not None
    assert basic.options["basic_auth_password"] == PASSWORD
    assert basic.options["headers"] == {"X-Api-Key": HEADER_VALUE}
    assert bearer.options["bearer_token"] == TOKEN
    specs = {spec.url.rsplit("/", 1)[1]: spec for spec in active_check_specs().values()}
    seen = len(server.requests)
    for name in ("basic", "bearer"):
        spec = specs[name]
        assert check_now(spec.kind, spec.url, spec.timeout, spec.options).outcome == "up"
    basic_request, bearer_request = server.requests[seen:seen + 2]
    assert basic_request.basic_auth() == ("alice", PASSWORD)
    assert basic_request.headers["x-api-key"] == HEADER_VALUE
    assert bearer_request.headers["authorization"] == f"Bearer {TOKEN}"
    row = channel_row(stored.channel_id)
    assert row is not None
    build_channel(row["name"], row["kind"], row["config"], row["secrets"]).send(NOTICE)
    assert server.requests[-1].path == HOOK_PATH
    assert stored_signing_key(get_engine()) == stored.signing_key


def test_the_database_file_holds_no_secret_and_the_app_reads_them_plain(
    server: FakeHTTPServer, isolated_settings: Path
) -> None:
    stored = store_secrets(server)
    get_engine().dispose()  # every page on disk: the WAL is checkpointed into the file
    files = [path for path in isolated_settings.parent.iterdir()
             if path.name.startswith(isolated_settings.name)]
    on_disk = b"".join(path.read_bytes() for path in files)
    assert b"Basic" in on_disk  # the rows are there
    for secret in stored.secrets:
        assert secret.encode() not in on_disk
    assert_read_back_plain(stored, server)


@pytest.mark.usefixtures("backend")
def test_the_stored_columns_hold_only_sealed_secrets(server: FakeHTTPServer) -> None:
    stored = store_secrets(server)
    raw = "\n".join(raw_values())
    for secret in stored.secrets:
        assert secret not in raw
    assert raw.count(f'"{SEALED}"') == 4 and raw.count(SEALED_TEXT_PREFIX) == 1
    assert "alice" in raw  # only the secrets are sealed: the user name is not one
    assert_read_back_plain(stored, server)


@pytest.mark.usefixtures("backend")
def test_a_monitor_without_secrets_is_stored_as_it_was_and_read_without_keys(
    server: FakeHTTPServer,
) -> None:
    stored = store_secrets(server)
    monitors = table_of(Monitor)
    # An engine that has no keys at all reads the plain monitor, so reading it took no crypto.
    keyless = create_engine(get_engine().url)
    try:
        with keyless.connect() as connection:
            plain = connection.execute(select(monitors.c.options)
                                       .where(monitors.c.slug == stored.plain)).scalar_one()
            assert plain["headers"] == {} and plain["bearer_token"] is None
            with pytest.raises(RuntimeError, match="no secret box"):
                connection.execute(select(monitors.c.options)
                                   .where(monitors.c.slug == stored.bearer)).scalar_one()
    finally:
        keyless.dispose()


@pytest.mark.usefixtures("backend")
def test_after_rotation_every_secret_opens_with_the_new_key_alone(
    server: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_keys(monkeypatch, "old-key-4f1c9a")
    stored = store_secrets(server)
    old_tokens = stored_tokens()
    assert len(old_tokens) == 5
    use_keys(monkeypatch, "new-key-93be20, old-key-4f1c9a")
    upwatch(["rotate-secrets"])
    assert "2 monitors and 1 channels, and the link-signing key" in capsys.readouterr().out
    new_tokens = stored_tokens()
    assert len(new_tokens) == 5 and not set(new_tokens) & set(old_tokens)
    only_new, only_old = SecretBox(["new-key-93be20"]), SecretBox(["old-key-4f1c9a"])
    opened = {only_new.open(token) for token in new_tokens}
    assert {PASSWORD, HEADER_VALUE, TOKEN, stored.signing_key} <= opened
    for token in new_tokens:
        with pytest.raises(SecretsUnreadable):
            only_old.open(token)
    use_keys(monkeypatch, "new-key-93be20")
    assert_read_back_plain(stored, server)


@pytest.mark.usefixtures("backend")
def test_keys_that_open_nothing_stored_refuse_the_start(
    server: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_keys(monkeypatch, "the-right-key")
    store_secrets(server)
    try:
        use_keys(monkeypatch, "a-wrong-key")
        with pytest.raises(SecretsUnreadable, match=r"with UPWATCH_SECRET_KEY\. Set"):
            get_engine()
        use_keys(monkeypatch, "a-wrong-key,the-right-key")
        get_engine()  # the right key listed, even second, opens them
    finally:
        use_keys(monkeypatch, "the-right-key")


def test_without_the_variable_the_key_is_a_private_file_beside_the_database(
    server: FakeHTTPServer, isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = store_secrets(server)
    key_file = isolated_settings.with_name("secret.key")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 32 and all(SecretBox([key]).open(token) for token in stored_tokens())
    use_keys(monkeypatch, None)
    assert_read_back_plain(stored, server)  # the same key on the next start
    key_file.unlink()  # lost: a new key is made, and it opens nothing stored
    use_keys(monkeypatch, None)
    with pytest.raises(SecretsUnreadable, match=r"the key file .*secret\.key"):
        get_engine()
    key_file.write_text(key)  # restored from the backup
    use_keys(monkeypatch, None)
    assert_read_back_plain(stored, server)


# -- the migration that seals what older versions stored in plain --------------------------------

MONITOR_ROWS = sa.table(
    "monitor", *(sa.column(name) for name in (
        "slug", "name", "kind", "url", "interval", "timeout", "public", "paused",
        "failures_before_down", "successes_before_up", "sort_order", "show_url", "severity")),
    sa.column("options", sa.JSON), sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)))
CHANNEL_ROWS = sa.table(
    "alert_channel", *(sa.column(name) for name in (
        "name", "kind", "source", "enabled", "escalate_after_minutes", "quiet_timezone",
        "quiet_min_severity")),
    sa.column("config", sa.JSON), sa.column("secrets", sa.JSON), sa.column("events", sa.JSON))
SETTINGS_ROWS = sa.table("alert_settings", *(sa.column(name) for name in (
    "id", "remind_every_minutes", "flap_changes", "flap_window_minutes", "secret_key")))


def write_plain_rows_at_revision_0002(server: FakeHTTPServer) -> Stored:
    """A database as the version before sealing left it: its schema, its plain secrets."""
    engine = get_engine()
    now = datetime.now(UTC)
    monitor = {"kind": "http", "interval": 60, "timeout": 10.0, "public": False,
               "paused": False, "failures_before_down": 2, "successes_before_up": 1,
               "sort_order": 0, "show_url": False, "severity": "high", "created_at": now,
               "updated_at": now}
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0002")
        connection.execute(sa.insert(MONITOR_ROWS), [
            {**monitor, "slug": "basic", "name": "Basic", "url": f"{server.url}/basic",
             "options": {"basic_auth_user": "alice", "basic_auth_password": PASSWORD,
                         "headers": {"X-Api-Key": HEADER_VALUE}}},
            {**monitor, "slug": "bearer", "name": "Bearer", "url": f"{server.url}/bearer",
             "options": {"bearer_token": TOKEN, "headers": {}}},
            {**monitor, "slug": "plain", "name": "Plain", "url": f"{server.url}/plain",
             "options": {}},
        ])
        channel_id: int = connection.execute(sa.insert(CHANNEL_ROWS).values(
            name="ops", kind="slack_webhook", source="db", enabled=True,
            escalate_after_minutes=0, quiet_timezone="UTC", quiet_min_severity="critical",
            config={}, secrets={"webhook_url": f"{server.url}{HOOK_PATH}"}, events=["down"],
        ).returning(sa.column("id"))).scalar_one()
        connection.execute(sa.insert(SETTINGS_ROWS).values(
            id=1, remind_every_minutes=0, flap_changes=5, flap_window_minutes=10,
            secret_key="plain-signing-key-from-before"))
    engine.dispose()
    get_engine.cache_clear()
    return Stored("basic", "bearer", "plain", channel_id, "plain-signing-key-from-before")


@pytest.mark.usefixtures("backend")
def test_the_migration_seals_the_secrets_older_versions_stored_plain(
    server: FakeHTTPServer,
) -> None:
    stored = write_plain_rows_at_revision_0002(server)
    with get_engine().connect() as connection:  # upgrades to the newest revision
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            == ScriptDirectory.from_config(alembic_config()).get_current_head()
    raw = "\n".join(raw_values())
    for secret in stored.secrets:
        assert secret not in raw
    assert len(stored_tokens()) == 5
    assert_read_back_plain(stored, server)


# -- the keys themselves ------------------------------------------------------------------------


def test_the_variable_lists_keys_current_first() -> None:
    listed = Settings(secret_key=SecretStr(" new-key , old-key,"))
    assert listed.secret_keys == ["new-key", "old-key"]
    assert listed.secret_key is not None
    assert listed.secret_key.get_secret_value() == "new-key,old-key"
    assert Settings(secret_key=SecretStr(" , ")).secret_key is None
    assert Settings().secret_keys == []


def test_links_and_secrets_each_use_their_own_key_derived_from_the_secret() -> None:
    signature = ack_token("k", 42, now=1000).rsplit(".", 1)[1]
    expires = 1000 + 24 * 3600
    raw = hmac.new(b"k", f"ack:42:{expires}".encode(), hashlib.sha256).hexdigest()[:32]
    assert signature != raw
    assert derive_key("k", LINK_SIGNING) not in (b"k", fernet_key("k"))


def test_a_link_signed_with_a_listed_old_key_still_verifies() -> None:
    old_link = ack_token("old-key", 42, now=1000)
    assert verify_token("new-key,old-key", old_link, now=1000) == 42
    new_link = ack_token("new-key,old-key", 42, now=1000)
    assert verify_token("new-key", new_link, now=1000) == 42
    with pytest.raises(InvalidLink, match="not valid"):
        verify_token("new-key", old_link, now=1000)


# -- file modes ---------------------------------------------------------------------------------


def test_the_database_its_directory_and_its_wal_are_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: FakeHTTPServer
) -> None:
    database = tmp_path / "fresh" / "data" / "upwatch.db"
    monkeypatch.setenv("UPWATCH_DATABASE_URL", f"sqlite:///{database}")
    use_keys(monkeypatch, None)
    store_secrets(server)  # the pool keeps a connection open: the -wal and -shm files exist
    assert stat.S_IMODE(database.parent.stat().st_mode) == 0o700
    for suffix in ("", "-wal", "-shm"):
        path = database.with_name(database.name + suffix)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert stat.S_IMODE(database.with_name("secret.key").stat().st_mode) == 0o600


def test_a_database_an_older_version_left_readable_is_made_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "upwatch.db"
    database.touch(mode=0o644)
    database.chmod(0o644)
    monkeypatch.setenv("UPWATCH_DATABASE_URL", f"sqlite:///{database}")
    use_keys(monkeypatch, None)
    get_engine()
    assert stat.S_IMODE(database.stat().st_mode) == 0o600

