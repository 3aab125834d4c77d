"""The Alerting page's reminders and flap detection, and the escalation steps per severity with
the hourly digest: two forms, each refused with a message per field (nothing saved then)."""

from __future__ import annotations

import streamlit as st

from domain.escalation import EscalationSettings
from domain.escalation_steps import MAX_STEPS
from domain.formatting import plain
from domain.monitor_input import InvalidInput
from domain.severity import SEVERITIES, severity_label
from storage.alerting_admin import escalation_settings, list_channels, save_escalation_settings
from ui.auth import dashboard_actor

LABELS = {
    "remind_every_minutes": "Remind every (minutes, 0 = never)",
    "flap_changes": "Flapping after more than this many state changes",
    "flap_window_minutes": "… within this many minutes",
}
HELP = {
    "remind_every_minutes": "While an incident is open and nobody acknowledged it, the channels "
                            "that were paged hear about it again at this interval.",
    "flap_changes": "A flapping monitor is announced once; its next changes stay quiet until "
                    "it has been calm for a whole window.",
}
ROWS_SHOWN = 3  # step rows offered per severity, up to MAX_STEPS
SUGGESTED_MINUTES = (5, 15, 30, 60, 120)  # what an empty row's minutes start at


def render_escalation() -> None:
    current = escalation_settings()
    st.caption("The defaults of every monitor (a monitor may set its own in its form). "
               "Reminders stop when someone acknowledges the incident.")
    with st.form("escalation"):
        values = {name: st.number_input(label, value=getattr(current, name), step=1,
                                        help=HELP.get(name), key=f"escalation_{name}")
                  for name, label in LABELS.items()}
        if st.form_submit_button("Save reminders and flapping"):
            _save(values)
    render_steps(current)


def _save(values: dict[str, object]) -> None:
    try:
        saved: EscalationSettings = save_escalation_settings(values, actor=dashboard_actor())
    except InvalidInput as refused:
        for name, message in refused.errors.items():
            st.error(f"{LABELS.get(name, name)}: {message}")
        return
    reminders = (f"every {saved.remind_every_minutes} min" if saved.remind_every_minutes
                 else "off")
    st.success(f"Saved: reminders {reminders}; flapping after more than {saved.flap_changes} "
               f"changes in {saved.flap_window_minutes} min.")


def render_steps(current: EscalationSettings) -> None:
    st.subheader("Escalation steps and the hourly digest")
    st.caption("An outage first pages the monitor's routed channels. If nobody acknowledged it "
               "after a step's minutes, the step's channels are paged too. A severity sent to "
               "the hourly digest pages nobody: each channel gets one message an hour listing "
               "what changed.")
    names = [channel.name for channel in list_channels()]
    rows: dict[str, list[tuple[int, list[str]]]] = {}
    digest: list[str] = []
    with st.form("escalation_steps"):
        for severity in SEVERITIES:
            st.markdown(f"**{severity_label(severity)}**")
            if st.checkbox("Hourly digest instead of paging", value=severity in current.digest,
                           key=f"digest_{severity}"):
                digest.append(severity)
            rows[severity] = _step_rows(severity, current, names)
        if st.form_submit_button("Save steps and digest"):
            _save_steps(rows, digest)


def _step_rows(severity: str, current: EscalationSettings,
               names: list[str]) -> list[tuple[int, list[str]]]:
    stored = list(current.steps.get(severity, ()))
    shown = min(MAX_STEPS, max(ROWS_SHOWN, len(stored) + 1))
    rows = []
    for index in range(shown):
        step = stored[index] if index < len(stored) else None
        minutes_column, channels_column = st.columns([1, 4])
        minutes = minutes_column.number_input(
            f"Step {index + 1}: after (minutes)", min_value=0, step=1,
            value=step.after_minutes if step else SUGGESTED_MINUTES[index],
            key=f"step_{severity}_{index}_minutes")
        channels = channels_column.multiselect(
            f"Step {index + 1}: page these channels", names,
            default=[n for n in step.channels if n in names] if step else [],
            key=f"step_{severity}_{index}_channels", placeholder="no step")
        rows.append((int(minutes), list(channels)))
    return rows


def _save_steps(rows: dict[str, list[tuple[int, list[str]]]], digest: list[str]) -> None:
    steps: dict[str, list[dict[str, object]]] = {}
    row_of: dict[str, int] = {}  # the field of a sent step -> its row on the form
    for severity, given in rows.items():
        steps[severity] = []
        for row, (minutes, channels) in enumerate(given):
            if channels:  # a row without channels is no step
                row_of[f"steps.{severity}[{len(steps[severity])}]"] = row
                steps[severity].append({"after_minutes": minutes, "channels": channels})
    try:
        saved = save_escalation_settings({"steps": steps, "digest": digest},
                                         actor=dashboard_actor())
    except InvalidInput as refused:
        for name, message in refused.errors.items():
            st.error(plain(f"{_field_label(name, row_of)}: {message}"))
        return
    counted = sum(len(s) for s in saved.steps.values())
    listed = ", ".join(saved.digest) or "none"
    st.success(f"Saved: {counted} escalation steps; hourly digest for: {listed}.")


def _field_label(name: str, row_of: dict[str, int]) -> str:
    """`steps.low[1].channels` as the form shows it: `P4 · low, step 2`."""
    if not name.startswith("steps."):
        return name
    head = name.removeprefix("steps.")
    severity, _, rest = head.partition("[")
    step = f"steps.{severity}[{rest.split(']')[0]}]" if rest else ""
    where = severity_label(severity) if severity in SEVERITIES else severity
    if step in row_of:
        where += f", step {row_of[step] + 1}"
    return where
