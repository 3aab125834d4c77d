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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from domain.limits import InvalidInput, finite_number
from domain.severity import DEFAULT_SEVERITY, SEVERITIES, SEVERITY_CHOICES

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


# --- what an operator may set ------------------------------------------------------------------

MAX_RULES = 10  # a monitor's rules are evaluated after each of its results: keep that cheap
MIN_WINDOW_MINUTES, MAX_WINDOW_MINUTES = 1, 1440  # a minute .. a day
DEFAULT_PERCENTILE = 95
# kind -> (lowest, highest, whole numbers only, what to write when out of range)
THRESHOLDS: dict[str, tuple[float, float, bool, str]] = {
    "latency": (1, 300_000, False, "milliseconds from 1 to 300,000 (5 minutes)"),
    "failure_rate": (0, 99.99, False, "a percentage from 0 to 99.99 (the rule fires above it)"),
    "uptime": (0.01, 100, False, "a percentage from 0.01 to 100 (the rule fires below it)"),
    "certificate_days": (1, 365, True, "a whole number of days from 1 to 365"),
}
# The fields each kind takes besides kind, threshold and severity.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "latency": ("window_minutes", "percentile"),
    "failure_rate": ("window_minutes",),
    "uptime": ("period",),
    "certificate_days": (),
}
_ALL_FIELDS = ("kind", "threshold", "severity", "window_minutes", "percentile", "period")
# The form's "warning" and "critical" latency levels, as the severities of the two rules.
LATENCY_LEVEL_SEVERITIES = {"warning": "medium", "critical": "critical"}


def parse_rules(raw: object) -> list[WindowRule]:
    """The rules in `raw` (a list of objects, or None for none), or InvalidInput naming each bad
    field as `rules[i].field` (`rules` for the list itself)."""
    if raw is None:
        return []
    if not isinstance(raw, list | tuple):
        raise InvalidInput({"rules": "send the rules as a list of objects"})
    if len(raw) > MAX_RULES:
        raise InvalidInput({"rules": f"{len(raw)} rules: use at most {MAX_RULES} per monitor"})
    errors: dict[str, str] = {}
    rules: list[WindowRule] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(raw):
        try:
            rule = parse_rule(item, f"rules[{index}]")
        except InvalidInput as exc:
            errors.update(exc.errors)
            continue
        if rule.key in first_index:
            errors[f"rules[{index}]"] = f"the same rule as rules[{first_index[rule.key]}]: " \
                "remove one, or change its threshold or window"
            continue
        first_index[rule.key] = index
        rules.append(rule)
    if errors:
        raise InvalidInput(errors)
    return rules


def parse_rule(item: object, where: str = "rule") -> WindowRule:
    """One rule from an object, or InvalidInput naming `where.field` for each bad field."""
    if isinstance(item, WindowRule):
        item = rule_to_stored(item)
    if not isinstance(item, Mapping):
        raise InvalidInput({where: "send the rule as an object with kind and threshold"})
    kind = item.get("kind")
    if kind not in RULE_KINDS:
        raise InvalidInput({f"{where}.kind": f"use one of {', '.join(RULE_KINDS)}"})
    errors: dict[str, str] = {}
    allowed = ("kind", "threshold", "severity", *KIND_FIELDS[kind])
    for name in item:
        if name not in allowed:
            errors[f"{where}.{name}"] = (
                f"a {kind} rule has no {name}" if name in _ALL_FIELDS
                else f"unknown field: use {', '.join(allowed)}")
    threshold = _threshold(kind, item.get("threshold"), f"{where}.threshold", errors)
    severity = item.get("severity", DEFAULT_SEVERITY)
    if severity not in SEVERITIES:
        errors[f"{where}.severity"] = f"use {SEVERITY_CHOICES}"
    window = percentile = period = None
    if "window_minutes" in KIND_FIELDS[kind]:
        window = _window(item.get("window_minutes"), f"{where}.window_minutes", errors)
    if "percentile" in KIND_FIELDS[kind]:
        percentile = _percentile(item.get("percentile", DEFAULT_PERCENTILE),
                                 f"{where}.percentile", errors)
    if "period" in KIND_FIELDS[kind]:
        period = item.get("period")
        if period not in PERIODS:
            errors[f"{where}.period"] = f"use one of {', '.join(PERIODS)} (calendar, in UTC)"
    if errors:
        raise InvalidInput(errors)
    assert threshold is not None
    return WindowRule(kind=kind, threshold=threshold, severity=str(severity),
                      window_minutes=window, percentile=percentile, period=period)


def _whole(value: object) -> int | None:
    number = finite_number(value)
    if number is None or not number.is_integer():
        return None
    return int(number)


def _threshold(kind: str, value: object, field: str, errors: dict[str, str]) -> float | None:
    low, high, whole, hint = THRESHOLDS[kind]
    number = _whole(value) if whole else finite_number(value)
    if number is None or not low <= number <= high:
        errors[field] = f"use {hint}"
        return None
    return float(number)


def _window(value: object, field: str, errors: dict[str, str]) -> int | None:
    minutes = _whole(value)
    if minutes is None or not MIN_WINDOW_MINUTES <= minutes <= MAX_WINDOW_MINUTES:
        errors[field] = f"use a whole number of minutes from {MIN_WINDOW_MINUTES} to " \
            f"{MAX_WINDOW_MINUTES} (a day)"
        return None
    return minutes


