"""The channels section of the alerting page: each channel's state and test button, and the
add/edit form. Secrets are never put into a widget: their fields always start empty."""

from __future__ import annotations

import streamlit as st

from config.settings import get_settings
from domain.formatting import ago, plain
from domain.monitor_input import InvalidInput
from domain.notice_templates import ALL_TEMPLATE_KEYS, MAX_TEMPLATE_CHARS
from domain.severity import SEVERITIES, severity_label
from notifiers.template_preview import Preview, preview_templates
from notifiers.verify_channel import SendOutcome, send_test
from storage.alerting_admin import ChannelView, delete_channel, list_channels, save_channel
from storage.alerting_models import ALL_EVENTS
from ui.alerting_forms import (
    EVENT_LABELS,
    FIELDS,
    FIELDS_HELP,
    KIND_LABELS,
    SECURITY_CHOICES,
    TEMPLATE_HELP,
    TEMPLATE_LABELS,
    TEMPLATES_CAPTION,
    parse_channel_form,
    template_keys,
)
from ui.auth import dashboard_actor

PREFIX = "ch_"
EDITING = "ch_editing"  # the channel id being edited, None for a new one
ERRORS = "ch_errors"
SAVED = "ch_saved"
PREVIEW = "ch_preview"  # the last preview's results, shown under the templates
ROUTING_FIELDS = ("events", "enabled", "escalate_after_minutes", "quiet_start", "quiet_end",
                  "quiet_timezone", "quiet_min_severity")
ALL_FIELD_KEYS = sorted({f.key for fields in FIELDS.values() for f in fields}
                        | ALL_TEMPLATE_KEYS)


def _channels() -> dict[int, ChannelView]:
    return {channel.id: channel for channel in list_channels()}


def _fill_form(channel: ChannelView | None) -> None:
    """Put a channel's settings (never its secrets) into the form's widgets."""
    state = st.session_state
    state[ERRORS] = {}
    state.pop(PREVIEW, None)
    state[PREFIX + "name"] = channel.name if channel else ""
    state[PREFIX + "kind"] = channel.kind if channel else "slack_webhook"
    for key in ALL_FIELD_KEYS:
        value = (channel.config.get(key) if channel else None) or ""
        state[PREFIX + key] = str(value)
    state[PREFIX + "security"] = (channel.config.get("security") if channel else "") or "starttls"
    state[PREFIX + "events"] = list(channel.events) if channel else list(ALL_EVENTS)
    state[PREFIX + "enabled"] = channel.enabled if channel else True
    state[PREFIX + "escalate_after_minutes"] = channel.escalate_after_minutes if channel else 0
    state[PREFIX + "quiet_start"] = (channel.quiet_start if channel else None) or ""
    state[PREFIX + "quiet_end"] = (channel.quiet_end if channel else None) or ""
    state[PREFIX + "quiet_timezone"] = channel.quiet_timezone if channel else "UTC"
    state[PREFIX + "quiet_min_severity"] = channel.quiet_min_severity if channel else "critical"


def _start_editing(channel_id: int | None) -> None:
    st.session_state[EDITING] = channel_id
    st.session_state.pop(SAVED, None)
    _fill_form(_channels().get(channel_id) if channel_id is not None else None)


def _save() -> None:
    state = st.session_state
    editing = state.get(EDITING)
    current = _channels().get(editing) if editing is not None else None
    kind = state.get(PREFIX + "kind", "")
    values = {key: state.get(PREFIX + key) for key in (
        "name", "kind", *ALL_FIELD_KEYS, *ROUTING_FIELDS)}
    stored = current.stored_secrets if current and current.kind == kind else frozenset()
    try:
        spec = parse_channel_form(
            values, stored, settings_from_env=bool(current and current.source == "env"))
        saved = save_channel(spec, editing, actor=dashboard_actor())
    except InvalidInput as error:
        state[ERRORS] = error.errors
        state.pop(SAVED, None)
        return
    state[SAVED] = saved.name
    _start_editing(None)  # an empty form: the secrets typed are gone from the session too
    state[SAVED] = saved.name


