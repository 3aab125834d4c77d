"""A monitor's severity: how urgent its outages are, shown as P1 (critical) to P4 (low).

Routing and quiet hours compare severities by rank (a channel's quiet hours let through what is
at least as severe as its minimum); an incident a monitor opens takes the monitor's severity.
"""

from __future__ import annotations

SEVERITIES = ("critical", "high", "medium", "low")  # P1 .. P4, most urgent first
DEFAULT_SEVERITY = "high"
# Higher is more urgent.
SEVERITY_RANK = {severity: len(SEVERITIES) - index for index, severity in enumerate(SEVERITIES)}
SEVERITY_CHOICES = "critical (P1), high (P2), medium (P3) or low (P4)"


def priority(severity: str | None) -> str:
    """"P1" for critical .. "P4" for low; an unknown or missing severity is the default's."""
    known = severity if severity in SEVERITY_RANK else DEFAULT_SEVERITY
    return f"P{SEVERITIES.index(known) + 1}"


def severity_label(severity: str | None) -> str:
    """"P2 · high": how a severity is shown."""
    known = severity if severity in SEVERITY_RANK else DEFAULT_SEVERITY
    return f"{priority(known)} · {known}"
