"""The read model rebuilds only when what it shows changed; the page's bars are built once per
snapshot and name the same incidents per day as PublicStatus.incidents_on."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from checks.result import ProbeResult
from storage.incidents import create_incident
from storage.results import record_result
from storage.status import public_status
from tests.status_support import monitor
from ui.status_bars import group_specs, incident_titles_by_day
from web.read_model import ReadModel, change_fingerprint


def test_the_fingerprint_moves_with_results_and_incidents_only() -> None:
    first = monitor("Shop")
    before = change_fingerprint()
    assert change_fingerprint() == before
    record_result(first.id, ProbeResult("down", latency_ms=None, reason="refused"))
    after_result = change_fingerprint()
    assert after_result != before
    create_incident("Checkout is slow", "investigating", "Looking into it.")
    assert change_fingerprint() != after_result


def test_keep_fresh_rebuilds_on_change_and_not_otherwise() -> None:
    shop = monitor("Shop")
    model = ReadModel(max_age_s=3600, check_every_s=0.05, min_gap_s=0.0, settle_s=0.02)

    async def run_for(seconds: float) -> None:
        task = asyncio.create_task(model.keep_fresh())
        await asyncio.sleep(seconds)
        task.cancel()

    asyncio.run(run_for(0.3))
    built = model.snapshot
    assert built.status is not None and model.is_fresh()
    asyncio.run(run_for(0.3))
    assert model.snapshot is built  # nothing changed: the same snapshot, nothing rebuilt
    record_result(shop.id, ProbeResult("down", latency_ms=None, reason="refused"))
    asyncio.run(run_for(0.3))
    assert model.snapshot is not built
    assert model.snapshot.components["shop"].state == "down"


def test_bars_name_the_incidents_of_each_day_and_are_built_once() -> None:
    shop = monitor("Shop")
    monitor("Search")
    create_incident("Checkout is slow", "investigating", "Looking into it.", monitor_id=shop.id,
                    now=datetime.now(UTC) - timedelta(days=2))
    status = public_status()
    components = list(status.components)
    titles = incident_titles_by_day(status, components)
    for component in components:
        for bar in component.bars:
            expected = [i.title for i in status.incidents_on(component.id, bar.day)]
            assert titles.get((component.id, bar.day), []) == expected
    specs = group_specs(status)
    assert group_specs(status) is specs
    day_bars = specs[0]["layer"][0]  # the bars; the second layer holds the names
    data = specs[0]["datasets"][day_bars["data"]["name"]]
    table = pa.ipc.open_stream(io.BytesIO(data)).read_all().to_pandas()
    assert len(table) == 2 * 90 and set(table["component"]) == {"Shop", "Search"}
    assert day_bars["mark"]["type"] == "rect"
    today = next(c for c in components if c.id == shop.id).bars[-1].day
    assert titles[(shop.id, today)] == ["Checkout is slow"]  # still open: every day since
