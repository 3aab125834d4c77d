"""Whether an alert rule over a window holds (pure): the latency percentile and failure rate of a
monitor's recent checks, uptime over a calendar period, a certificate's days left.

The numbers are the reports' own: a percentile is a `LatencyHistogram` quantile of successful
checks (nearest rank, within 1 %), a failure is a check whose outcome is "down" and uptime is
`StateSeconds.uptime`, exactly as the rollups count them (analytics/rollup.py). Nothing here
defines them a second time.

Windows: a rule over N minutes looks at the checks made in (now - N min, now]: a check exactly
N minutes old is outside. It is judged only once the monitor was watched for the whole window,
i.e. a check at or before now - N min is known; until then, and when the window holds nothing to
judge, the verdict is None and the rule keeps its state. Checks during maintenance are left out,
and a gap (no checks) counts as nothing: neither a failure nor a success.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from analytics.histogram import LatencyHistogram, add_to_each
from analytics.rollup import SUCCESS_OUTCOMES
from analytics.uptime import StateSeconds
from domain.certificates import days_left
from domain.window_rules import WindowRule

# (checked at in epoch seconds, failed, latency in ms of a successful check else None)
Check = tuple[float, bool, float | None]


@dataclass(frozen=True, slots=True)
class Verdict:
    """`holds`: the rule's condition is met (it fires), False: it is not (it resolves), None:
    nothing to judge (the rule keeps its state). `value` is what was compared."""

    holds: bool | None
    value: float | None = None


NOTHING = Verdict(None)


class RecentChecks:
    """One monitor's checks over its longest rule window, newest last, in time order.

    The newest check older than the window is kept too: it shows that the monitor was watched
    all through the window, so a window with few checks is a gap and not a fresh start.
    """

    __slots__ = ("checks", "keep_s")

    def __init__(self, keep_s: float) -> None:
        self.keep_s = keep_s
        self.checks: deque[Check] = deque()

    def add(self, at_s: float, outcome: str, latency_ms: float | None) -> bool:
        """Keep a check (False when it is not newer than the last: already kept, as when a
        batch is written again after a failed attempt)."""
        checks = self.checks
        if checks and at_s <= checks[-1][0]:
            return False
        success = outcome in SUCCESS_OUTCOMES
        checks.append((at_s, outcome == "down", latency_ms if success else None))
        cutoff = at_s - self.keep_s
        while len(checks) > 1 and checks[1][0] <= cutoff:
            checks.popleft()
        return True

    def covers(self, window_s: float, now_s: float) -> bool:
        return bool(self.checks) and self.checks[0][0] <= now_s - window_s

    def within(self, window_s: float, now_s: float) -> list[Check]:
        """The checks in (now - window, now]."""
        low = now_s - window_s
        return [check for check in self.checks if low < check[0] <= now_s]


def window_percentile(recent: RecentChecks, window_s: float, percentile: int,
                      now_s: float) -> float | None:
    """The latency percentile (ms) of the successful checks in the window; None when the
    window is not covered or holds none."""
    if not recent.covers(window_s, now_s):
        return None
    histogram = LatencyHistogram()
    low = now_s - window_s
    for at_s, _, latency_ms in recent.checks:
        if latency_ms is not None and low < at_s <= now_s:
            add_to_each((histogram,), latency_ms)
    return histogram.quantile(percentile / 100)


def window_failure_rate(recent: RecentChecks, window_s: float, now_s: float) -> float | None:
    """The share (percent) of failed checks in the window; None when it is not covered or
    holds no check."""
    if not recent.covers(window_s, now_s):
        return None
    checks = recent.within(window_s, now_s)
    if not checks:
        return None
    return 100 * sum(1 for _, failed, _ in checks if failed) / len(checks)


def compare(rule: WindowRule, value: float | None) -> Verdict:
    """Whether `value` meets the rule's condition: above the threshold for latency and failure
    rates, below it for uptime and certificate days."""
    if value is None:
        return NOTHING
    if rule.kind in ("uptime", "certificate_days"):
        return Verdict(value < rule.threshold, value)
    return Verdict(value > rule.threshold, value)


def window_value(rule: WindowRule, recent: RecentChecks, now_s: float) -> float | None:
    """What a latency or failure-rate rule compares, over the recent checks."""
    window_s = (rule.window_minutes or 0) * 60
    if rule.kind == "latency":
        return window_percentile(recent, window_s, rule.percentile or 95, now_s)
    if rule.kind == "failure_rate":
        return window_failure_rate(recent, window_s, now_s)
    return None


def latency_verdict(rule: WindowRule, recent: RecentChecks, now_s: float) -> Verdict:
    """The rule's percentile of successful checks over its window above its threshold (ms)."""
    return compare(rule, window_value(rule, recent, now_s))


def failure_rate_verdict(rule: WindowRule, recent: RecentChecks, now_s: float) -> Verdict:
    """The share of failed checks over the rule's window above its threshold (percent)."""
    return compare(rule, window_value(rule, recent, now_s))


def uptime_verdict(rule: WindowRule, seconds: StateSeconds) -> Verdict:
    """Uptime (percent) over the rule's calendar period below its threshold; `seconds` are the
    period's state seconds so far, as the reports read them."""
    uptime = seconds.uptime
    return compare(rule, None if uptime is None else 100 * uptime)


def certificate_verdict(rule: WindowRule, not_after: datetime | None, now: datetime) -> Verdict:
    """The certificate's whole days left below the rule's threshold (None: no certificate)."""
    return compare(rule, None if not_after is None else float(days_left(not_after, now)))


def period_start(period: str | None, now: datetime) -> datetime:
    """The start (UTC) of the calendar day, week (from Monday) or month holding `now`."""
    day = datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def window_measure(rule: WindowRule) -> tuple[str, int | None, int | None]:
    """What a windowed rule measures: rules that differ only in threshold and severity (the
    warning and critical levels) share it, and it is computed once for them."""
    return (rule.kind, rule.window_minutes, rule.percentile)


def needs_recent_checks(rule: WindowRule) -> bool:
    return rule.kind in ("latency", "failure_rate")


def describe_value(rule: WindowRule, value: float | None) -> str:
    """The value that decided a verdict, in the rule's unit: "812 ms", "7.5 %", "12 days"."""
    if value is None:
        return "no data"
    if rule.kind == "latency":
        return f"{value:,.0f} ms"
    if rule.kind == "certificate_days":
        return f"{value:.0f} days"
    if rule.kind == "uptime":
        return f"{value:.3f} %".replace(".000 %", " %")
    return f"{value:.1f} %".replace(".0 %", " %")


__all__ = [
    "NOTHING",
    "Check",
    "RecentChecks",
    "Verdict",
    "certificate_verdict",
    "compare",
    "describe_value",
    "failure_rate_verdict",
    "latency_verdict",
    "needs_recent_checks",
    "period_start",
    "uptime_verdict",
    "window_failure_rate",
    "window_measure",
    "window_percentile",
    "window_value",
]
