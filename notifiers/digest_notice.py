"""An hourly digest as one `Notice`: its title names the hour, its lines the changes.

Every channel sends it as it sends any notice (the title where a monitor's name goes, the lines
where a reason goes), so each escapes the listed names and reasons its own way. A line is said
as the change's own notice would say it (`headline`), after its time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

from alerting.digest import hour_from_number
from domain import links
from notifiers.message import Notice, NoticeKind, format_time, headline
from storage.digests import DIGEST_KIND, DigestLine

# A digest is read in a chat or a mailbox: past this many lines, it says how many more.
MAX_LINES = 50


def digest_title(hour: datetime, changes: int) -> str:
    end = hour + timedelta(hours=1)
    noun = "change" if changes == 1 else "changes"
    return f"Hourly digest {hour:%Y-%m-%d %H:%M}-{end:%H:%M} UTC: {changes} {noun}"


def digest_line(line: DigestLine, public_url: str) -> str:
    try:
        said = headline(Notice(
            kind=cast(NoticeKind, line.kind), monitor_name=line.monitor_name,
            monitor_slug=line.monitor_slug, state=line.to_state, reason=line.reason,
            since=line.at, dashboard_url=links.monitor_url(public_url, line.monitor_slug),
            status_url=links.status_url(public_url), event_id=0))
    except KeyError:  # a kind without a sentence of its own still gets its line
        said = f"{line.monitor_name}: {line.kind.replace('_', ' ')} ({line.to_state})"
    return f"{format_time(line.at)} {said}" + (f" ({line.reason})" if line.reason else "")


def digest_notice(lines: Sequence[DigestLine], sequence: int, event_id: int,
                  public_url: str) -> Notice:
    """The digest of the hour numbered `sequence` (alerting.digest.hour_number)."""
    hour = hour_from_number(sequence)
    said = [digest_line(line, public_url) for line in lines[:MAX_LINES]]
    if len(lines) > MAX_LINES:
        said.append(f"... and {len(lines) - MAX_LINES} more: see the dashboard")
    return Notice(
        kind=cast(NoticeKind, DIGEST_KIND), monitor_name=digest_title(hour, len(lines)),
        monitor_slug="digest", state=f"{len(lines)} listed", reason="\n".join(said),
        since=hour, dashboard_url=links.home_url(public_url),
        status_url=links.status_url(public_url), event_id=event_id,
    )
