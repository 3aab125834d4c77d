"""Configuration as code: `upwatch export` and `upwatch apply -f FILE [--dry-run] [--prune]`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from composition.cli import document_rules, main
from config.config_document import InvalidDocument, dump_document, parse_document
from config.settings import get_settings
from domain.monitor_input import parse_monitor_input
from storage.alerting_admin import (
    ChannelSpec,
    escalation_settings,
    list_channels,
    monitor_routes,
    save_channel,
    save_escalation_settings,
    set_monitor_routes,
)
from storage.audit import audit_page
from storage.config_apply import apply, export_document, plan
from storage.db import get_engine
from storage.maintenance_admin import WindowInput, create_window, list_windows
from storage.monitors import create_monitor, get_monitor, list_monitors
from storage.status import LayoutRow, page_layout, save_layout

SLACK_HOOK = "https://hooks.slack.example/services/T0/B0/very-secret-hook"
HMAC_SECRET = "hmac-shared-secret-4711"
BEARER = "bearer-token-of-the-api-0815"
SECRETS = {
    "UPWATCH_SECRET_OPS_SLACK_WEBHOOK_URL": SLACK_HOOK,
    "UPWATCH_SECRET_HOOKS_SECRET": HMAC_SECRET,
    "UPWATCH_SECRET_MONITOR_API_BEARER_TOKEN": BEARER,
}


def fill_every_section() -> None:
    db = create_monitor(parse_monitor_input({"name": "DB", "kind": "tcp",
                                             "url": "db.internal:5432"}))
    api = create_monitor(parse_monitor_input({
        "name": "API", "url": "https://api.example.com/health", "interval": 30,
        "tags": ["prod"], "severity": "critical", "depends_on": ["db"],
        "options": {"bearer_token": BEARER, "keyword": "ok"}}))
    ops = save_channel(ChannelSpec(
        name="ops-slack", kind="slack_webhook", config={}, secrets={"webhook_url": SLACK_HOOK},
        events=["down", "up"], quiet_start="22:00", quiet_end="07:00",
        quiet_timezone="Europe/Berlin"))
    save_channel(ChannelSpec(
        name="hooks", kind="webhook", config={"url": "https://hooks.example.com/upwatch"},
        secrets={"secret": HMAC_SECRET}, events=["down"], escalate_after_minutes=15))
    set_monitor_routes(api.id, [ops.id])
    save_layout([LayoutRow(api.id, api.name, True, "Backend", 2, True),
                 LayoutRow(db.id, db.name, False, "Backend", 1, False)])
    save_escalation_settings({"remind_every_minutes": 30, "flap_changes": 4}, actor="admin")
    create_window(WindowInput("Backups", "Nightly dump", db.id, None, None, None, "0 2 * * *",
                              "Europe/Berlin", 45, True))
    create_window(WindowInput("Datacenter move", "", None, "Backend",
                              datetime(2031, 5, 1, 22, tzinfo=UTC),
                              datetime(2031, 5, 2, 4, tzinfo=UTC), None, "UTC", None, False))


def fresh_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("UPWATCH_DATABASE_URL", f"sqlite:///{tmp_path / name}")
    get_settings.cache_clear()
    get_engine.cache_clear()


def parsed(document: dict | str, environ: dict[str, str] | None = None):
    source = document if isinstance(document, str) else dump_document(document)
    return parse_document(source, document_rules(), SECRETS if environ is None else environ)


def snapshot() -> tuple:
    return (export_document(), len(audit_page(500)))


def test_round_trip_with_every_section_and_secrets_as_references(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fill_every_section()
    exported = export_document()
    written = dump_document(exported)
    for secret in (SLACK_HOOK, HMAC_SECRET, BEARER):
        assert secret not in written
    assert "${UPWATCH_SECRET_OPS_SLACK_WEBHOOK_URL}" in written
    assert "${UPWATCH_SECRET_MONITOR_API_BEARER_TOKEN}" in written
    assert set(exported) == {"upwatch", "monitors", "status_page", "channels", "routing",
                             "escalation", "maintenance"}
    assert exported["routing"] == {"api": ["ops-slack"]}
    assert exported["escalation"]["remind_every_minutes"] == 30
    assert [w["title"] for w in exported["maintenance"]] == ["Backups", "Datacenter move"]

    fresh_database(tmp_path, monkeypatch, "empty.db")
    assert list_monitors() == []
    done = apply(parsed(written))
    assert "+ monitor api" in done.lines() and '+ maintenance "Backups"' in done.lines()
    assert export_document() == exported
    # The secrets were read from the environment and stored.
    channels = {c.name: c for c in list_channels()}
    assert channels["ops-slack"].stored_secrets == {"webhook_url"}
    from storage.alerting_admin import channel_row

    assert channel_row(channels["ops-slack"].id)["secrets"] == {"webhook_url": SLACK_HOOK}
    api = get_monitor("api")
    assert api is not None and api.options["bearer_token"] == BEARER
    assert monitor_routes() == {api.id: [channels["ops-slack"].id]}
    assert escalation_settings().flap_changes == 4
    assert {w.title: w.scope for w in list_windows()} == {
        "Backups": "monitor DB", "Datacenter move": "group Backend"}
    assert {row.name: (row.group, row.sort_order, row.show_url) for row in page_layout()} == {
        "API": ("Backend", 2, True), "DB": ("Backend", 1, False)}
    assert {entry.actor for entry in audit_page(500)} == {"cli"}

    # The same document again changes nothing.
    assert plan(parsed(written)).changes == []
    audited = len(audit_page(500))
    assert apply(parsed(written)).changes == []
    assert len(audit_page(500)) == audited


def test_an_existing_monitors_file_is_a_valid_document() -> None:
    document = parsed("monitors:\n  - name: API\n    url: https://api.example.com\n")
    assert [spec.name for spec, _entry in document.monitors or []] == ["API"]
    assert document.channels is None and document.routing is None


def test_a_missing_variable_is_refused_by_name_and_nothing_changes() -> None:
    fill_every_section()
    exported = export_document()
    before = snapshot()
    with pytest.raises(InvalidDocument) as refused:
        parsed(exported, {k: v for k, v in SECRETS.items()
                          if k != "UPWATCH_SECRET_HOOKS_SECRET"})
    assert "UPWATCH_SECRET_HOOKS_SECRET is not set" in str(refused.value)
    assert "channels[0].settings.secret" in str(refused.value)
    assert snapshot() == before


def test_a_secret_in_clear_is_refused() -> None:
    with pytest.raises(InvalidDocument) as refused:
        parsed({"channels": [{"name": "ops", "kind": "slack_webhook", "events": ["down"],
                              "settings": {"webhook_url": SLACK_HOOK}}]})
    message = str(refused.value)
    assert "channels[0].settings.webhook_url: a secret is never written in the file" in message
    assert "${UPWATCH_SECRET_OPS_WEBHOOK_URL}" in message
    assert SLACK_HOOK not in message


def test_unknown_keys_are_refused_with_their_path() -> None:
    good = {"name": "a", "kind": "slack_webhook", "events": ["down"],
            "settings": {"webhook_url": "${UPWATCH_SECRET_OPS_SLACK_WEBHOOK_URL}"}}
    with pytest.raises(InvalidDocument) as refused:
        parsed({"upwatch": 1, "channels": [good, {**good, "name": "b"}, {
            **good, "name": "c", "settings": {**good["settings"], "webhok": "x"}}],
            "maintenance": [{"title": "x", "cron": "0 2 * * *", "duration_minutes": 5,
                             "colour": "red"}],
            "monitorz": []})
    problems = refused.value.problems
    assert any(p.startswith("channels[2].settings.webhok: unknown field") for p in problems)
    assert any(p.startswith("maintenance[0].colour: unknown field") for p in problems)
    assert any(p.startswith("monitorz: unknown section") for p in problems)


def test_a_field_the_channel_form_refuses_is_reported_at_its_path() -> None:
    with pytest.raises(InvalidDocument) as refused:
        parsed({"channels": [{"name": "hooks", "kind": "webhook", "events": ["nope"],
                              "settings": {"url": "ftp://x"}}]})
    assert "channels[0].settings.url: start the URL with https://" in str(refused.value)
    assert "channels[0].events: unknown event 'nope'" in str(refused.value)


def test_a_failure_halfway_leaves_the_database_unchanged() -> None:
    fill_every_section()
    with get_engine().begin() as connection:  # the database itself refuses the second monitor
        connection.execute(text(
            "CREATE TRIGGER refuse_second BEFORE INSERT ON monitor WHEN NEW.name = 'Second' "
            "BEGIN SELECT RAISE(ABORT, 'no second monitor'); END"))
    document = export_document()
    document["monitors"] += [{"name": "First", "url": "https://first.example.com"},
                             {"name": "Second", "url": "https://second.example.com"}]
    document["routing"]["first"] = ["hooks"]
    before = snapshot()
    with pytest.raises(InvalidDocument) as refused:
        apply(parsed(document))
    assert "no second monitor" in str(refused.value)
    assert snapshot() == before
    assert get_monitor("first") is None


def test_routing_to_an_unknown_channel_is_refused_before_anything_is_written() -> None:
    fill_every_section()
    document = export_document()
    document["routing"]["api"] = ["ops-slack", "pager"]
    before = snapshot()
    with pytest.raises(InvalidDocument) as refused:
        apply(parsed(document))
    assert "routing.api: no channel named 'pager'" in str(refused.value)
    assert snapshot() == before


def test_prune_deletes_what_is_missing_and_without_it_nothing_is_deleted() -> None:
    fill_every_section()
    document = export_document()
    document["monitors"] = [m for m in document["monitors"] if m["name"] != "API"]
    document["channels"] = [c for c in document["channels"] if c["name"] != "hooks"]
    document["maintenance"] = [w for w in document["maintenance"] if w["title"] != "Backups"]
    del document["routing"]["api"]
    del document["status_page"]["api"]

    kept = apply(parsed(document))
    assert kept.changes == []
    assert {"= monitor api: kept, not in the file", "= channel hooks: kept, not in the file",
            '= maintenance "Backups": kept, not in the file'} <= set(kept.lines())
    assert get_monitor("api") is not None and len(list_channels()) == 2

    pruned = apply(parsed(document), prune=True)
    assert {"- monitor api", "- channel hooks", '- maintenance "Backups"'} <= set(pruned.lines())
    assert get_monitor("api") is None
    assert [c.name for c in list_channels()] == ["ops-slack"]
    assert [w.title for w in list_windows()] == ["Datacenter move"]
    deleted = {(e.subject_kind, e.actor) for e in audit_page(500) if e.action == "deleted"}
    assert deleted == {("monitor", "cli"), ("channel", "cli"), ("maintenance", "cli")}


def test_environment_channels_are_not_touched(monkeypatch: pytest.MonkeyPatch) -> None:
    from notifiers.registry import sync_env_channels

    monkeypatch.setenv("UPWATCH_SLACK_WEBHOOK_URL", "https://hooks.slack.example/env")
    get_settings.cache_clear()
    with get_engine().begin() as connection:
        sync_env_channels(connection, get_settings())
    assert export_document()["channels"] == []
    done = apply(parsed({"channels": [{
        "name": "slack", "kind": "slack_webhook", "events": ["down"],
        "settings": {"webhook_url": "${UPWATCH_SECRET_OPS_SLACK_WEBHOOK_URL}"}}]}), prune=True)
    assert done.changes == []
    assert done.lines() == ["= channel slack: from the environment, not touched"]
    assert list_channels()[0].events != ["down"]


def write(path: Path, document: dict) -> Path:
    path.write_text(dump_document(document), encoding="utf-8")
    return path


def test_the_cli_exports_plans_applies_and_refuses(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    fill_every_section()
    main(["export"])
    printed = capsys.readouterr().out
    assert SLACK_HOOK not in printed and BEARER not in printed
    document = yaml.safe_load(printed)
    assert document["upwatch"] == 1
    main(["export", "-o", str(tmp_path / "upwatch.yaml")])
    assert yaml.safe_load((tmp_path / "upwatch.yaml").read_text()) == document
    capsys.readouterr()

    channel = next(c for c in document["channels"] if c["name"] == "ops-slack")
    channel["events"] = ["down", "up", "degraded"]
    document["monitors"].append({"name": "Web", "url": "https://www.example.com"})
    document["maintenance"] = [w for w in document["maintenance"] if w["title"] != "Backups"]
    changed = write(tmp_path / "changed.yaml", document)

    before = snapshot()
    with pytest.raises(SystemExit) as exit_code:
        main(["apply", "-f", str(changed), "--dry-run", "--prune"])
    assert exit_code.value.code == 0
    out = capsys.readouterr().out.splitlines()
    assert "+ monitor web" in out
    assert "~ channel ops-slack: events [down, up] -> [down, up, degraded]" in out
    assert '- maintenance "Backups"' in out
    assert snapshot() == before  # a dry run changes nothing

    with pytest.raises(SystemExit) as exit_code:
        main(["apply", "-f", str(changed), "--prune"])
    assert exit_code.value.code == 0
    assert "changed 3 objects" in capsys.readouterr().out
    assert get_monitor("web") is not None

    with pytest.raises(SystemExit) as exit_code:
        main(["apply", "-f", str(changed), "--prune"])
    assert exit_code.value.code == 0
    assert capsys.readouterr().out == "nothing to change\n"

    document["channels"][0]["settings"]["webhok"] = "x"
    before = snapshot()
    with pytest.raises(SystemExit) as exit_code:
        main(["apply", "-f", str(write(tmp_path / "wrong.yaml", document))])
    assert exit_code.value.code == 1
    err = capsys.readouterr().err
    assert "nothing changed" in err and "channels[0].settings.webhok: unknown field" in err
    assert snapshot() == before


def test_export_monitors_still_works(capsys: pytest.CaptureFixture[str]) -> None:
    fill_every_section()
    main(["export-monitors"])
    exported = yaml.safe_load(capsys.readouterr().out)
    assert [m["name"] for m in exported["monitors"]] == ["DB", "API"]


def test_a_changed_secret_is_applied_and_shown_without_its_value() -> None:
    fill_every_section()
    from storage.alerting_admin import channel_row

    new_secret = "rotated-hmac-secret-0042"
    environ = {**SECRETS, "UPWATCH_SECRET_HOOKS_SECRET": new_secret}
    done = apply(parsed(export_document(), environ))
    assert done.lines() == ["~ channel hooks: credentials [secret stored] -> [secret changed]"]
    hooks = next(c for c in list_channels() if c.name == "hooks")
    assert channel_row(hooks.id)["secrets"] == {"secret": new_secret}
    assert new_secret not in repr([e.to_api() for e in audit_page(500)])


def test_unquoted_quiet_hours_read_as_times() -> None:
    document = parsed(
        "channels:\n  - name: ops\n    kind: slack_webhook\n    events: [down]\n"
        "    settings: {webhook_url: '${UPWATCH_SECRET_OPS_SLACK_WEBHOOK_URL}'}\n"
        "    quiet_start: 22:00\n    quiet_end: 07:30\n")
    assert document.channels is not None
    assert (document.channels[0].quiet_start, document.channels[0].quiet_end) == ("22:00", "07:30")


def test_a_monitor_is_what_its_entry_says_left_out_fields_take_their_defaults() -> None:
    create_monitor(parse_monitor_input({
        "name": "Edge", "url": "https://edge.example.com", "interval": 30,
        "options": {"ip_version": "ipv6", "keyword": "ok"}}))
    done = apply(parsed({"monitors": [{"name": "Edge", "url": "https://edge.example.com"}]}))
    assert len(done.changes) == 1 and done.changes[0].line().startswith(
        "~ monitor edge: interval 30 -> 60, options ")
    edge = get_monitor("edge")
    assert edge is not None and edge.interval == 60
    assert "ip_version" not in edge.options and edge.options.get("keyword") is None


def test_with_prune_a_monitor_cannot_depend_on_one_the_document_deletes() -> None:
    fill_every_section()
    document = export_document()
    document["monitors"] = [m for m in document["monitors"] if m["name"] != "DB"]
    document["maintenance"] = []
    assert apply(parsed(document)).kept  # without --prune, DB stays and API may depend on it
    before = snapshot()
    with pytest.raises(InvalidDocument) as refused:
        apply(parsed(document), prune=True)
    assert "monitors[0].depends_on" in str(refused.value)
    assert snapshot() == before
