"""Alert rules over windows, evaluated while results are recorded, in the recorder's transaction.

The engine's writer keeps one `RuleWatch`: each monitor's rules (re-read every few seconds, only
monitors that have rules) and, for those, the recent checks their windows need, in memory
(`analytics.window_rule_eval.RecentChecks`). A monitor without rules costs a dictionary look-up
per batch. After each result the monitor's windowed rules are judged; the certificate rule at
the batch's last result; uptime over a calendar period at most once a minute per monitor, from
the rollups as the reports read them (storage/rollup_reads.py).

Whether a rule is firing is the database's `rule_state`, read and written in the transaction
that records the result: a rule that starts or stops holding writes its state and an event (a
state_change of kind "rule" with its `rule_event`) there, so a batch written twice after a failed
attempt, a restart or another worker taking the monitor over neither loses nor repeats one.
Memory is only a cache of the recent checks: a monitor seen for the first time is read back from
its stored results.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from sqlalchemy import Connection, String, cast, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from analytics.uptime import StateSeconds
from analytics.window_rule_eval import (
    RecentChecks,
    Verdict,
    certificate_verdict,
    compare,
    describe_value,
    needs_recent_checks,
    period_start,
    uptime_verdict,
    window_measure,
    window_value,
)
from domain.window_rules import WindowRule, describe_rule, rules_from_stored
from storage.batch_driver import BatchDriver
from storage.db import read_connection
from storage.models import Monitor, MonitorState, StateChange
from storage.rollup_reads import _window_totals
from storage.rule_models import RuleEvent, RuleState
from storage.tables import json_list, table_of, utc
from storage.window_basics import _current

MONITORS = table_of(Monitor)
STATES = table_of(MonitorState)
CHANGES = table_of(StateChange)
RULE_STATES = table_of(RuleState)
RULE_EVENTS = table_of(RuleEvent)

# Edits to a monitor's rules take effect within this (the engine re-reads monitors every 2 s).
RULES_REREAD_S = 5.0
# Uptime over a day, week or month moves slowly and costs a rollup read: judged this often.
UPTIME_EVERY_S = 60.0

# (checked at, outcome, latency in ms, the monitor's state after the result)
Seen = tuple[datetime, str, float | None, str]


@dataclass(frozen=True, slots=True)
class _Watched:
    rules: tuple[WindowRule, ...]
    windowed: tuple[WindowRule, ...]  # the latency and failure-rate rules among them
    keep_s: float  # the longest window of its windowed rules (0: none)


class RuleWatch:
    """The rules of the monitors a writer records, and their recent checks."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._watched: dict[int, _Watched] = {}
        self._stored: dict[int, str] = {}  # the stored text each monitor's rules were read from
        self._read_at: float | None = None
        self._fingerprint: tuple | None = None
        self._recent: dict[int, RecentChecks] = {}
        self._uptime_at: dict[int, float] = {}

    # -- which monitors have rules -------------------------------------------------------------

    def watched(self, connection: Connection, monitor_ids: Iterable[int]) -> dict[int, _Watched]:
        """The monitors among `monitor_ids` that have rules."""
        now = self._clock()
        if self._read_at is None or now - self._read_at >= RULES_REREAD_S:
            # The engine's own test for edits: reading every monitor's rules each time would
            # cost more than judging them.
            fingerprint = tuple(connection.execute(select(
                func.count(MONITORS.c.id), func.max(MONITORS.c.updated_at),
                func.max(MONITORS.c.id))).one())
            if fingerprint != self._fingerprint:
                self._read_rules(connection)
                self._fingerprint = fingerprint
            self._read_at = now
        watched = self._watched
        if not watched:
            return {}
        return {m: watched[m] for m in monitor_ids if m in watched}

    def _read_rules(self, connection: Connection) -> None:
        text = cast(MONITORS.c.rules, String)
        stored: dict[int, str] = dict(connection.execute(
            select(MONITORS.c.id, text).where(text != "[]")).all())
        if stored == self._stored:
            return
        watched: dict[int, _Watched] = {}
        for monitor_id, rules in stored.items():
            if self._stored.get(monitor_id) == rules and monitor_id in self._watched:
                watched[monitor_id] = self._watched[monitor_id]
                continue
            parsed = tuple(rules_from_stored(json_list(rules)))
            if parsed:
                windowed = tuple(r for r in parsed if needs_recent_checks(r))
                keep = max([(r.window_minutes or 0) * 60 for r in windowed], default=0)
                watched[monitor_id] = _Watched(parsed, windowed, float(keep))
        for monitor_id in self._recent.keys() - watched.keys():
            del self._recent[monitor_id]
        for monitor_id, entry in watched.items():
            recent = self._recent.get(monitor_id)
            if recent is not None and recent.keep_s < entry.keep_s:
                del self._recent[monitor_id]  # a longer window: read back from the results
        self._watched, self._stored = watched, stored
        _resolve_removed(connection, watched)

    # -- the recent checks ----------------------------------------------------------------------

    def read_back(
        self, driver: BatchDriver, watched: dict[int, _Watched],
        before: dict[int, datetime], in_maintenance: Callable[[int, datetime], bool],
    ) -> None:
        """Fill the recent checks of monitors seen for the first time from their stored results
        (before this batch's): after a restart a window is judged on its whole history."""
        new = [m for m, entry in watched.items() if entry.keep_s and m not in self._recent]
        if not new:
            return
        for monitor_id in new:
            self._recent[monitor_id] = RecentChecks(watched[monitor_id].keep_s)
        since = driver.time(min(before[m] - timedelta(seconds=watched[m].keep_s) for m in new))
        for chunk, condition in driver.in_lists(new):
            # The newest check before the windows (one index seek per monitor): it shows that
            # the monitor was watched through them.
            for monitor_id, checked_at in driver.rows(
                "SELECT id, (SELECT max(checked_at) FROM check_result WHERE monitor_id = "
                f"monitor.id AND checked_at <= {driver.mark}) FROM monitor WHERE id {condition}",
                (since, *chunk)):
                at = driver.read_time(checked_at)
                if at is not None:
                    self._recent[monitor_id].add(at.timestamp(), "up", None)
            for monitor_id, checked_at, outcome, latency_ms in driver.rows(
                "SELECT monitor_id, checked_at, outcome, latency_ms FROM check_result "
                f"WHERE monitor_id {condition} AND checked_at > {driver.mark} "
                "ORDER BY monitor_id, checked_at", (*chunk, since)):
                at = driver.read_time(checked_at)
                if at is None or at >= before[monitor_id] or in_maintenance(monitor_id, at):
                    continue
                self._recent[monitor_id].add(at.timestamp(), outcome, latency_ms)

    # -- judging -------------------------------------------------------------------------------

    def judge(
        self, connection: Connection, driver: BatchDriver, watched: dict[int, _Watched],
        seen: dict[int, list[Seen]], states: dict[int, dict],
    ) -> list[dict]:
        """Judge the windowed and certificate rules after each result; write the transitions.
        Returns the events written (state_change rows)."""
        firing = _firing(driver, list(seen))
        events: list[dict] = []
        for monitor_id, results in seen.items():
            entry = watched[monitor_id]
            recent = self._recent.get(monitor_id)
            mine = firing.setdefault(monitor_id, {})
            state = states[monitor_id]
            windowed = entry.windowed if recent is not None else ()
            for at, outcome, latency_ms, state_after in results:
                if state_after == "maintenance" or recent is None:
                    continue  # left out of every window; the rules keep their state meanwhile
                at_s = at.timestamp()
                recent.add(at_s, outcome, latency_ms)
                measured: dict[tuple, float | None] = {}
                for rule in windowed:
                    measure = window_measure(rule)
                    if measure not in measured:
                        measured[measure] = window_value(rule, recent, at_s)
                    verdict = compare(rule, measured[measure])
                    if verdict.holds is not None and verdict.holds != (rule.key in mine):
                        _apply(connection, events, mine, monitor_id, rule, verdict, at,
                               state_after)
            last_at, _, _, last_state = results[-1]
            if last_state != "maintenance":
                for rule in entry.rules:
                    if rule.kind == "certificate_days":
                        verdict = certificate_verdict(rule, state.get("cert_not_after"), last_at)
                        _apply(connection, events, mine, monitor_id, rule, verdict, last_at,
                               last_state)
        return events

    def judge_periods(
        self, connection: Connection, watched: dict[int, _Watched],
        seen: dict[int, list[Seen]], zone: tzinfo,
    ) -> list[dict]:
        """Judge uptime over calendar periods (after the batch's rollups are written), at most
        once a minute per monitor."""
        clock = self._clock()
        due = [m for m in seen if any(r.kind == "uptime" for r in watched[m].rules)
               and seen[m][-1][3] != "maintenance"
               and clock - self._uptime_at.get(m, -UPTIME_EVERY_S) >= UPTIME_EVERY_S]
        if not due:
            return []
        firing = _firing(BatchDriver(connection), due)
        current = _current(connection, due)
        events: list[dict] = []
        totals_by_start: dict[datetime, dict[int, list[int]]] = {}
        for monitor_id in due:
            self._uptime_at[monitor_id] = clock
            at, _, _, state_after = seen[monitor_id][-1]
            for rule in watched[monitor_id].rules:
                if rule.kind != "uptime":
                    continue
                start = period_start(rule.period, at)
                if start not in totals_by_start:
                    # One read per period start for every due monitor: the reports' own.
                    totals_by_start[start] = _window_totals(
                        connection, due, start, at, at, current, zone)
                totals = totals_by_start[start][monitor_id]
                verdict = uptime_verdict(rule, StateSeconds(*totals[:4]))
                _apply(connection, events, firing.setdefault(monitor_id, {}), monitor_id,
                       rule, verdict, at, state_after)
        return events


