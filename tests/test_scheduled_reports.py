"""Scheduled reports: which period is due (DST changes included), sent once across restarts and
racing processes, the e-mail (HTML and the CSV attached) and Slack (Block Kit) at the wire, and
"send now"."""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time as time_module
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, func, insert, select, update

from config.settings import get_settings
from domain.limits import InvalidInput
from domain.monitor_input import parse_monitor_input
from domain.report_schedule import (
    PeriodKind,
    ScheduleSpec,
    due_period,
    parse_schedule,
    period_starting,
)
from domain.result import ProbeResult
from notifiers.report_sender import ReportScheduler, queue_due, send_now
from notifiers.webhook import verify_signature
from storage import report_outbox
from storage.alerting_models import AlertChannel
from storage.db import get_engine
from storage.models import AuditEntry
from storage.monitors import create_monitor
from storage.report_content import build_report
from storage.report_models import ReportDelivery, ReportRun, ReportSchedule
from storage.report_schedules import get_schedule, list_schedules, save_schedule
from storage.results import record_result
from storage.user_models import DashboardUser
from tests.fakes import FakeHTTPServer, FakeSMTPServer, Reply
from tests.pages_support import errors, logged_in, signed_in_as
from tests.pg import backend, postgres_database  # noqa: F401  (fixtures)

CHANNELS = AlertChannel.__table__
SCHEDULES = ReportSchedule.__table__
RUNS = ReportRun.__table__
DELIVERIES = ReportDelivery.__table__
AUDIT = AuditEntry.__table__
USERS = DashboardUser.__table__
BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
HOSTILE = "<!channel> <b>Shop</b> & *Co*"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# --- which period is due -----------------------------------------------------------------------

DUE = [
    # kind, send at, zone, now (UTC), the period due (its label), or None
    ("daily", "08:00", BERLIN, "2026-06-10T05:59+00:00", "2026-06-08"),
    ("daily", "08:00", BERLIN, "2026-06-10T06:00+00:00", "2026-06-09"),
    # Spring forward in Berlin (2026-03-29, 02:00 -> 03:00): 02:30 never happens; sent at 03:30.
    ("daily", "02:30", BERLIN, "2026-03-29T01:29+00:00", "2026-03-27"),
    ("daily", "02:30", BERLIN, "2026-03-29T01:30+00:00", "2026-03-28"),
    ("daily", "02:30", BERLIN, "2026-03-30T00:29+00:00", "2026-03-28"),
    ("daily", "02:30", BERLIN, "2026-03-30T00:30+00:00", "2026-03-29"),
    # Fall back in New York (2026-11-01, 02:00 -> 01:00): 01:30 happens twice; the first counts.
    ("daily", "01:30", NEW_YORK, "2026-11-01T05:29+00:00", "2026-10-30"),
    ("daily", "01:30", NEW_YORK, "2026-11-01T05:30+00:00", "2026-10-31"),
    ("daily", "01:30", NEW_YORK, "2026-11-01T06:30+00:00", "2026-10-31"),
    ("daily", "01:30", NEW_YORK, "2026-11-02T06:30+00:00", "2026-11-01"),
    # Weekly: the last ISO week, on Monday; the week of the spring change is 167 hours.
    ("weekly", "08:00", BERLIN, "2026-03-30T05:59+00:00", "2026-W12"),
    ("weekly", "08:00", BERLIN, "2026-03-30T06:00+00:00", "2026-W13"),
    ("weekly", "08:00", BERLIN, "2027-01-04T07:00+00:00", "2026-W53"),
    # Monthly: last month, on the 1st; the year turns.
    ("monthly", "00:30", NEW_YORK, "2027-01-01T05:29+00:00", "2026-11"),
    ("monthly", "00:30", NEW_YORK, "2027-01-01T05:30+00:00", "2026-12"),
    ("monthly", "09:00", BERLIN, "2026-11-30T12:00+00:00", "2026-10"),
]


