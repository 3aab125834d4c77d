"""Tags and runbook links on monitors, and the certificate each TLS monitor was last served."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.monitor_input import InvalidInput, parse_monitor_input
from domain.result import ProbeResult
from storage.certificates import certificate_of
from storage.monitors import create_monitor, get_monitor, update_monitor
from storage.results import record_result

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def spec(**extra):
    return parse_monitor_input({"name": "API", "url": "http://127.0.0.1:1/", **extra})


def test_tags_are_trimmed_deduplicated_and_stored() -> None:
    monitor = create_monitor(spec(tags=[" payments ", "EU  west", "Payments", ""]))
    assert get_monitor(monitor.slug).tags == ("payments", "EU west")
    assert spec(tags="a, b,,c").tags == ["a", "b", "c"]


@pytest.mark.parametrize(("tags", "message"), [
    (["x" * 41], "at most 40"),
    ([f"t{i}" for i in range(21)], "at most 20 tags"),
    (["bad\x00tag"], "remove it"),
])
def test_bad_tags_are_refused_with_what_to_fix(tags, message) -> None:
    with pytest.raises(InvalidInput) as refused:
        spec(tags=tags)
    assert message in refused.value.errors["tags"]


def test_a_runbook_link_must_be_a_web_address() -> None:
    assert spec(runbook_url="  ").runbook_url is None
    with pytest.raises(InvalidInput) as refused:
        spec(runbook_url="javascript:alert(1)")
    assert "http://" in refused.value.errors["runbook_url"]
    monitor = create_monitor(spec(runbook_url="https://wiki.example/runbooks/api"))
    assert get_monitor(monitor.slug).runbook_url == "https://wiki.example/runbooks/api"
    assert update_monitor(monitor.slug, {"tags": ["x"]}).runbook_url.endswith("/api")


def _tls(fingerprint: str, verified: bool = True) -> dict:
    return {"fingerprint": fingerprint, "subject": "CN=api", "issuer": "CN=ca",
            "not_after": "2027-01-01T00:00:00+00:00", "days_left": 30, "verified": verified,
            "hostname_matches": True, "sans": ["api"]}


def test_the_certificate_is_kept_and_a_renewal_is_remembered() -> None:
    monitor = create_monitor(spec())
    record_result(monitor.id, ProbeResult("up", NOW, latency_ms=5, tls=_tls("AA")))
    record_result(monitor.id, ProbeResult("up", NOW + timedelta(minutes=1), latency_ms=5,
                                          tls=_tls("AA")))
    first = certificate_of(monitor.id)
    assert first is not None and first.first_seen_at == NOW and first.changed_at is None
    renewed_at = NOW + timedelta(minutes=2)
    record_result(monitor.id, ProbeResult("up", renewed_at, latency_ms=5, tls=_tls("BB")))
    renewed = certificate_of(monitor.id)
    assert renewed.facts["fingerprint"] == "BB" and renewed.previous_fingerprint == "AA"
    assert renewed.changed_at == renewed_at
    record_result(monitor.id, ProbeResult("up", renewed_at + timedelta(minutes=1),
                                          latency_ms=5, tls=_tls("BB", verified=False)))
    assert certificate_of(monitor.id).facts["verified"] is False
    assert certificate_of(monitor.id).changed_at == renewed_at  # same certificate, new verdict
