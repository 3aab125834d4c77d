"""Alert rules over time windows, set per monitor (pure).

A rule fires when its condition has held over its window, and resolves when it no longer holds;
each has its own severity. The kinds:

- `latency`: the latency percentile `percentile` (50, 95 or 99) over the last `window_minutes`
  is above `threshold` milliseconds (the warning and critical latency levels are two such rules);
- `failure_rate`: the share of failed checks over the last `window_minutes` is above `threshold`
  percent;
- `uptime`: uptime over the current calendar `period` (day, week or month, in UTC) is below
  `threshold` percent;
- `certificate_days`: the TLS certificate expires in fewer than `threshold` days.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RuleKind = Literal["latency", "failure_rate", "uptime", "certificate_days"]
RULE_KINDS: tuple[RuleKind, ...] = ("latency", "failure_rate", "uptime", "certificate_days")
PERIODS = ("day", "week", "month")
PERCENTILES = (50, 95, 99)


@dataclass(frozen=True, slots=True)
class WindowRule:
    kind: RuleKind
    threshold: float
    severity: str = "high"
    window_minutes: int | None = None  # latency and failure_rate
    percentile: int | None = None  # latency
    period: str | None = None  # uptime

    @property
    def key(self) -> str:
        """Names the rule among its monitor's rules, stable while the rule is unchanged."""
        parts = [self.kind, f"{self.threshold:g}"]
        if self.percentile is not None:
            parts.insert(1, f"p{self.percentile}")
        if self.window_minutes is not None:
            parts.append(f"{self.window_minutes}m")
        if self.period is not None:
            parts.append(self.period)
        return ":".join(parts)