@pytest.mark.parametrize(("kind", "send_at", "zone", "now", "label"), DUE)
def test_the_period_due_is_the_last_whole_one_whose_send_time_came(
        kind: PeriodKind, send_at: str, zone: ZoneInfo, now: str, label: str) -> None:
    hours, minutes = map(int, send_at.split(":"))
    due = due_period(kind, time(hours, minutes), zone, at(now))
    assert due is not None and due.label == label


@pytest.mark.parametrize(("kind", "first", "zone", "hours"), [
    ("daily", date(2026, 3, 29), BERLIN, 23),
    ("daily", date(2026, 10, 25), BERLIN, 25),
    ("daily", date(2026, 11, 1), NEW_YORK, 25),
    ("weekly", date(2026, 3, 23), BERLIN, 167),
    ("monthly", date(2026, 3, 1), NEW_YORK, 31 * 24 - 1),
    ("monthly", date(2026, 2, 1), BERLIN, 28 * 24),
])
def test_a_period_is_its_zones_calendar_days_however_long_they_are(
        kind: PeriodKind, first: date, zone: ZoneInfo, hours: int) -> None:
    period = period_starting(kind, first, zone)
    assert period.end - period.start == timedelta(hours=hours)
    assert period.start == datetime.combine(first, time(0), tzinfo=zone)


