"""Prometheus's own tools agree with /metrics and deploy/: promtool checks the exposition and
the rules (and runs the rules against made-up series), the dashboard asks only for metrics
Upwatch exposes, and a real Prometheus scrapes Upwatch and answers PromQL about it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.testclient import TestClient

from composition.web_process import Runtime, build_routes
from domain.monitor_input import parse_monitor_input
from domain.result import ProbeResult
from storage.monitors import create_monitor
from storage.results import record_result
from tests.cert_days_support import record_certificate
from tests.prometheus_support import promtool, query_until, running_prometheus, serving

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
RULES = DEPLOY / "prometheus-rules.yml"
DASHBOARD = DEPLOY / "grafana-dashboard.json"
TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _app() -> Starlette:
    return Starlette(routes=build_routes(Runtime()))


def _monitors() -> dict[str, object]:
    """A public monitor with a certificate, a private one down; their not_after."""
    shop = create_monitor(parse_monitor_input(
        {"name": "Shop", "url": "https://shop.example/", "public": True}))
    secret = create_monitor(parse_monitor_input(
        {"name": "Secret DB", "url": "https://db.internal/"}))
    facts = record_certificate(shop.id, 200)
    secret_facts = record_certificate(secret.id, 5, outcome="down")
    record_result(secret.id, ProbeResult("down", datetime.now(UTC), reason="refused"))
    return {"shop": facts["not_after"], "secret-db": secret_facts["not_after"]}


def _exposition() -> str:
    with TestClient(_app()) as client:
        client.get("/metrics", headers=AUTH)  # the counters begin
        _monitors()
        return client.get("/metrics", headers=AUTH).text


def test_promtool_check_metrics_passes_on_the_exposition() -> None:
    with TestClient(_app()) as client:
        client.get("/metrics", headers=AUTH)  # the counters begin
        _monitors()
        bodies = [(client.get("/metrics", headers=h).text, private)
                  for h, private in [(AUTH, True), ({}, False)]]
    for text, private in bodies:
        assert "upwatch_checks_total" in text and "upwatch_check_latency_seconds_bucket" in text
        assert ('monitor="secret-db"' in text) is private
        checked = promtool("check", "metrics", stdin=text.encode())
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert checked.stdout.strip() == "" and checked.stderr.strip() == ""


def test_promtool_check_rules_passes_on_the_rules_file() -> None:
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 5 rules found" in checked.stdout


def test_the_rules_fire_when_they_should(tmp_path: Path) -> None:
    labels = '{monitor="shop", group="Storefront", kind="http"'
    shop = {"monitor": "shop", "group": "Storefront", "kind": "http"}

    def alert(eval_time: str, name: str, firing: dict | None) -> dict:
        return {"eval_time": eval_time, "alertname": name,
                "exp_alerts": [] if firing is None else [firing]}

    tests = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                {"series": f'upwatch_monitor_state{labels}, state="down"}}',
                 "values": "0 0 1 1 1 1 1"},
                {"series": f"upwatch_monitor_certificate_expiry_timestamp_seconds{labels}}}",
                 "values": f"{10 * 86400}x30"},
                {"series": f'upwatch_monitor_uptime_ratio{labels}, window="30d"}}',
                 "values": "0.99x30"},
                {"series": "upwatch_engine_lateness_seconds", "values": "0 0 120x10"},
            ],
            "alert_rule_test": [
                alert("3m", "UpwatchMonitorDown", None),
                alert("5m", "UpwatchMonitorDown", {
                    "exp_labels": {"severity": "critical", "state": "down", **shop},
                    "exp_annotations": {
                        "summary": "shop is down",
                        "description": "Upwatch has seen shop (http) down for 2 minutes."}}),
                alert("5m", "UpwatchCertificateExpiringSoon", None),
                alert("12m", "UpwatchCertificateExpiringSoon", {
                    "exp_labels": {"severity": "warning", **shop},
                    "exp_annotations": {
                        "summary": "The TLS certificate of shop expires in 9d 23h 48m 0s",
                        "description": "Renew it: under 14 days left (negative: already "
                                       "expired)."}}),
                alert("20m", "UpwatchUptimeBelowTarget", {
                    "exp_labels": {"severity": "warning", "window": "30d", **shop},
                    "exp_annotations": {
                        "summary": "shop is below its uptime target",
                        "description": "Uptime over 30 days is 99%, under 99.9 %."}}),
                alert("4m", "UpwatchEngineLate", None),
                alert("9m", "UpwatchEngineLate", {
                    "exp_labels": {"severity": "warning"},
                    "exp_annotations": {
                        "summary": "Upwatch's checks are running late",
                        "description": "The most overdue check is 2m 0s past its due time: "
                                       "the probe engine or its workers are stuck or "
                                       "overloaded."}}),
            ],
        }],
    }
    test_file = tmp_path / "rules_test.yml"
    test_file.write_text(json.dumps(tests))  # JSON is YAML
    checked = promtool("test", "rules", str(test_file))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    queries += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    return queries


def test_the_dashboard_asks_only_for_metrics_upwatch_exposes(tmp_path: Path) -> None:
    exposed = {family.name for family in text_string_to_metric_families(_exposition())}
    asked = {re.sub(r"_(bucket|total)$", "", name)
             for query in _dashboard_queries() for name in re.findall(r"upwatch_\w+", query)}
    assert asked and asked <= exposed, asked - exposed
    # Its PromQL parses: each panel's query (variables filled in) checked as a recording rule.
    exprs = [re.sub(r"\$\w+", "30d", q) for q in _dashboard_queries()
             if not q.startswith("label_values")]
    rules = tmp_path / "dashboard_rules.yml"
    rules.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:panel{i}", "expr": e} for i, e in enumerate(exprs)]}]}))
    checked = promtool("check", "rules", str(rules))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_real_prometheus_scrapes_the_certificate_expiry(tmp_path: Path) -> None:
    not_after = _monitors()
    with serving(_app()) as base, running_prometheus(
            base.removeprefix("http://"), TOKEN, tmp_path) as prometheus:
        for slug in ("shop", "secret-db"):  # the private one too: the scrape sends the token
            found = query_until(prometheus, "upwatch_monitor_certificate_expiry_timestamp_"
                                f'seconds{{monitor="{slug}"}}')
            assert float(found[0]["value"][1]) == datetime.fromisoformat(
                str(not_after[slug])).timestamp()
        days = query_until(prometheus, '(upwatch_monitor_certificate_expiry_timestamp_seconds'
                           '{monitor="shop"} - time()) / 86400')
        assert 200 <= float(days[0]["value"][1]) < 201.1