def _firing(driver: BatchDriver, monitor_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """The firing rules of the monitors: key -> severity (through the driver: read for every
    batch, its statement is not compiled each time)."""
    firing: dict[int, dict[str, str]] = {}
    for chunk, condition in driver.in_lists(list(monitor_ids)) if monitor_ids else ():
        for monitor_id, key, severity in driver.rows(
            f"SELECT monitor_id, rule_key, severity FROM rule_state WHERE monitor_id {condition}",
            chunk,
        ):
            firing.setdefault(monitor_id, {})[key] = severity
    return firing


def rule_notice_text(rule: WindowRule, verdict: Verdict) -> str:
    """What a rule event says: "p95 above 500 ms for 10 min: 812 ms"."""
    return f"{describe_rule(rule)}: {describe_value(rule, verdict.value)}"


def _apply(
    connection: Connection, events: list[dict], firing: dict[str, str], monitor_id: int,
    rule: WindowRule, verdict: Verdict, at: datetime, state: str,
) -> None:
    """Write the transition when the verdict differs from the rule's state."""
    if verdict.holds is None or verdict.holds == (rule.key in firing):
        return
    if verdict.holds:
        firing[rule.key] = rule.severity
        changed = _insert_firing(connection, monitor_id, rule, at)
    else:
        del firing[rule.key]
        changed = _delete_firing(connection, monitor_id, rule.key)
    if changed:
        _write_event(connection, events, monitor_id, rule.key, rule.severity,
                     bool(verdict.holds), rule_notice_text(rule, verdict), verdict.value, at,
                     state)


def _insert_firing(connection: Connection, monitor_id: int, rule: WindowRule,
                   at: datetime) -> bool:
    """Mark the rule firing; False when another writer did first (its event is the one)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    # RETURNING tells whether the row went in (psycopg gives no row count for this insert).
    inserted = connection.execute(dialect.insert(RULE_STATES).values(
        monitor_id=monitor_id, rule_key=rule.key, firing_since=at, severity=rule.severity,
    ).on_conflict_do_nothing().returning(RULE_STATES.c.monitor_id))
    return inserted.first() is not None


def _delete_firing(connection: Connection, monitor_id: int, key: str) -> bool:
    """Mark the rule resolved; False when another writer did first."""
    deleted = connection.execute(delete(RULE_STATES).where(
        RULE_STATES.c.monitor_id == monitor_id, RULE_STATES.c.rule_key == key))
    return deleted.rowcount == 1


def _write_event(
    connection: Connection, events: list[dict], monitor_id: int, key: str, severity: str,
    firing: bool, reason: str, value: float | None, at: datetime, state: str,
) -> None:
    # The monitor's state is unchanged by a rule: readers of state changes see none.
    event = {
        "monitor_id": monitor_id, "at": at, "from_state": state, "to_state": state,
        "reason": reason, "dispatched_at": None, "kind": "rule", "incident_id": None,
    }
    change_id = connection.execute(insert(CHANGES).values(**event)).inserted_primary_key
    assert change_id is not None
    connection.execute(insert(RULE_EVENTS).values(
        change_id=int(change_id[0]), rule_key=key, severity=severity, firing=firing,
        value=value))
    events.append(event)


def _resolve_removed(connection: Connection, rules: dict[int, _Watched]) -> None:
    """Firing rules no longer among their monitor's rules (removed, or changed, which makes a
    new rule) resolve, so that their page is not left open."""
    stale = [(monitor_id, key, severity) for monitor_id, key, severity in connection.execute(
        select(RULE_STATES.c.monitor_id, RULE_STATES.c.rule_key, RULE_STATES.c.severity))
        if monitor_id not in rules or key not in {r.key for r in rules[monitor_id].rules}]
    if not stale:
        return
    states = dict(connection.execute(
        select(STATES.c.monitor_id, STATES.c.state)
        .where(STATES.c.monitor_id.in_({monitor_id for monitor_id, _, _ in stale}))).all())
    now = datetime.now(UTC)
    for monitor_id, key, severity in stale:
        if _delete_firing(connection, monitor_id, key):
            state = states.get(monitor_id, "unknown")
            _write_event(connection, [], monitor_id, key, severity, False,
                         f"{key}: the rule was removed", None, now, state)


def firing_rules(connection: Connection, monitor_id: int) -> list[dict]:
    """A monitor's firing rules: key, severity and since when (for pages and the API)."""
    return [
        {"rule_key": row.rule_key, "severity": row.severity, "since": utc(row.firing_since)}
        for row in connection.execute(
            select(RULE_STATES).where(RULE_STATES.c.monitor_id == monitor_id)
            .order_by(RULE_STATES.c.rule_key))
    ]


def monitor_firing_rules(monitor_id: int) -> list[dict]:
    """firing_rules over a read connection of its own."""
    with read_connection() as connection:
        return firing_rules(connection, monitor_id)


__all__ = ["RULES_REREAD_S", "UPTIME_EVERY_S", "RuleWatch", "firing_rules", "monitor_firing_rules",
           "rule_notice_text"]
