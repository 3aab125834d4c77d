"""The figures of readmodel/metrics_view in Prometheus's text exposition format (through
prometheus-client), rendered once per snapshot: one body with public monitors only, one with
every monitor and the notification counters (for a scrape with the API token).

Labels are bounded: monitor (its slug), group, kind, and for a few metrics a state, a window
or an outcome from fixed sets; never a URL or a reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from domain.states import STATES, is_serving
from readmodel.metrics_view import LATENCY_BOUNDS_S, METRIC_WINDOWS, MetricsView, MonitorFigures

LABELS = ["monitor", "group", "kind"]


@dataclass(frozen=True, slots=True)
class MetricsBodies:
    """What GET /metrics sends, before the figures only the serving process knows."""

    public: bytes
    everyone: bytes
    next_due: float | None  # epoch seconds: the earliest check the engine owes


def _labels(m: MonitorFigures) -> list[str]:
    return [m.slug, m.group, m.kind]


class _Families(Collector):
    """The metric families of one group of monitors (and, with the token, notifications)."""

    def __init__(self, view: MetricsView, monitors: list[MonitorFigures],
                 notifications: bool) -> None:
        self._view = view
        self._monitors = monitors
        self._notifications = notifications

    def collect(self) -> Iterator[Metric]:
        monitors = self._monitors
        yield from self._gauges(monitors)
        checks = CounterMetricFamily(
            "upwatch_checks", "check results recorded since the counters began, by outcome",
            labels=[*LABELS, "outcome"])
        latency = HistogramMetricFamily(
            "upwatch_check_latency_seconds", "latency of the checks recorded since the counters "
            "began", labels=LABELS)
        for m in monitors:
            for outcome, count in sorted(m.checks.items()):
                checks.add_metric([*_labels(m), outcome], count)
            buckets = [(repr(b), c) for b, c in zip(LATENCY_BOUNDS_S, m.latency_buckets,
                                                     strict=True)]
            latency.add_metric(_labels(m), [*buckets, ("+Inf", m.latency_count)],
                               m.latency_sum_s)
        yield checks
        yield latency
        if self._notifications:
            yield from self._sends()

    def _gauges(self, monitors: list[MonitorFigures]) -> Iterator[Metric]:
        up = GaugeMetricFamily("upwatch_monitor_up", "1 when up or degraded, else 0",
                               labels=LABELS)
        state = GaugeMetricFamily("upwatch_monitor_state", "1 for the monitor's current state",
                                  labels=[*LABELS, "state"])
        latency = GaugeMetricFamily("upwatch_monitor_latency_seconds",
                                    "latency of the last check", labels=LABELS)
        checked = GaugeMetricFamily("upwatch_monitor_last_check_timestamp_seconds",
                                    "when the monitor was last checked", labels=LABELS)
        expiry = GaugeMetricFamily(
            "upwatch_monitor_certificate_expiry_timestamp_seconds",
            "when the last TLS certificate seen expires (its not_after)", labels=LABELS)
        uptime = GaugeMetricFamily("upwatch_monitor_uptime_ratio",
                                   "share of the window the monitor was up (0..1)",
                                   labels=[*LABELS, "window"])
        for m in monitors:
            labels = _labels(m)
            up.add_metric(labels, 1.0 if is_serving(m.state) else 0.0)
            for name in STATES:
                state.add_metric([*labels, name], 1.0 if name == m.state else 0.0)
            if m.latency_s is not None:
                latency.add_metric(labels, m.latency_s)
            if m.last_check_at is not None:
                checked.add_metric(labels, m.last_check_at)
            if m.cert_not_after is not None:
                expiry.add_metric(labels, m.cert_not_after)
            for window in METRIC_WINDOWS:
                ratio = m.uptime.get(window)
                if ratio is not None:
                    uptime.add_metric([*labels, window], ratio)
        yield from (up, state, latency, checked, expiry, uptime)

    def _sends(self) -> Iterator[Metric]:
        sent = CounterMetricFamily(
            "upwatch_notifications", "notification send attempts since the counters began, by "
            "channel and outcome", labels=["channel", "outcome"])
        retries = CounterMetricFamily(
            "upwatch_notification_retries", "send attempts that will be tried again",
            labels=["channel"])
        retried: dict[str, float] = {}
        for (channel, outcome), count in sorted(self._view.notifications.items()):
            sent.add_metric([channel, outcome], count)
            retried[channel] = retried.get(channel, 0.0) + (count if outcome == "retry" else 0.0)
        for channel, count in retried.items():
            retries.add_metric([channel], count)
        yield sent
        yield retries


class _One(Collector):
    def __init__(self, family: Metric) -> None:
        self._family = family

    def collect(self) -> Iterator[Metric]:
        yield self._family


def _text(family: Metric) -> bytes:
    """One family in the text format: its # HELP and # TYPE lines, then its samples."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_One(family))
    return generate_latest(registry)


def metrics_bodies(view: MetricsView) -> MetricsBodies:
    """Both bodies, each sample rendered once: a family's private samples follow its public
    ones in the body for the token (the format wants one family's samples together)."""
    public = [m for m in view.monitors if m.public]
    private = [m for m in view.monitors if not m.public]
    shown = list(_Families(view, public, notifications=False).collect())
    hidden = list(_Families(view, private, notifications=True).collect())
    public_body: list[bytes] = []
    everyone_body: list[bytes] = []
    for family, more in zip(shown, hidden[:len(shown)], strict=True):
        text = _text(family)
        public_body.append(text)
        everyone_body += [text, _text(more).split(b"\n", 2)[2]]  # without its header lines
    everyone_body += [_text(family) for family in hidden[len(shown):]]  # notifications
    return MetricsBodies(b"".join(public_body), b"".join(everyone_body), view.next_due)
