"""What every channel sends: one `Notice` per event, and the texts built from it."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from domain.formatting import format_duration

NoticeKind = Literal[
    "down",
    "up",
    "degraded",
    "certificate",
    "maintenance_start",
    "maintenance_end",
    "flapping",
    "reminder",
    "acknowledged",
    "test",
    "digest",
    "rule_firing",
    "rule_resolved",
]


@dataclass(frozen=True, slots=True)
class Notice:
    """One state-change event, as people should hear about it.

    `since` is when the new state began (UTC). `downtime` is set on recovery: how long the monitor
    was down. `event_id` identifies the event row; channels pass it on as an idempotency key where
    the provider accepts one, so a retried delivery can be recognised as the same message.
    """

    kind: NoticeKind
    monitor_name: str
    monitor_slug: str
    state: str
    reason: str | None
    since: datetime
    dashboard_url: str
    status_url: str
    event_id: int
    downtime: timedelta | None = None
    ack_url: str | None = None
    runbook_url: str | None = None  # the monitor's runbook; None when it has none
    severity: str | None = None  # domain.severity's: critical .. low; None: not known
    # An alert rule's notice (rule_firing, rule_resolved): the rule (domain.window_rules'
    # WindowRule.key), which names it among the monitor's rules; `reason` says what it saw.
    rule_key: str | None = None


def label(notice: Notice) -> str:
    """The one or two words that lead every message: what happened, in capitals."""
    labels: dict[str, str] = {
        "down": "DOWN",
        "up": "UP",
        "degraded": "DEGRADED",
        "certificate": "CERTIFICATE",
        "maintenance_start": "MAINTENANCE",
        "maintenance_end": "MAINTENANCE OVER",
        "flapping": "FLAPPING",
        "acknowledged": "ACKNOWLEDGED",
        "test": "TEST",
        "digest": "DIGEST",
        "rule_firing": "ALERT",
        "rule_resolved": "ALERT OVER",
    }
    if notice.kind == "reminder":
        return f"STILL {notice.state.upper()}"
    return labels[notice.kind]


def headline(notice: Notice) -> str:
    """A sentence naming the monitor and what happened to it."""
    name = notice.monitor_name
    sentences: dict[str, str] = {
        "down": f"{name} is down",
        "up": f"{name} is back up",
        "degraded": f"{name} is degraded",
        "certificate": f"{name}: TLS certificate needs attention",
        "maintenance_start": f"{name}: maintenance started",
        "maintenance_end": f"{name}: maintenance ended",
        "flapping": f"{name} is flapping between up and down",
        "acknowledged": f"{name}: the outage was acknowledged",
        "test": f"Test message from Upwatch for {name}",
        "digest": name,  # a digest's title (notifiers/digest_notice.py); its lines are the reason
        "rule_firing": f"{name}: an alert rule fired",
        "rule_resolved": f"{name}: an alert rule no longer holds",
    }
    if notice.kind == "reminder":
        return f"{name} is still {notice.state}"
    return sentences[notice.kind]


def _in_utc(moment: datetime) -> datetime:
    # Stored times are UTC; a naive one is taken as UTC rather than as this machine's local time.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def format_time(moment: datetime) -> str:
    """`14:02 UTC`: on-call readers compare it with the clock, not the calendar."""
    return _in_utc(moment).strftime("%H:%M UTC")


def format_timestamp(moment: datetime) -> str:
    return _in_utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


def plain_text(notice: Notice) -> str:
    """A multi-line plain-text body (e-mail, logs, fallbacks)."""
    lines = [f"{label(notice)}: {headline(notice)}"]
    if notice.reason:
        lines.append(f"Reason: {notice.reason}")
    lines.append(f"State: {notice.state}")
    lines.append(f"Since: {format_timestamp(notice.since)}")
    if notice.downtime is not None:
        lines.append(f"Downtime: {format_duration(notice.downtime)}")
    lines.append("")
    lines.append(f"Dashboard: {notice.dashboard_url}")
    lines.append(f"Status page: {notice.status_url}")
    if notice.runbook_url:
        lines.append(f"Runbook: {notice.runbook_url}")
    if notice.ack_url:
        lines.append(f"Acknowledge: {notice.ack_url}")
    return "\n".join(lines) + "\n"


# --- SMS ---------------------------------------------------------------------------------------
#
# A single SMS holds 160 characters only when every character is in the GSM 03.38 alphabet. One
# character outside it (a curly quote from a copy-pasted reason, a non-breaking space, an emoji in a
# monitor name) switches the whole message to UCS-2, where a segment holds 70 characters: the same
# text then costs three messages and may arrive split or out of order. So SMS text is folded into
# GSM-7 before it is measured, and measured in septets (extension characters cost two).

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Sent as ESC + character: each costs two septets.
GSM7_EXTENSION = frozenset("^{}\\[~]|€")
SMS_LIMIT = 160

# Look-alikes that people paste from word processors and chat apps, folded to what they look like.
_FOLDED: dict[str, str] = {
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
    "…": "...", "•": "*", "·": ".", "×": "x", "÷": "/", "→": "->", "←": "<-",
    "\t": " ", "\n": " ", "\r": " ", "\v": " ", "\f": " ",
}  # fmt: skip


def _fold_char(char: str) -> str:
    if char in GSM7_BASIC or char in GSM7_EXTENSION:
        return " " if char in "\n\r" else char
    if char in _FOLDED:
        return _FOLDED[char]
    category = unicodedata.category(char)
    if category == "Zs":
        return " "  # non-breaking, thin, ideographic spaces: all look like a space
    folded = []
    # Compatibility decomposition turns "á" into "a" + accent, "ﬁ" into "fi", "Ａ" into "A".
    for part in unicodedata.normalize("NFKD", char):
        if part in GSM7_BASIC or part in GSM7_EXTENSION:
            folded.append(part)
        elif part in _FOLDED:
            folded.append(_FOLDED[part])
        elif unicodedata.category(part)[0] in "LN":
            # A letter with no GSM-7 look-alike (CJK, Cyrillic...): keep a visible trace of it.
            folded.append("?")
        # Accents, emoji, symbols, control and zero-width characters are dropped.
    return "".join(folded)


def to_gsm7(text: str) -> str:
    """`text` folded into the GSM-7 alphabet, on one line, with runs of spaces collapsed."""
    return " ".join("".join(_fold_char(char) for char in text).split())


def gsm7_septets(text: str) -> int:
    """Length as the network counts it; only valid for text already folded by `to_gsm7`."""
    return sum(2 if char in GSM7_EXTENSION else 1 for char in text)


def _cut(text: str, septets: int) -> str:
    """`text` shortened to at most `septets`, ending in '...' when anything was cut."""
    if gsm7_septets(text) <= septets:
        return text
    if septets <= 3:
        return "." * max(septets, 0)
    kept: list[str] = []
    used = 0
    for char in text:
        cost = 2 if char in GSM7_EXTENSION else 1
        if used + cost > septets - 3:
            break
        kept.append(char)
        used += cost
    return "".join(kept).rstrip() + "..."


def sms_cut(text: str) -> str:
    """Any text as one SMS: folded into GSM-7 and cut to 160 septets (a template's text)."""
    return _cut(to_gsm7(text), SMS_LIMIT)


def sms_text(notice: Notice) -> str:
    """One SMS: `DOWN api.example.com: HTTP 503 since 14:02 UTC`.

    Always GSM-7 and at most 160 septets. The label and the time are never cut; a long reason
    is shortened first, then the monitor name; the acknowledge link is added only when it fits
    whole (a cut link is worse than none).
    """
    head = _cut(to_gsm7(label(notice)), 30)
    name = to_gsm7(notice.monitor_name) or to_gsm7(notice.monitor_slug) or "?"
    if notice.kind == "up":
        detail = f"back after {format_duration(notice.downtime)}" if notice.downtime else "back up"
        tail = f" at {format_time(notice.since)}"
    else:
        detail = to_gsm7(notice.reason or "")
        tail = f" since {format_time(notice.since)}"
    if notice.kind == "test":
        detail, tail = "test message from Upwatch", ""

    fixed = f"{head} : {tail}"  # everything that is never cut, separators included
    budget = SMS_LIMIT - gsm7_septets(fixed)
    ack = ""
    ack_url = to_gsm7(notice.ack_url or "")
    if ack_url and ack_url == notice.ack_url:
        candidate = f" Ack: {ack_url}"
        # Keep at least a readable name and reason beside the link.
        if budget - gsm7_septets(candidate) >= 40:
            ack = candidate
            budget -= gsm7_septets(candidate)
    runbook_url = to_gsm7(notice.runbook_url or "")
    if runbook_url and runbook_url == notice.runbook_url:
        candidate = f" Runbook: {runbook_url}"
        # Sent only when it fits whole; the name and reason keep a short floor beside it.
        if budget - gsm7_septets(candidate) >= 20:
            ack += candidate
            budget -= gsm7_septets(candidate)

    if not detail:
        name = _cut(name, budget + 2)  # no ": " separator without a reason
        return f"{head} {name}{tail}{ack}"
    if gsm7_septets(name) + gsm7_septets(detail) > budget:
        # Shorten the reason down to a floor, then the name gets what is left.
        name_share = min(gsm7_septets(name), max(budget // 2, budget - gsm7_septets(detail)))
        name = _cut(name, name_share)
        detail = _cut(detail, budget - gsm7_septets(name))
    return f"{head} {name}: {detail}{tail}{ack}"
