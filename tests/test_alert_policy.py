"""The alert policy without a database: each table row is one input and the decision it must get,
and the sequences are stepped one event (or one minute, or one attempt) at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerting.escalation import reminder_due, waits_on_incident, why_skipped
from alerting.flapping import FlapPolicy, FlapVerdict, flap_verdict, has_settled, window_start
from alerting.planning import (
    Change,
    ChannelRule,
    PlannedDelivery,
    checks_flapping,
    deliveries_for,
    maintenance_judged_at,
    notice_kind,
    recovered_incident,
    reminder_deliveries,
    routed_channels,
)
from alerting.retries import Outcome, backoff, outcome_of
from alerting.routing import QuietHours, Routed, route_event

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
ALL = ("down", "up", "degraded", "certificate", "maintenance")


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def change(kind: str = "state", from_state: str = "up", to_state: str = "down",
           at: datetime = T0, incident_id: int | None = 7) -> Change:
    return Change(1, 10, kind, from_state, to_state, at, incident_id)


# --- flapping, stepped one transition at a time -----------------------------------------------


Transition = tuple[str, str, str, timedelta]  # kind, from, to, when (after T0)


def hear(transitions: list[Transition], policy: FlapPolicy) -> list[str | None]:
    """Each transition's notice (None: nobody hears it), judged as plan_event judges it.

    Every transition counts towards flapping, even one that is not news (pending -> up).
    """
    recorded: list[datetime] = []
    flapping = False
    heard: list[str | None] = []
    for kind, from_state, to_state, offset in transitions:
        at = T0 + offset
        if kind == "state":
            recorded.append(at)
        routed = route_event(kind, from_state, to_state)
        if routed is None:
            heard.append(None)
            continue
        verdict: FlapVerdict = "normal"
        if checks_flapping(routed):
            recent = sum(1 for t in recorded if t >= window_start(at, policy))
            verdict = flap_verdict(kind, recent, flapping, policy)
            flapping = flapping or verdict == "flapping"
        heard.append(notice_kind(routed, verdict))
    return heard


def test_a_monitor_changing_too_often_is_announced_once_as_flapping() -> None:
    policy = FlapPolicy(changes=3, window_minutes=10)
    steps = [
        (("state", "pending", "up", seconds(0)), None),  # a first verdict is not news
        (("state", "up", "down", seconds(1)), "down"),
        (("state", "down", "up", seconds(2)), "up"),
        (("state", "up", "down", seconds(3)), "flapping"),  # the 4th change in 10 minutes
        (("state", "down", "up", seconds(4)), None),
        (("state", "up", "down", seconds(5)), None),
        (("certificate", "down", "down", seconds(6)), "certificate"),  # never held back
    ]
    assert hear([t for t, _ in steps], policy) == [expected for _, expected in steps]


def test_changes_spread_over_more_than_a_window_are_not_flapping() -> None:
    policy = FlapPolicy(changes=3, window_minutes=10)
    spread = [("state", "up", "down", minutes(0)), ("state", "down", "up", minutes(4)),
              ("state", "up", "down", minutes(8)), ("state", "down", "up", minutes(12)),
              ("state", "up", "down", minutes(16))]
    assert hear(spread, policy) == ["down", "up", "down", "up", "down"]


@pytest.mark.parametrize(("kind", "recent", "already", "verdict"), [
    ("state", 1, False, "normal"),
    ("state", 5, False, "normal"),  # at the limit: not yet
    ("state", 6, False, "flapping"),  # over it: say so once
    ("state", 1, True, "quiet"),  # already said, however few changes since
    ("state", 9, True, "quiet"),
    ("settled", 9, True, "normal"),  # the settled event itself is heard
    ("certificate", 9, False, "normal"),
])
def test_flap_verdict(kind: str, recent: int, already: bool, verdict: FlapVerdict) -> None:
    assert flap_verdict(kind, recent, already, FlapPolicy(changes=5, window_minutes=10)) == verdict


@pytest.mark.parametrize(("last_change", "now", "settled"), [
    (T0, T0 + minutes(9), False),
    (T0, T0 + minutes(10), True),  # a whole window without a change
    (T0, T0 + minutes(30), True),
    (None, T0, True),  # no transition left at all
])
def test_a_flapping_monitor_settles_after_a_quiet_window(
    last_change: datetime | None, now: datetime, settled: bool
) -> None:
    assert has_settled(last_change, now, FlapPolicy(window_minutes=10)) is settled


@pytest.mark.parametrize(("routed", "verdict", "kind"), [
    (Routed("down", "down"), "normal", "down"),
    (Routed("down", "down"), "flapping", "flapping"),
    (Routed("up", "up"), "flapping", "flapping"),
    (Routed("degraded", "degraded"), "quiet", None),
])
def test_notice_kind_after_the_flap_verdict(
    routed: Routed, verdict: FlapVerdict, kind: str | None
) -> None:
    assert notice_kind(routed, verdict) == kind


@pytest.mark.parametrize(("event", "checked"), [
    ("down", True), ("up", True), ("degraded", True), ("certificate", False),
    ("maintenance", False),
])
def test_which_events_can_be_held_back_as_flapping(event: str, checked: bool) -> None:
    assert checks_flapping(Routed(event, event)) is checked


# --- maintenance notices ----------------------------------------------------------------------


@pytest.mark.parametrize(("to_state", "entered", "judged"), [
    ("maintenance", None, T0),  # a start: the windows active when it began
    ("up", T0 - minutes(30), T0 - minutes(30)),  # an end: those active when it was entered
    ("pending", T0 - minutes(5), T0 - minutes(5)),
    ("up", None, None),  # an end without a start: no window to ask
])
def test_which_moment_decides_whether_a_window_asked_for_notices(
    to_state: str, entered: datetime | None, judged: datetime | None
) -> None:
    ended = change(from_state="maintenance", to_state=to_state)
    assert maintenance_judged_at(ended, entered) == judged


# --- who hears an event -----------------------------------------------------------------------

NOW = T0 + seconds(5)
PLAIN = ChannelRule(1, ALL)
ESCALATES = ChannelRule(2, ("down", "up"), escalate_after_minutes=10)
NIGHT_QUIET = ChannelRule(3, ALL, quiet=QuietHours("00:00", "23:59", "UTC", "critical"))
GONE_FROM_ROUTES = ChannelRule(4, ("certificate",))


@pytest.mark.parametrize(("enabled", "routes", "ids"), [
    ([1, 2, 3], set(), [1, 2, 3]),  # no routes: every enabled channel
    ([1, 2, 3], {3, 1}, [1, 3]),
    ([1, 2, 3], {4}, []),  # routed only to a disabled channel
])
def test_a_monitors_channels(enabled: list[int], routes: set[int], ids: list[int]) -> None:
    rules = [ChannelRule(i, ALL) for i in enabled]
    assert [c.id for c in routed_channels(rules, routes)] == ids


@pytest.mark.parametrize(("kind", "the_change", "incident"), [
    ("up", change(from_state="down", to_state="up"), 7),
    ("up", change(from_state="down", to_state="up", incident_id=None), None),
    ("up", change(kind="settled", from_state="flapping", to_state="up"), None),
    ("flapping", change(), None),
    ("down", change(), None),
])
def test_which_recoveries_go_to_whoever_was_paged(
    kind: str, the_change: Change, incident: int | None
) -> None:
    assert recovered_incident(kind, the_change) == incident


def due(
    channel_id: int, kind: str, at: datetime = NOW, escalation: bool = False
) -> PlannedDelivery:
    return PlannedDelivery(channel_id, kind, at, escalation)


DOWN = change()
UP = change(from_state="down", to_state="up")
CHANNELS = [PLAIN, ESCALATES, NIGHT_QUIET]


@pytest.mark.parametrize(("routed", "kind", "the_change", "severity", "paged", "now", "planned"), [
    pytest.param(Routed("down", "down"), "down", DOWN, "high", [], NOW,
                 [due(1, "down"), due(2, "down", T0 + minutes(10), escalation=True)],
                 id="outage: quiet hours keep a high monitor off, escalation waits 10 min"),
    pytest.param(Routed("down", "down"), "down", DOWN, "critical", [], NOW,
                 [due(1, "down"), due(2, "down", T0 + minutes(10), True), due(3, "down")],
                 id="a critical monitor passes quiet hours"),
    pytest.param(Routed("down", "down"), "flapping", DOWN, "high", [], NOW,
                 [due(1, "flapping"), due(2, "flapping", T0 + minutes(10), True)],
                 id="flapping escalates like an outage"),
    pytest.param(Routed("degraded", "degraded"), "degraded", change(to_state="degraded"), "high",
                 [], NOW, [due(1, "degraded")], id="only channels that asked for the event"),
    pytest.param(Routed("up", "up"), "up", UP, "high", [ESCALATES, GONE_FROM_ROUTES], NOW,
                 [due(2, "up"), due(4, "up")],
                 id="recovery: everyone paged, routed or not, and no one else"),
    pytest.param(Routed("up", "up"), "up", UP, "high", [], NOW,
                 [], id="recovery of an incident nobody was paged for"),
    pytest.param(Routed("up", "up"), "up", change(from_state="down", to_state="up",
                                                 incident_id=None), "high", [ESCALATES], NOW,
                 [due(1, "up"), due(2, "up")], id="recovery without an incident: event filters"),
    pytest.param(Routed("up", "up"), "up", change(kind="settled", from_state="flapping",
                                                 to_state="up"), "high", [ESCALATES], NOW,
                 [due(1, "up"), due(2, "up")], id="settled: event filters, not the paged"),
    pytest.param(Routed("certificate", "certificate"), "certificate",
                 change(kind="certificate", to_state="up"), "critical", [], NOW,
                 [due(1, "certificate"), due(3, "certificate")],
                 id="certificate warnings never escalate"),
    pytest.param(Routed("down", "down"), "down", DOWN, "high", [], T0 + minutes(20),
                 [due(1, "down", T0 + minutes(20)), due(2, "down", T0 + minutes(20), True)],
                 id="planned late: an escalation already due is due now"),
])
def test_who_hears_an_event_and_when(
    routed: Routed, kind: str, the_change: Change, severity: str | None,
    paged: list[ChannelRule], now: datetime, planned: list[PlannedDelivery],
) -> None:
    assert deliveries_for(routed, kind, the_change, severity, CHANNELS, paged, now) == planned


@pytest.mark.parametrize(("severity", "heard"), [
    ("critical", True), ("high", True), ("low", False),
    (None, True),  # a deleted monitor is routed as high
])
def test_quiet_hours_let_through_monitors_of_at_least_their_severity(
    severity: str | None, heard: bool
) -> None:
    high_only = ChannelRule(5, ALL, quiet=QuietHours("22:00", "07:00", "Europe/Berlin", "high"))
    night = datetime(2026, 1, 5, 23, 30, tzinfo=UTC)  # 00:30 in Berlin
    assert deliveries_for(Routed("down", "down"), "down", change(at=night), severity,
                          [high_only], [], night) == ([due(5, "down", night)] if heard else [])


# --- reminders, stepped one minute at a time --------------------------------------------------


def test_reminders_fall_due_every_interval_while_the_incident_is_open() -> None:
    due_at: dict[int, int] = {}
    for minute in range(47):
        sequence = reminder_due(T0, 15, T0 + minutes(minute))
        due_at.setdefault(sequence, minute)
    assert due_at == {0: 0, 1: 15, 2: 30, 3: 45}


@pytest.mark.parametrize(("every", "now", "sequence"), [
    (0, T0 + minutes(90), 0),  # reminders off
    (-5, T0 + minutes(90), 0),
    (15, T0 - minutes(1), 0),  # a clock behind the incident's start
    (15, T0 + minutes(14), 0),
    (15, T0 + minutes(61), 4),  # a missed round catches up to the latest, not each one
])
def test_reminder_due(every: int, now: datetime, sequence: int) -> None:
    assert reminder_due(T0, every, now) == sequence


@pytest.mark.parametrize(("sequence", "paged", "planned"), [
    (0, [1, 2], []),
    (2, [], []),
    (3, [2, 5], [PlannedDelivery(2, "reminder", NOW, True, 3),
                 PlannedDelivery(5, "reminder", NOW, True, 3)]),
])
def test_a_reminder_goes_to_every_paged_channel_and_is_dropped_once_settled(
    sequence: int, paged: list[int], planned: list[PlannedDelivery]
) -> None:
    assert reminder_deliveries(sequence, paged, NOW) == planned


@pytest.mark.parametrize(("needs_open", "incident_id", "waits"), [
    (True, 7, True), (True, None, False), (False, 7, False),
])
def test_only_escalations_and_reminders_wait_on_their_incident(
    needs_open: bool, incident_id: int | None, waits: bool
) -> None:
    assert waits_on_incident(needs_open, incident_id) is waits


@pytest.mark.parametrize(("found", "resolved", "acknowledged", "reason"), [
    (True, False, False, None),
    (True, True, False, "incident resolved before this step"),
    (True, False, True, "incident acknowledged before this step"),
    (True, True, True, "incident resolved before this step"),
    (False, False, False, "incident resolved before this step"),  # deleted counts as resolved
])
def test_why_an_escalation_or_reminder_is_dropped(
    found: bool, resolved: bool, acknowledged: bool, reason: str | None
) -> None:
    assert why_skipped(found, resolved, acknowledged) == reason


# --- send outcomes, stepped one attempt at a time ---------------------------------------------


@pytest.mark.parametrize(("attempts", "wait_s"), [
    (0, 0.5), (1, 0.5), (2, 1), (3, 2), (4, 4), (10, 256), (11, 300), (30, 300),
])
def test_backoff(attempts: int, wait_s: float) -> None:
    assert backoff(attempts) == seconds(wait_s)


def test_transient_errors_are_retried_for_an_hour_then_given_up() -> None:
    now, attempts, outcomes = T0, 0, []
    while True:
        attempts += 1
        outcome = outcome_of("HTTP 503", permanent=False, attempts=attempts, first_attempt_at=T0,
                             now=now)
        outcomes.append(outcome.logged_as)
        if outcome.status != "pending":
            break
        assert outcome.next_attempt_at is not None and outcome.channel == "unchanged"
        now = outcome.next_attempt_at
    # 0.5 s doubling to 300 s: the 21st attempt's wait would end past the hour.
    assert outcomes == ["retry"] * 20 + ["gave_up"]
    assert now - T0 == seconds(3511.5)
    assert outcome == Outcome("failed", "gave_up",
                              "HTTP 503 (gave up after retrying for an hour)",
                              now + seconds(300), "failing")


@pytest.mark.parametrize(("error", "permanent", "attempts", "first", "retry_after", "expected"), [
    pytest.param(None, False, 3, T0 - minutes(5), None,
                 Outcome("delivered", "delivered", None, None, "healthy"), id="sent"),
    pytest.param("HTTP 400", True, 1, T0, None,
                 Outcome("failed", "permanent", "HTTP 400", None, "failing"), id="permanent"),
    pytest.param("HTTP 500", False, 1, T0, None,
                 Outcome("pending", "retry", "HTTP 500", T0 + seconds(0.5), "unchanged"),
                 id="first retry"),
    pytest.param("rate limited", False, 1, T0, 30.0,
                 Outcome("pending", "retry", "rate limited", T0 + seconds(30), "unchanged"),
                 id="Retry-After longer than the backoff"),
    pytest.param("rate limited", False, 3, T0, 0.1,
                 Outcome("pending", "retry", "rate limited", T0 + seconds(2), "unchanged"),
                 id="backoff longer than Retry-After"),
    pytest.param("HTTP 500", False, 1, None, None,
                 Outcome("pending", "retry", "HTTP 500", T0 + seconds(0.5), "unchanged"),
                 id="no first attempt recorded: this one"),
    pytest.param("HTTP 500", False, 12, T0 - minutes(55), None,
                 Outcome("pending", "retry", "HTTP 500", T0 + minutes(5), "unchanged"),
                 id="the last wait ends exactly at the hour"),
    pytest.param("HTTP 500", False, 12, T0 - minutes(56), None,
                 Outcome("failed", "gave_up", "HTTP 500 (gave up after retrying for an hour)",
                         T0 + minutes(5), "failing"), id="past the hour"),
])
def test_outcome_of_one_attempt(
    error: str | None, permanent: bool, attempts: int, first: datetime | None,
    retry_after: float | None, expected: Outcome,
) -> None:
    assert outcome_of(error, permanent=permanent, attempts=attempts, first_attempt_at=first,
                      now=T0, retry_after_s=retry_after) == expected