def _percentile(value: object, field: str, errors: dict[str, str]) -> int | None:
    number = _whole(value)
    if number not in PERCENTILES:
        errors[field] = f"use one of {', '.join(str(p) for p in PERCENTILES)}"
        return None
    return number


def unfit_rule(rules: list[WindowRule], monitor_kind: str, has_certificate: bool) -> str | None:
    """"rules[i].kind: why" for the first rule that could never fire on this monitor (a
    latency rule on a push monitor, whose beats carry no latency; a certificate rule on a
    monitor that sees no certificate), else None."""
    for index, rule in enumerate(rules):
        if rule.kind == "latency" and monitor_kind == "push":
            return f"rules[{index}].kind: a push monitor's beats carry no latency: use " \
                "failure_rate or uptime rules"
        if rule.kind == "certificate_days" and not has_certificate:
            return f"rules[{index}].kind: this monitor sees no TLS certificate: use " \
                "certificate_days on a TLS monitor or an https:// URL"
    return None


def rule_json_schema() -> dict[str, Any]:
    """A rule object as JSON Schema (the API's documents describe `rules` with it)."""
    return {
        "type": "object", "additionalProperties": False, "required": ["kind", "threshold"],
        "description": "An alert rule over a window: latency (ms, the percentile over "
                       "window_minutes), failure_rate (% of checks over window_minutes), "
                       "uptime (% over the calendar period, UTC), certificate_days (days left).",
        "properties": {
            "kind": {"type": "string", "enum": list(RULE_KINDS)},
            "threshold": {"type": "number", "description": "; ".join(
                f"{kind}: {hint}" for kind, (_low, _high, _whole, hint) in THRESHOLDS.items())},
            "severity": {"type": "string", "enum": list(SEVERITIES), "default": DEFAULT_SEVERITY},
            "window_minutes": {"type": "integer", "minimum": MIN_WINDOW_MINUTES,
                               "maximum": MAX_WINDOW_MINUTES,
                               "description": "latency and failure_rate rules"},
            "percentile": {"type": "integer", "enum": list(PERCENTILES),
                           "default": DEFAULT_PERCENTILE, "description": "latency rules"},
            "period": {"type": "string", "enum": list(PERIODS), "description": "uptime rules"},
        },
    }


# --- stored form (Monitor.rules), and back ------------------------------------------------------


def rule_to_stored(rule: WindowRule) -> dict[str, Any]:
    """A rule as the JSON object kept in Monitor.rules (and shown by the API and the file):
    only the fields its kind takes; whole thresholds as integers."""
    stored: dict[str, Any] = {"kind": rule.kind, "threshold": _plain_number(rule.threshold),
                              "severity": rule.severity}
    for name in KIND_FIELDS[rule.kind]:
        stored[name] = getattr(rule, name)
    return stored


def rules_to_stored(rules: list[WindowRule]) -> list[dict[str, Any]]:
    return [rule_to_stored(rule) for rule in rules]


def rules_from_stored(stored: list[dict[str, Any]] | None) -> list[WindowRule]:
    """The rules kept in Monitor.rules (validated when written). A rule that no longer reads
    (written by a newer version, edited in the database by hand) is left out rather than
    stopping the monitor's other rules."""
    rules: list[WindowRule] = []
    for item in stored or ():
        try:
            rules.append(parse_rule(item))
        except InvalidInput:
            continue
    return rules


def _plain_number(value: float) -> float | int:
    return int(value) if value.is_integer() else value


# --- how a rule reads ---------------------------------------------------------------------------

_PERIOD_WORDS = {"day": "today", "week": "this week", "month": "this month"}


def describe_rule(rule: WindowRule) -> str:
    """A short sentence for forms and notices: "p95 above 500 ms for 10 min"."""
    threshold = f"{rule.threshold:,g}"
    if rule.kind == "latency":
        return f"p{rule.percentile} above {threshold} ms for {rule.window_minutes} min"
    if rule.kind == "failure_rate":
        return f"failures above {threshold} % over {rule.window_minutes} min"
    if rule.kind == "uptime":
        return f"uptime below {threshold} % {_PERIOD_WORDS.get(rule.period or '', '')}".rstrip()
    return f"certificate expires in under {threshold} days"


# --- the form's two latency levels --------------------------------------------------------------


def latency_levels(warning_ms: float | None, critical_ms: float | None, *,
                   percentile: int = DEFAULT_PERCENTILE, window_minutes: int = 5,
                   ) -> list[dict[str, Any]]:
    """The "warning" and "critical" latency levels as two latency rules (raw, for parse_rules);
    a blank level gives no rule. InvalidInput when the critical level is not above the warning."""
    if warning_ms is not None and critical_ms is not None and critical_ms <= warning_ms:
        raise InvalidInput({"latency_critical_ms": "set the critical level above the warning "
                            f"level ({warning_ms:,g} ms)"})
    levels = (("warning", warning_ms), ("critical", critical_ms))
    return [{"kind": "latency", "threshold": value, "percentile": percentile,
             "window_minutes": window_minutes, "severity": LATENCY_LEVEL_SEVERITIES[level]}
            for level, value in levels if value is not None]
