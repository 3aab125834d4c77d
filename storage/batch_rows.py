"""A recorded batch's plain rows, through the batch driver: results inserted, monitors and their
states loaded, states written back (binary COPY on PostgreSQL, executemany on SQLite).
"""

from __future__ import annotations

from storage.batch_driver import BatchDriver
from storage.pg_copy import copy_insert, copy_update

_RESULT_COLUMNS = ("monitor_id", "checked_at", "outcome", "latency_ms", "http_status", "reason",
                   "phases")
_STATE_COLUMNS = ("state", "reason", "since", "last_check_at", "last_latency_ms",
                  "consecutive_failures", "consecutive_successes", "cert_not_after")


def insert_results(driver: BatchDriver, rows: list[tuple]) -> None:
    if not driver.sqlite:
        copy_insert(driver.connection, "check_result", _RESULT_COLUMNS, rows)
        return
    driver.executemany(
        f"INSERT INTO check_result ({', '.join(_RESULT_COLUMNS)}) "
        f"VALUES ({driver.marks(len(_RESULT_COLUMNS))})", rows)


def _by_id(driver: BatchDriver, table: str, key: str, columns: tuple[str, ...],
           ids: list[int]) -> dict[int, dict]:
    """Rows of `table` whose `key` is in `ids`, as dicts by that key."""
    found: dict[int, dict] = {}
    for chunk, condition in driver.in_lists(ids):
        for row in driver.rows(
            f"SELECT {key}, {', '.join(columns)} FROM {table} WHERE {key} {condition}", chunk,
        ):
            found[row[0]] = dict(zip(columns, row[1:], strict=True))
    return found


def load_states(driver: BatchDriver, monitor_ids: list[int]) -> dict[int, dict]:
    states = _by_id(driver, "monitor_state", "monitor_id", _STATE_COLUMNS, monitor_ids)
    read_time = driver.read_time
    for monitor_id, state in states.items():
        state["monitor_id"] = monitor_id
        for name in ("since", "last_check_at", "cert_not_after"):
            state[name] = read_time(state[name])
    return states


def load_monitors(driver: BatchDriver, monitor_ids: list[int]) -> dict[int, dict]:
    monitors = _by_id(driver, "monitor", "id",
                      ("name", "group_name", "public", "severity", "depends_on"), monitor_ids)
    for monitor_id, monitor in monitors.items():
        monitor["id"] = monitor_id
        monitor["public"] = bool(monitor["public"])
    return monitors


def update_states(driver: BatchDriver, states: list[dict]) -> None:
    time = driver.time
    rows = [(s["state"], s["reason"], time(s["since"]), time(s["last_check_at"]),
             s["last_latency_ms"], s["consecutive_failures"], s["consecutive_successes"],
             time(s["cert_not_after"]), s["monitor_id"]) for s in states]
    if not driver.sqlite:
        copy_update(driver.connection, "monitor_state", ("monitor_id",),
                    (*_STATE_COLUMNS, "monitor_id"), rows)
        return
    assignments = ", ".join(f"{name} = {driver.mark}" for name in _STATE_COLUMNS)
    driver.executemany(
        f"UPDATE monitor_state SET {assignments} WHERE monitor_id = {driver.mark}", rows)
