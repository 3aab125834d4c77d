"""GET /metrics: Prometheus exposition from the read model; private monitors only with the API
token; counters counted from what the database records, whichever process recorded it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event, insert, update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from readmodel.metrics_ledger import SETTLE_S, CountLedger
from readmodel.metrics_view import read_metrics
from readmodel.read_model import ReadModel
from storage.alerting_models import AlertChannel, Delivery, DeliveryAttempt
from storage.db import get_engine
from storage.models import Monitor, StateChange
from storage.monitors import create_monitor
from storage.results import record_result
from storage.tables import table_of
from tests.cert_days_support import record_certificate
from web.metrics import metrics_routes
from web.responses import has_api_token

AUTH = {"Authorization": "Bearer s3cret-token"}


def samples(text: str) -> dict[tuple, float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def labels(slug: str, group: str = "", kind: str = "http", **more: str) -> tuple:
    return tuple(sorted({"monitor": slug, "group": group, "kind": kind, **more}.items()))


def _client() -> TestClient:
    return TestClient(Starlette(routes=build_routes(Runtime())))


def _monitor(name: str, public: bool, **more: object):
    return create_monitor(parse_monitor_input(
        {"name": name, "url": "https://svc.example/", "public": public, **more}))


def test_it_exposes_state_latency_uptime_and_hides_private_monitors() -> None:
    public = _monitor("Shop", True)
    with get_engine().begin() as connection:
        connection.execute(update(table_of(Monitor)).where(table_of(Monitor).c.id == public.id)
                           .values(group_name="Storefront"))
    private = _monitor("Secret DB", False)
    at = datetime.now(UTC) - timedelta(minutes=1)
    record_result(public.id, ProbeResult("up", at, latency_ms=250.0))
    record_result(private.id, ProbeResult("down", at, reason="refused"))
    with _client() as client:
        anonymous = client.get("/metrics")
        admin = client.get("/metrics", headers=AUTH)
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert anonymous.status_code == 200
    assert anonymous.headers["content-type"].startswith("text/plain")
    seen = samples(anonymous.text)
    shop = labels("shop", "Storefront")
    assert seen[("upwatch_monitor_up", shop)] == 1.0
    assert seen[("upwatch_monitor_latency_seconds", shop)] == 0.25
    assert seen[("upwatch_monitor_state", labels("shop", "Storefront", state="up"))] == 1.0
    assert seen[("upwatch_monitor_last_check_timestamp_seconds", shop)] == at.timestamp()
    assert 0.0 <= seen[("upwatch_monitor_uptime_ratio", labels(
        "shop", "Storefront", window="24h"))] <= 1.0
    assert seen[("upwatch_build_info", (("python_version", seen_python(seen)),
                                        ("version", "0.1.0")))] == 1.0
    for text in (anonymous.text, wrong.text):
        assert "secret-db" not in text and "upwatch_notifications" not in text
    assert samples(admin.text)[("upwatch_monitor_up", labels("secret-db"))] == 0.0


def seen_python(seen: dict[tuple, float]) -> str:
    return next(dict(key[1])["python_version"] for key in seen if key[0] == "upwatch_build_info")


def test_certificate_expiry_is_the_last_certificates_not_after() -> None:
    created = _monitor("Shop", True)
    facts = record_certificate(created.id, 200)
    with _client() as client:
        seen = samples(client.get("/metrics").text)
    expected = datetime.fromisoformat(str(facts["not_after"])).timestamp()
    assert seen[("upwatch_monitor_certificate_expiry_timestamp_seconds",
                 labels("shop"))] == expected


def _attempts(monitor_id: int, outcomes: list[str]) -> None:
    with get_engine().begin() as connection:
        event_id = connection.execute(insert(table_of(StateChange)).values(
            monitor_id=monitor_id, at=datetime.now(UTC), from_state="up", to_state="down",
            kind="state")).inserted_primary_key[0]
        channel_id = connection.execute(insert(table_of(AlertChannel)).values(
            name="ops-slack", kind="slack_webhook", config={}, secrets={},
            events=["down"])).inserted_primary_key[0]
        delivery_id = connection.execute(insert(table_of(Delivery)).values(
            event_id=event_id, channel_id=channel_id, kind="down",
            status="delivered")).inserted_primary_key[0]
        connection.execute(insert(table_of(DeliveryAttempt)), [
            {"delivery_id": delivery_id, "channel_name": "ops-slack", "outcome": outcome}
            for outcome in outcomes])


def test_counters_count_what_the_database_records_since_the_first_scrape() -> None:
    shop = _monitor("Shop", True)
    record_result(shop.id, ProbeResult("up", latency_ms=10.0))  # before: not counted
    with _client() as client:
        before = samples(client.get("/metrics", headers=AUTH).text)
        for outcome, ms in [("up", 30.0), ("up", 700.0), ("down", None)]:
            record_result(shop.id, ProbeResult(outcome, latency_ms=ms))  # as the engine does
        _attempts(shop.id, ["retry", "retry", "delivered"])
        after = samples(client.get("/metrics", headers=AUTH).text)
    assert ("upwatch_checks_total", labels("shop", outcome="up")) not in before
    assert after[("upwatch_checks_total", labels("shop", outcome="up"))] == 2
    assert after[("upwatch_checks_total", labels("shop", outcome="down"))] == 1
    assert after[("upwatch_check_latency_seconds_count", labels("shop"))] == 2
    assert after[("upwatch_check_latency_seconds_sum", labels("shop"))] == 0.73
    assert after[("upwatch_check_latency_seconds_bucket", labels("shop", le="0.05"))] == 1
    assert after[("upwatch_check_latency_seconds_bucket", labels("shop", le="1.0"))] == 2
    notifications = (("channel", "ops-slack"), ("outcome", "retry"))
    assert after[("upwatch_notifications_total", notifications)] == 2
    assert after[("upwatch_notification_retries_total", (("channel", "ops-slack"),))] == 2


def test_a_ledger_counts_a_row_that_commits_late_with_a_lower_id() -> None:
    rows: dict[int, str] = {1: "up", 2: "up"}

    def count(_connection, after: int, up_to: int) -> dict[str, tuple[float, ...]]:
        counted: dict[str, tuple[float, ...]] = {}
        for row_id, key in rows.items():
            if after < row_id <= up_to:
                counted[key] = (counted.get(key, (0.0,))[0] + 1,)
        return counted

    ledger: CountLedger = CountLedger(count)
    assert ledger.totals(None, 2, now=0.0) == {}  # begins at the newest id
    rows[4] = "up"  # id 3 is taken by a transaction that has not committed yet
    assert ledger.totals(None, 4, now=1.0) == {"up": (1.0,)}
    rows[3] = "down"  # commits later, with the lower id
    assert ledger.totals(None, 4, now=2.0) == {"up": (1.0,), "down": (1.0,)}
    rows[5] = "up"
    assert ledger.totals(None, 5, now=1.0 + SETTLE_S) == {"up": (2.0,), "down": (1.0,)}
    assert ledger.totals(None, 5, now=2 * SETTLE_S + 5) == {"up": (2.0,), "down": (1.0,)}


def test_engine_lateness_is_how_far_past_due_the_most_overdue_check_is() -> None:
    shop = _monitor("Shop", True, interval=60, timeout=5)
    record_result(shop.id, ProbeResult("up", datetime.now(UTC) - timedelta(seconds=365)))
    with _client() as client:
        late = samples(client.get("/metrics").text)[("upwatch_engine_lateness_seconds", ())]
    assert 300 <= late < 330


def test_answers_come_from_the_read_model_snapshot() -> None:
    shop = _monitor("Shop", True)
    record_result(shop.id, ProbeResult("up"))
    read_model = ReadModel()
    read_model.refresh()
    app = Starlette(routes=metrics_routes(has_api_token, lambda: None, read_model))
    record_result(shop.id, ProbeResult("down"))  # not in the snapshot yet
    with TestClient(app) as client:
        assert samples(client.get("/metrics").text)[("upwatch_monitor_up", labels("shop"))] == 1
        read_model.refresh()
        assert samples(client.get("/metrics").text)[("upwatch_monitor_up", labels("shop"))] == 0


def test_the_builder_renders_the_bodies_again_only_when_they_are_old_enough() -> None:
    from readmodel.wire import pack_snapshot, unpack_snapshot

    def up(packed: bytes) -> float:
        metrics = unpack_snapshot(packed).metrics
        assert metrics is not None
        return samples(metrics.public.decode())[("upwatch_monitor_up", labels("shop"))]

    shop = _monitor("Shop", True)
    record_result(shop.id, ProbeResult("up"))
    assert up(pack_snapshot()) == 1
    record_result(shop.id, ProbeResult("down"))
    assert up(pack_snapshot(metrics_max_age_s=60)) == 1  # the last bodies, a moment old
    assert up(pack_snapshot(metrics_max_age_s=0)) == 0


def test_reading_the_figures_takes_the_same_statements_for_3_or_30_monitors() -> None:
    def statements() -> int:
        counted = []
        listener = lambda *args: counted.append(1)  # noqa: E731
        event.listen(get_engine(), "before_cursor_execute", listener)
        try:
            read_metrics()
        finally:
            event.remove(get_engine(), "before_cursor_execute", listener)
        return len(counted)

    for i in range(3):
        record_result(_monitor(f"M{i}", i % 2 == 0).id, ProbeResult("up", latency_ms=5.0))
    read_metrics()  # the ledgers begin
    record_result(_monitor("M3", True).id, ProbeResult("up", latency_ms=5.0))
    few = statements()
    for i in range(4, 30):
        record_result(_monitor(f"M{i}", i % 2 == 0).id, ProbeResult("up", latency_ms=5.0))
    assert statements() == few