def test_each_period_becomes_due_once_minute_by_minute_through_dst_changes() -> None:
    for zone, send_at, day in ((BERLIN, time(2, 30), date(2026, 3, 29)),
                               (NEW_YORK, time(1, 30), date(2026, 11, 1))):
        moment = datetime.combine(day - timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        seen: list[str] = []
        for _ in range(3 * 24 * 60):
            due = due_period("daily", send_at, zone, moment)
            assert due is not None
            if not seen or seen[-1] != due.label:
                seen.append(due.label)
            moment += timedelta(minutes=1)
        assert len(seen) == len(set(seen)) == 4  # the day before the first, then three days


def test_a_period_that_was_due_before_the_schedule_was_saved_is_not_sent() -> None:
    created = at("2026-06-10T07:00+00:00")
    assert due_period("daily", time(8), BERLIN, created, not_before=created) is None
    later = due_period("daily", time(8), BERLIN, at("2026-06-11T06:00+00:00"),
                       not_before=created)
    assert later is not None and later.label == "2026-06-10"


def test_bad_input_names_each_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_schedule({"name": " ", "period": "hourly", "send_at": "25:00",
                        "timezone": "Mars/Base", "channel_ids": [], "target_percent": 120})
    assert set(refused.value.errors) == {"name", "period", "send_at", "timezone",
                                          "channel_ids", "target_percent"}
    assert "HH:MM" in refused.value.errors["send_at"]


# --- through the database ------------------------------------------------------------------------


def add_channel(name: str, kind: str, config: dict, secrets: dict) -> int:
    with get_engine().begin() as connection:
        return connection.execute(insert(CHANNELS).values(
            name=name, kind=kind, config=config, secrets=secrets, events=["down"],
        )).inserted_primary_key[0]


def schedule(channels: list[int], *, period: str = "daily", send_at: str = "08:00",
             zone: str = "UTC", created: datetime | None = None) -> int:
    spec = parse_schedule({"name": f"Ops {period} {zone}", "period": period, "send_at": send_at,
                           "timezone": zone, "channel_ids": channels, "target_percent": 99.5})
    saved = save_schedule(spec, actor="alice")
    if created is not None:  # as if it had been made back then
        with get_engine().begin() as connection:
            connection.execute(update(SCHEDULES).where(SCHEDULES.c.id == saved.id)
                               .values(created_at=created, updated_at=created))
    return saved.id


def runs() -> list[tuple]:
    with get_engine().connect() as connection:
        return [tuple(r) for r in connection.execute(
            select(RUNS.c.claim_key, func.count(DELIVERIES.c.id))
            .select_from(RUNS.outerjoin(DELIVERIES, DELIVERIES.c.run_id == RUNS.c.id))
            .group_by(RUNS.c.id, RUNS.c.claim_key).order_by(RUNS.c.id))]


@pytest.fixture
def sink() -> Iterator[FakeSMTPServer]:
    with FakeSMTPServer("none") as server:
        yield server


@pytest.fixture
def slack() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as server:
        yield server


def mail_channel(sink: FakeSMTPServer) -> int:
    return add_channel("ops-mail", "email", {
        "host": "127.0.0.1", "port": sink.port, "sender": "upwatch@example.com",
        "recipients": "oncall@example.com", "security": "none"}, {})


def slack_channel(slack: FakeHTTPServer) -> int:
    return add_channel("ops-slack", "slack_webhook", {}, {"webhook_url": slack.url + "/hook"})


def hostile_monitor_with_an_outage(day: date) -> None:
    """A monitor named to break HTML and mrkdwn: up, down for ten minutes, up, on `day`."""
    monitor = create_monitor(parse_monitor_input({"name": HOSTILE, "url": "http://127.0.0.1:1/"}))
    noon = datetime.combine(day, time(12), tzinfo=UTC)
    for minute, outcome in ((0, "up"), (5, "down"), (6, "down"), (16, "up"), (20, "up")):
        record_result(monitor.id, ProbeResult(
            outcome, noon + timedelta(minutes=minute), latency_ms=120.0 + minute,  # type: ignore[arg-type]
            reason=None if outcome == "up" else "HTTP 503"))


@pytest.mark.usefixtures("backend")
def test_a_period_crossing_a_dst_change_is_sent_once_and_a_restart_sends_nothing_again(
        slack: FakeHTTPServer) -> None:
    # Berlin, 02:30 daily: 2026-03-29 has no 02:30, and lasts 23 hours.
    schedule([slack_channel(slack)], send_at="02:30", zone="Europe/Berlin",
             created=at("2026-03-28T12:00+00:00"))
    moment = at("2026-03-28T23:30+00:00")
    scheduler = ReportScheduler(get_engine(), get_settings())
    while moment < at("2026-03-31T00:00+02:00"):  # a round every hour at :30 for two days
        scheduler.run_once(moment)
        moment += timedelta(hours=1)
    # A restart: a new engine and a new scheduler see both days' send times again, then the
    # next day's comes.
    get_engine().dispose()
    get_engine.cache_clear()
    again = ReportScheduler(get_engine(), get_settings())
    for moment in (at("2026-03-29T03:31+02:00"), at("2026-03-30T02:31+02:00"),
                   at("2026-03-31T02:31+02:00")):
        again.run_once(moment)
    assert runs() == [("daily:2026-03-28", 1), ("daily:2026-03-29", 1), ("daily:2026-03-30", 1)]
    sent = [json.loads(r.body)["blocks"][0]["text"]["text"] for r in slack.wait_for(3)]
    assert sent == ["📊 Daily report 2026-03-28", "📊 Daily report 2026-03-29",
                    "📊 Daily report 2026-03-30"]
    assert len(slack.requests) == 3
    with get_engine().connect() as connection:
        start, end = connection.execute(select(RUNS.c.period_start, RUNS.c.period_end)
                                        .where(RUNS.c.claim_key == "daily:2026-03-29")).one()
    assert end - start == timedelta(hours=23)


@pytest.mark.usefixtures("backend")
def test_two_processes_racing_for_one_period_queue_it_once() -> None:
    channel = add_channel("hook", "webhook", {"url": "http://127.0.0.1:9/"}, {})
    schedule_id = schedule([channel])
    period = period_starting("daily", date(2026, 6, 9), ZoneInfo("UTC"))
    content = build_report("Ops", period, "UTC", 99.5, at("2026-06-10T08:00+00:00"))
    url = get_settings().database_url
    engines = [create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite")
                             else {}) for _ in range(2)]
    start = threading.Barrier(len(engines))
    won: list[int | None] = []

    def race(engine) -> None:
        start.wait()
        won.append(report_outbox.claim_period(engine, schedule_id, period, content, [channel],
                                              at("2026-06-10T08:00+00:00")))

    threads = [threading.Thread(target=race, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    for engine in engines:
        engine.dispose()
    assert len(won) == 2 and won.count(None) == 1
    assert runs() == [("daily:2026-06-09", 1)]


def parsed(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


def test_the_email_has_html_escaped_text_and_the_csv_attached(sink: FakeSMTPServer) -> None:
    today = datetime.now(UTC).date()
    hostile_monitor_with_an_outage(today - timedelta(days=1))
    schedule([mail_channel(sink)], created=at("2020-01-01T00:00+00:00"))
    now = datetime.combine(today, time(8, 1), tzinfo=UTC)
    ReportScheduler(get_engine(), get_settings()).run_once(now)
    (mail,) = sink.wait_for(1)
    message = parsed(mail.data)
    assert message["Subject"].startswith(f"[Upwatch] Daily report {today - timedelta(days=1)}")
    html = message.get_body(("html",)).get_content()
    assert "<b>Shop</b>" not in html and "&lt;b&gt;Shop&lt;/b&gt; &amp; *Co*" in html
    assert "BELOW" in html  # 11 minutes down of the 12 hours observed: below 99.5 %
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_filename() == f"upwatch-daily-report-{today - timedelta(days=1)}.csv"
    header, row = attachment.get_content().splitlines()
    assert header.startswith("monitor,name,period,uptime_percent,target_percent,meets_target")
    # 98.4722 %, 11 minutes down in 5 checks with 2 failures, 1 incident resolved in 11 minutes
    assert ",98.4722,99.5,no,11.0,5,2,1,,660.0," in row
    assert "<b>Shop</b>" in row  # the CSV keeps the name as it was typed


def test_slack_gets_block_kit_with_names_escaped(slack: FakeHTTPServer) -> None:
    today = datetime.now(UTC).date()
    hostile_monitor_with_an_outage(today - timedelta(days=1))
    schedule([slack_channel(slack)], created=at("2020-01-01T00:00+00:00"))
    queue_due(get_engine(), datetime.combine(today, time(8, 1), tzinfo=UTC))
    ReportScheduler(get_engine(), get_settings()).run_once()
    (request,) = slack.wait_for(1)
    payload = request.json()
    assert [block["type"] for block in payload["blocks"]][:3] == ["header", "context", "section"]
    assert "<!channel>" not in request.body.decode()
    worst = next(b for b in payload["blocks"] if b.get("text", {}).get("text", "")
                 .startswith("*Worst monitors*"))
    assert "&lt;!channel&gt; &lt;b&gt;Shop&lt;/b&gt; &amp; *Co*" in worst["text"]["text"]
    assert "MTTR" in payload["text"]


def test_send_now_sends_at_once_and_the_scheduled_report_still_goes_out(
        slack: FakeHTTPServer) -> None:
    schedule_id = schedule([slack_channel(slack)], period="weekly",
                           created=at("2020-01-01T00:00+00:00"))
    view = get_schedule(schedule_id)
    assert view is not None
    outcomes = send_now(get_engine(), get_settings(), view, "alice")
    assert [(o.channel, o.status, o.error) for o in outcomes] == [("ops-slack", "delivered", None)]
    assert len(slack.requests) == 1
    queue_due(get_engine(), datetime.now(UTC))
    ReportScheduler(get_engine(), get_settings()).run_once()
    manual, scheduled = (key for key, _ in runs())
    assert manual is None and scheduled is not None and scheduled.startswith("weekly:")
    assert len(slack.wait_for(2)) == 2
    with get_engine().connect() as connection:
        actions = connection.execute(select(AUDIT.c.actor, AUDIT.c.action)
                                     .where(AUDIT.c.subject_kind == "report schedule")).all()
    assert [tuple(a) for a in actions] == [("alice", "created"), ("alice", "sent now")]


def test_a_channel_that_cannot_carry_a_report_is_refused_and_nothing_is_saved() -> None:
    sms = add_channel("pager-sms", "sms", {"account_sid": "AC1", "sender": "+1",
                                           "recipients": "+2"}, {"auth_token": "x"})
    spec = ScheduleSpec("Ops", "daily", time(8), "UTC", (sms,))
    with pytest.raises(InvalidInput) as refused:
        save_schedule(spec)
    assert "sms" in refused.value.errors["channel_ids"]
    with pytest.raises(InvalidInput) as missing:
        save_schedule(ScheduleSpec("Ops", "daily", time(8), "UTC", (999,)))
    assert "999" in missing.value.errors["channel_ids"]
    with get_engine().connect() as connection:
        assert connection.execute(select(func.count()).select_from(SCHEDULES)).scalar() == 0
        assert connection.execute(select(func.count()).select_from(AUDIT)).scalar() == 0


# --- the dashboard -------------------------------------------------------------------------------


def test_the_reports_page_adds_sends_now_edits_and_deletes_a_schedule(
        slack: FakeHTTPServer) -> None:
    channel = slack_channel(slack)
    at = logged_in("reports.py")
    at.text_input(key="rs_name").input("Team <weekly>")
    at.text_input(key="rs_timezone").input("Mars/Base")
    at.multiselect(key="rs_channel_ids").set_value([channel])
    at = at.button(key="rs_save").click().run()
    assert any("Unknown time zone 'Mars/Base'" in e for e in errors(at)), errors(at)
    with get_engine().connect() as connection:
        assert connection.execute(select(func.count()).select_from(SCHEDULES)).scalar() == 0
    at.text_input(key="rs_timezone").input("Europe/Berlin")
    at = at.button(key="rs_save").click().run()
    assert not errors(at), errors(at)
    (saved,) = list_schedules()
    assert (saved.spec.name, saved.spec.timezone, saved.spec.channel_ids) == (
        "Team <weekly>", "Europe/Berlin", (channel,))
    at = at.button(key=f"rs_now_{saved.id}").click().run()
    assert [s.value.replace("\\", "") for s in at.success][-1] == "Sent to ops-slack."
    assert slack.wait_for(1)[0].json()["blocks"][0]["text"]["text"].startswith(
        "📊 Weekly report ")
    at = at.button(key=f"rs_edit_{saved.id}").click().run()
    at.selectbox(key="rs_period").set_value("monthly")
    at = at.button(key="rs_save").click().run()
    assert list_schedules()[0].spec.period == "monthly"
    at = at.button(key=f"rs_delete_{saved.id}").click().run()
    assert list_schedules() == []
    assert not at.exception


def test_a_viewer_sees_the_schedules_but_no_buttons_or_form(slack: FakeHTTPServer) -> None:
    schedule([slack_channel(slack)])
    with get_engine().begin() as connection:  # a viewer (the hash is never checked here)
        connection.execute(insert(USERS).values(username="vera", role="viewer",
                                                password_hash="unused",
                                                created_at=datetime.now(UTC)))
    at = signed_in_as("reports.py", "vera")
    assert any("Ops daily UTC" in m.value for m in at.markdown)
    keys = {b.key for b in at.button}
    assert not {k for k in keys if k and k.startswith("rs_")}


def test_a_webhook_gets_the_report_as_signed_json(slack: FakeHTTPServer) -> None:
    hook = add_channel("hook", "webhook", {"url": slack.url + "/reports"}, {"secret": "s3"})
    view = get_schedule(schedule([hook], period="monthly"))
    assert view is not None
    (outcome,) = send_now(get_engine(), get_settings(), view, "alice")
    assert outcome.status == "delivered", outcome.error
    (request,) = slack.wait_for(1)
    body = request.json()
    assert (body["kind"], body["report"]["period"]) == ("report", "monthly")
    assert body["text"].startswith("Upwatch · Monthly report ")
    assert verify_signature("s3", request.headers["x-upwatch-timestamp"], request.body,
                            request.headers["x-upwatch-signature"])


def test_a_failed_send_is_tried_again_in_a_later_round_and_not_queued_again(
        slack: FakeHTTPServer) -> None:
    slack.enqueue(Reply(500, body=b"internal_error"))
    schedule([slack_channel(slack)], created=at("2026-06-01T00:00+00:00"))
    scheduler = ReportScheduler(get_engine(), get_settings())
    scheduler.run_once(at("2026-06-10T08:00+00:00"))
    with get_engine().connect() as connection:
        status, error = connection.execute(select(DELIVERIES.c.status,
                                                  DELIVERIES.c.last_error)).one()
    assert status == "pending" and "HTTP 500" in error
    scheduler.run_once(at("2026-06-10T08:01+00:00"))
    assert len(slack.wait_for(2)) == 2
    assert runs() == [("daily:2026-06-09", 1)]
    with get_engine().connect() as connection:
        assert connection.execute(select(DELIVERIES.c.status)).scalar_one() == "delivered"


def test_a_slack_bot_posts_the_report_to_its_channel(slack: FakeHTTPServer) -> None:
    slack.enqueue(Reply.json(200, {"ok": True, "channel": "C0123", "ts": "1.2"}))
    bot = add_channel("ops-bot", "slack_bot", {"channel": "C0123", "base_url": slack.url + "/api/"},
                      {"token": "xoxb-test-token"})
    view = get_schedule(schedule([bot]))
    assert view is not None
    (outcome,) = send_now(get_engine(), get_settings(), view, "alice")
    assert outcome.status == "delivered", outcome.error
    (request,) = slack.wait_for(1)
    assert request.path == "/api/chat.postMessage"
    assert request.headers["authorization"] == "Bearer xoxb-test-token"
    sent = request.json()
    assert sent["channel"] == "C0123" and sent["blocks"][0]["type"] == "header"
    assert sent["blocks"][0]["text"]["text"].startswith("📊 Daily report ")


def test_two_running_schedulers_send_a_due_report_once(slack: FakeHTTPServer) -> None:
    schedule([slack_channel(slack)], send_at="00:00", created=at("2020-01-01T00:00+00:00"))
    schedulers = [ReportScheduler(get_engine(), get_settings(), every_s=0.05) for _ in range(2)]
    for scheduler in schedulers:
        scheduler.start()
    try:
        assert len(slack.wait_for(1)) == 1
        time_module.sleep(0.3)  # several more rounds of both
    finally:
        for scheduler in schedulers:
            scheduler.stop()
    assert len(slack.requests) == 1
    assert [count for _, count in runs()] == [1]


def test_a_paused_schedule_sends_nothing(slack: FakeHTTPServer) -> None:
    schedule_id = schedule([slack_channel(slack)], created=at("2026-06-01T00:00+00:00"))
    view = get_schedule(schedule_id)
    assert view is not None
    spec = view.spec
    save_schedule(ScheduleSpec(spec.name, spec.period, spec.send_at, spec.timezone,
                               spec.channel_ids, spec.target_percent, enabled=False),
                  schedule_id, actor="alice")
    with get_engine().begin() as connection:  # paused long before the period was due
        connection.execute(update(SCHEDULES).values(updated_at=at("2026-06-01T00:00+00:00")))
    ReportScheduler(get_engine(), get_settings()).run_once(at("2026-06-10T08:00+00:00"))
    assert runs() == [] and slack.requests == []