def _test(channel_id: int) -> None:
    st.session_state[f"ch_test_{channel_id}"] = send_test(channel_id, get_settings())


def _delete(channel_id: int) -> None:
    delete_channel(channel_id, actor=dashboard_actor())
    if st.session_state.get(EDITING) == channel_id:
        _start_editing(None)


def _preview() -> None:
    state = st.session_state
    kind = str(state.get(PREFIX + "kind") or "")
    config = {key: state.get(PREFIX + key) for key in template_keys(kind)}
    state[PREVIEW] = preview_templates(kind, config, get_settings().public_url)


def _field_error(key: str) -> None:
    message = st.session_state.get(ERRORS, {}).get(key)
    if message:
        st.error(message)


def render_channel_list() -> None:
    channels = list(_channels().values())
    if not channels:
        st.info("No channels yet. Add one below, or set UPWATCH_SLACK_WEBHOOK_URL / "
                "UPWATCH_TWILIO_* for the defaults.")
    for channel in channels:
        with st.container(border=True):
            title, actions = st.columns([3, 2])
            origin = " · from the environment" if channel.source == "env" else ""
            kind = KIND_LABELS.get(channel.kind, channel.kind)
            title.markdown(f"**{plain(channel.name)}** · {kind}{origin}")
            if channel.failing_since:
                title.error(f"Failing since {ago(channel.failing_since)}: "
                            f"{plain(channel.failing_error or 'unknown error')}", icon="🚨")
            elif not channel.enabled:
                title.caption("Disabled")
            else:
                title.caption("Working")
            quiet = (f" · quiet {channel.quiet_start}–{channel.quiet_end} {channel.quiet_timezone}"
                     f" (only {channel.quiet_min_severity} then)") if channel.quiet_start else ""
            delay = (f" · escalates after {channel.escalate_after_minutes} min"
                     if channel.escalate_after_minutes else "")
            events = ", ".join(EVENT_LABELS.get(e, e) for e in channel.events) or "no events"
            title.caption(f"Events: {events}{quiet}{delay}")
            send, edit, remove = actions.columns(3)
            send.button("Send test", key=f"test_{channel.id}", on_click=_test, args=(channel.id,))
            edit.button("Edit", key=f"edit_{channel.id}", on_click=_start_editing,
                        args=(channel.id,))
            if channel.source != "env":
                remove.button("Delete", key=f"delete_{channel.id}", on_click=_delete,
                              args=(channel.id,))
            if channel.template_note and channel.template_note_at:
                title.warning(f"Last message, {ago(channel.template_note_at)}: "
                              f"{plain(channel.template_note)}", icon="⚠️")
            outcome: SendOutcome | None = st.session_state.get(f"ch_test_{channel.id}")
            if outcome is not None:
                (st.success if outcome.ok else st.error)(plain(outcome.message))
                if outcome.note:
                    st.warning(plain(outcome.note))


def render_channel_form() -> None:
    state = st.session_state
    if PREFIX + "name" not in state:
        _start_editing(None)
    editing = state.get(EDITING)
    current = _channels().get(editing) if editing is not None else None
    if editing is not None and current is None:  # deleted in another session
        _start_editing(None)
    st.subheader(f"Edit {plain(current.name)}" if current else "Add a channel")
    if SAVED in state:
        st.success(f"Saved channel {plain(state[SAVED])}.")
    if state.get(ERRORS):
        st.error("Nothing was saved: fix the fields marked below.")
    from_env = bool(current and current.source == "env")
    st.text_input("Name", key=PREFIX + "name", disabled=from_env)
    _field_error("name")
    st.selectbox("Type", list(KIND_LABELS), key=PREFIX + "kind",
                 format_func=lambda k: KIND_LABELS.get(k, k), disabled=current is not None)
    _field_error("kind")
    kind = state[PREFIX + "kind"]
    if from_env:
        st.caption("Connection settings of this channel come from the environment "
                   "(UPWATCH_SLACK_WEBHOOK_URL / UPWATCH_TWILIO_*); routing is set here.")
    else:
        _connection_fields(kind, current)
    _template_fields(kind)
    _routing_fields()
    save, cancel = st.columns([1, 4])
    save.button("Save channel", key="ch_save", on_click=_save, type="primary")
    if current is not None:
        cancel.button("Cancel editing", key="ch_cancel", on_click=_start_editing, args=(None,))


