"""A scheduled report as each channel shows it: an e-mail (plain text, HTML and the CSV
attached), Slack Block Kit, and plain text (webhooks). Every value a person typed (monitor and
schedule names) is escaped for where it lands: HTML for the e-mail, mrkdwn for Slack."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from html import escape
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from domain import links
from domain.formatting import format_duration
from notifiers.slack import escape_mrkdwn
from storage.report_content import MonitorLine, ReportContent

# Slack: a section's text holds 3000 characters, a message 50 blocks.
SLACK_SECTION_CHARS = 3000
SLACK_MONITOR_LINES = 40


def _percent(value: float | None) -> str:
    return "no data" if value is None else f"{value:.3f} %"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms"


def _incidents(count: int) -> str:
    return f"{count} incident" + ("" if count == 1 else "s")


def _took(seconds: float | None) -> str:
    return "–" if seconds is None else format_duration(timedelta(seconds=seconds))


def _local_range(content: ReportContent) -> str:
    """The period as its zone's clocks read it: "2026-03-29 00:00 CET – 2026-03-30 00:00 CEST"."""
    zone = ZoneInfo(content.timezone)
    start = datetime.fromisoformat(content.start).astimezone(zone)
    end = datetime.fromisoformat(content.end).astimezone(zone)
    return f"{start:%Y-%m-%d %H:%M %Z} – {end:%Y-%m-%d %H:%M %Z} ({content.timezone})"


def summary_line(content: ReportContent) -> str:
    observed = len(content.observed)
    return (f"{content.meeting_target} of {observed} monitors met the "
            f"{content.target_percent:g} % target; {_incidents(content.incidents)}, "
            f"MTTA {_took(content.mtta_seconds)}, MTTR {_took(content.mttr_seconds)}")


def _line_text(line: MonitorLine, target: float) -> str:
    if line.uptime_percent is None:
        return f"{line.name}: no data"
    mark = "meets the target" if line.meets(target) else "BELOW the target"
    return (f"{line.name}: {_percent(line.uptime_percent)} ({mark}), "
            f"down {line.downtime_minutes:g} min, p50/p95/p99 {_ms(line.p50_ms)} / "
            f"{_ms(line.p95_ms)} / {_ms(line.p99_ms)}, {_incidents(line.incidents)}")


def report_text(content: ReportContent) -> str:
    """Plain text: the title, the figures, the worst monitors, then every monitor."""
    lines = [f"Upwatch · {content.title} · {content.schedule}", _local_range(content), "",
             summary_line(content), ""]
    if content.worst:
        lines.append("Worst monitors:")
        lines += [f"- {_line_text(line, content.target_percent)}" for line in content.worst]
        lines.append("")
    lines.append("Every monitor:")
    lines += [f"- {_line_text(line, content.target_percent)}" for line in content.monitors]
    return "\n".join(lines) + "\n"


# --- e-mail ------------------------------------------------------------------------------------


def _html_table(content: ReportContent, public_url: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in (
        "Monitor", "Uptime", "Target", "Downtime (min)", "p50", "p95", "p99", "Incidents",
        "MTTA", "MTTR"))
    rows = []
    for line in content.monitors:
        met = line.meets(content.target_percent)
        colour = {True: "#1a7f37", False: "#cf222e", None: "#57606a"}[met]
        url = escape(links.monitor_url(public_url, line.slug))
        cells = [
            f'<a href="{url}">{escape(line.name)}</a>',
            f'<span style="color:{colour}">{escape(_percent(line.uptime_percent))}</span>',
            {True: "met", False: "missed", None: "–"}[met], f"{line.downtime_minutes:g}",
            _ms(line.p50_ms), _ms(line.p95_ms), _ms(line.p99_ms), str(line.incidents),
            _took(line.mtta_seconds), _took(line.mttr_seconds),
        ]
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    return ('<table cellpadding="4" style="border-collapse:collapse"><thead><tr>' + head
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def report_html(content: ReportContent, public_url: str) -> str:
    worst = "".join(
        f"<li>{escape(_line_text(line, content.target_percent))}</li>" for line in content.worst)
    return (
        "<html><body>"
        f"<h2>{escape(content.title)}: {escape(content.schedule)}</h2>"
        f"<p>{escape(_local_range(content))}</p>"
        f"<p><strong>{escape(summary_line(content))}</strong></p>"
        + (f"<h3>Worst monitors</h3><ul>{worst}</ul>" if worst else "")
        + "<h3>Every monitor</h3>" + _html_table(content, public_url)
        + "<p>The same figures are attached as CSV.</p></body></html>\n"
    )


def csv_filename(content: ReportContent) -> str:
    return f"upwatch-{content.period}-report-{content.label}.csv"


def report_email(content: ReportContent, csv: str, *, sender: str, recipients: list[str],
                 run_id: int, public_url: str, now: datetime) -> EmailMessage:
    message = EmailMessage()
    subject = f"[Upwatch] {content.title} ({content.schedule}): {summary_line(content)}"
    # A newline in a schedule name must not start a header.
    message["Subject"] = " ".join(subject.split())[:250]
    message["From"] = formataddr(("Upwatch", sender))
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(now)
    # One Message-ID per report: a retried send is the same message to mail clients.
    domain = urlsplit(public_url).hostname or "upwatch.invalid"
    message["Message-ID"] = f"<upwatch-report-{run_id}@{domain}>"
    message.set_content(report_text(content))
    message.add_alternative(report_html(content, public_url), subtype="html")
    message.add_attachment(csv.encode(), maintype="text", subtype="csv",
                           filename=csv_filename(content))
    return message


# --- Slack -------------------------------------------------------------------------------------


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slack_line(line: MonitorLine, target: float, public_url: str) -> str:
    mark = {True: "✅", False: "❌", None: "⚪"}[line.meets(target)]
    # The link's label is escaped; the URL is ours (domain/links quotes the slug).
    name = f"<{links.monitor_url(public_url, line.slug)}|{escape_mrkdwn(line.name)}>"
    return (f"{mark} {name} *{_percent(line.uptime_percent)}* · p95 {_ms(line.p95_ms)} · "
            f"{_incidents(line.incidents)}")


def report_slack(content: ReportContent, public_url: str) -> dict[str, Any]:
    """`text` (notifications, old clients) and Block Kit `blocks`."""
    fields = [
        f"*Uptime target*\n{content.meeting_target} of {len(content.observed)} monitors met "
        f"{content.target_percent:g} %",
        f"*Incidents*\n{content.incidents} ({content.resolved} resolved)",
        f"*MTTA*\n{_took(content.mtta_seconds)}",
        f"*MTTR*\n{_took(content.mttr_seconds)}",
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"📊 {content.title}"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": escape_mrkdwn(
            f"{content.schedule} · {_local_range(content)}")}]},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": t} for t in fields]},
    ]
    if content.worst:
        worst = "\n".join(_slack_line(line, content.target_percent, public_url)
                          for line in content.worst)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip(
            f"*Worst monitors*\n{worst}", SLACK_SECTION_CHARS)}})
    shown = content.monitors[:SLACK_MONITOR_LINES]
    if shown:
        every = "\n".join(_slack_line(line, content.target_percent, public_url)
                          for line in shown)
        more = len(content.monitors) - len(shown)
        if more:
            every += f"\n… and {more} more"
        blocks.append({"type": "divider"})
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip(
            f"*Every monitor*\n{every}", SLACK_SECTION_CHARS)}})
    text = escape_mrkdwn(f"{content.title} ({content.schedule}): {summary_line(content)}")
    return {"text": _clip(text, 3000), "blocks": blocks}
