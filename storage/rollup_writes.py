"""A recorded batch's rollup increments merged into the stored hourly and daily rows and written
back in one statement per kind: new buckets inserted, buckets already stored updated.
"""

from __future__ import annotations

from collections import defaultdict

from analytics.histogram_blobs import add_into_serialized
from analytics.rollup import Rollup, RollupKey
from storage.batch_driver import BatchDriver
from storage.pg_copy import copy_insert, copy_update

ROLLUP_VALUES = ("bucket_end", "up_s", "degraded_s", "down_s", "maintenance_s", "checks",
                 "failures", "histogram", "min_ms", "max_ms")
_ROLLUP_KEYS = ("monitor_id", "period", "bucket_start")
_ROLLUP_COLUMNS = (*_ROLLUP_KEYS, *ROLLUP_VALUES)


def _stored_rollups(
    driver: BatchDriver, increments: dict[int, dict[RollupKey, Rollup]]
) -> dict[tuple, tuple]:
    """The stored rows of the buckets this batch touches, by (monitor, period, stored start)."""
    wanted: dict[str, set] = defaultdict(set)
    for table in increments.values():
        for period, start in table:
            wanted[period].add(driver.bucket_time(start))
    stored: dict[tuple, tuple] = {}
    for period_name, starts in wanted.items():
        for chunk, in_monitors in driver.in_lists(list(increments)):
            times, in_times = driver.in_lists(sorted(starts), chunk=len(starts))[0]
            rows = driver.rows(
                "SELECT monitor_id, bucket_start, up_s, degraded_s, down_s, maintenance_s, "
                "checks, failures, histogram, min_ms, max_ms FROM rollup "
                f"WHERE period = {driver.mark} AND monitor_id {in_monitors} "
                f"AND bucket_start {in_times}",
                (period_name, *chunk, *times),
            )
            for monitor_id, start, *values in rows:
                stored[(monitor_id, period_name, start)] = tuple(values)
    return stored


def merged_rollup_rows(
    driver: BatchDriver, increments: dict[int, dict[RollupKey, Rollup]]
) -> tuple[list[tuple], list[tuple]]:
    """This batch's increments added to the stored rows of the same buckets, ready to write:
    the rows of new buckets, and the rows of buckets already stored."""
    stored = _stored_rollups(driver, increments)
    bucket_time = driver.bucket_time
    new: list[tuple] = []
    changed: list[tuple] = []
    for monitor_id, table in increments.items():
        for (period, start), inc in table.items():
            stored_start = bucket_time(start)
            histogram = inc.histogram
            up, degraded, down, maintenance = (inc.up_s, inc.degraded_s, inc.down_s,
                                               inc.maintenance_s)
            checks, failures = inc.checks, inc.failures
            existing = stored.get((monitor_id, period, stored_start))
            rows = new if existing is None else changed
            if existing is None:
                blob, low, high = histogram.to_bytes(), histogram.min_ms, histogram.max_ms
            else:
                up += existing[0]
                degraded += existing[1]
                down += existing[2]
                maintenance += existing[3]
                checks += existing[4]
                failures += existing[5]
                blob, low, high = bytes(existing[6]), existing[7], existing[8]
                if histogram.count:  # else the stored histogram stands as it is
                    blob = add_into_serialized(blob, histogram)
                    low = histogram.min_ms if low is None else min(low, histogram.min_ms)
                    high = histogram.max_ms if high is None else max(high, histogram.max_ms)
            rows.append((monitor_id, period, stored_start, bucket_time(inc.bucket_end), up,
                         degraded, down, maintenance, checks, failures, blob, low, high))
    return new, changed


def write_rollups(driver: BatchDriver, new: list[tuple], changed: list[tuple]) -> None:
    if not driver.sqlite:
        # A new bucket written meanwhile by another writer makes the COPY fail, and the batch
        # is retried from fresh reads: nothing is overwritten unseen.
        copy_insert(driver.connection, "rollup", _ROLLUP_COLUMNS, new)
        copy_update(driver.connection, "rollup", _ROLLUP_KEYS, _ROLLUP_COLUMNS, changed)
        return
    updates = ", ".join(f"{name} = excluded.{name}" for name in ROLLUP_VALUES)
    driver.executemany(
        f"INSERT INTO rollup ({', '.join(_ROLLUP_COLUMNS)}) "
        f"VALUES ({driver.marks(len(_ROLLUP_COLUMNS))}) "
        f"ON CONFLICT (monitor_id, period, bucket_start) DO UPDATE SET {updates}",
        new + changed,
    )
