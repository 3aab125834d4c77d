"""How states, times and numbers read on the pages."""

from datetime import UTC, datetime, timedelta

from domain.states import for_every_overall_state, for_every_state

STATE_LABELS = for_every_state({
    "up": "🟢 up",
    "degraded": "🟡 degraded",
    "down": "🔴 down",
    "pending": "⚪ pending",
    "maintenance": "🔵 maintenance",
    "paused": "⏸️ paused",
})

WINDOW_LABELS = {"24h": "24 hours", "7d": "7 days", "30d": "30 days", "90d": "90 days"}

OVERALL_LABELS = for_every_overall_state({
    "operational": "All systems operational",
    "degraded": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "maintenance": "Under maintenance",
})


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return "never"
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def percent(fraction: float | None) -> str:
    return "no data" if fraction is None else f"{fraction * 100:.2f}%"


def milliseconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms"


_MARKDOWN_SPECIALS = set("\\`*_{}[]()<>#+-.!|~$:")


def plain(text: str) -> str:
    """User text inside Markdown: shown as typed, never as links, HTML or formatting."""
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIALS else c for c in text)


def format_duration(duration: timedelta) -> str:
    """`45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`: short enough for an SMS, exact enough to act on."""
    seconds = max(0, int(duration.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"