def _connection_fields(kind: str, current: ChannelView | None) -> None:
    stored = current.stored_secrets if current and current.kind == kind else frozenset()
    for field in FIELDS[kind]:
        key = PREFIX + field.key
        label = field.label + ("" if field.required else " (optional)")
        if field.key == "security":
            st.selectbox(label, SECURITY_CHOICES, key=key)
        elif field.secret:
            hint = "stored — leave empty to keep it" if field.key in stored else field.placeholder
            st.text_input(label, key=key, type="password", placeholder=hint, help=field.help)
        else:
            st.text_input(label, key=key, placeholder=field.placeholder, help=field.help)
        _field_error(field.key)


def _template_fields(kind: str) -> None:
    keys = template_keys(kind)
    if not keys:
        return
    st.markdown("**Message templates**")
    st.caption(TEMPLATES_CAPTION)
    for key in keys:
        st.text_area(TEMPLATE_LABELS[key] + " (optional)", key=PREFIX + key, height=100,
                     max_chars=MAX_TEMPLATE_CHARS, placeholder="Empty: the built-in text",
                     help=f"{TEMPLATE_HELP.get((kind, key), '')}\n\n{FIELDS_HELP}")
        _field_error(key)
    st.button("Preview", key="ch_preview_button", on_click=_preview,
              help="Shows what this channel would send for a sample outage; sends nothing.")
    previews: list[Preview] | None = st.session_state.get(PREVIEW)
    for shown in previews or []:
        if shown.key not in keys:
            continue  # the type was changed since
        label = TEMPLATE_LABELS[shown.key]
        st.caption(f"{label}, for a sample outage" + (" (the built-in text)" if shown.is_default
                                                      else ""))
        if shown.error:
            st.error(f"{label}: {plain(shown.error)}")
        st.code(shown.text, language=None, wrap_lines=True)


def _routing_fields() -> None:
    st.multiselect("Events", list(ALL_EVENTS), key=PREFIX + "events",
                   format_func=lambda e: EVENT_LABELS.get(e, e))
    _field_error("events")
    st.checkbox("Enabled", key=PREFIX + "enabled")
    st.number_input("Escalation delay (minutes)", min_value=0, max_value=1440, step=1,
                    key=PREFIX + "escalate_after_minutes",
                    help="0 pages at once; N pages only if the incident is still open and "
                         "unacknowledged N minutes after it began.")
    _field_error("escalate_after_minutes")
    start, end, zone, severity = st.columns(4)
    with start:
        st.text_input("Quiet from (HH:MM)", key=PREFIX + "quiet_start", placeholder="22:00")
        _field_error("quiet_start")
    with end:
        st.text_input("Quiet until (HH:MM)", key=PREFIX + "quiet_end", placeholder="07:00")
        _field_error("quiet_end")
    with zone:
        st.text_input("Quiet hours time zone", key=PREFIX + "quiet_timezone")
        _field_error("quiet_timezone")
    with severity:
        st.selectbox("During quiet hours, only", SEVERITIES, key=PREFIX + "quiet_min_severity",
                     format_func=lambda s: f"{severity_label(s)} and above")
        _field_error("quiet_min_severity")
