"""The read model rebuilds only when what it shows changed, in a child process; the page's bars
come built with each snapshot and name the same incidents per day as PublicStatus.incidents_on."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from domain.result import ProbeResult
from readmodel.board_payload import board_payload, incident_titles_by_day
from readmodel.builder_process import SnapshotBuilderProcess
from readmodel.feeds import feed_body
from readmodel.read_model import ReadModel, running_read_model
from readmodel.refresh_policy import RefreshPolicy, keep_building
from readmodel.status_document import status_json_body
from readmodel.wire import pack_status, unpack_snapshot
from storage.change_marks import change_fingerprint
from storage.incidents import create_incident, edit_incident
from storage.results import record_result
from storage.status import public_status
from tests.server_process import wait_until
from tests.status_support import monitor


def test_the_fingerprint_moves_with_results_and_incidents_only() -> None:
    first = monitor("Shop")
    before = change_fingerprint()
    assert change_fingerprint() == before
    record_result(first.id, ProbeResult("down", latency_ms=None, reason="refused"))
    after_result = change_fingerprint()
    assert after_result != before
    create_incident("Checkout is slow", "investigating", "Looking into it.")
    assert change_fingerprint() != after_result


@contextmanager
def policy_running(policy: RefreshPolicy) -> Iterator[tuple[list[float], list[float],
                                                             threading.Event]]:
    """keep_building on a thread: (build times, confirmations, the stale notice to set)."""
    builds: list[float] = []
    confirms: list[float] = []
    stale, stopping = threading.Event(), threading.Event()
    worker = threading.Thread(target=keep_building, args=(
        policy, lambda: builds.append(time.time()), confirms.append, stale, stopping))
    worker.start()
    try:
        yield builds, confirms, stale
    finally:
        stopping.set()
        worker.join()


def test_the_policy_rebuilds_on_change_or_notice_and_otherwise_confirms() -> None:
    shop = monitor("Shop")
    policy = RefreshPolicy(max_age_s=3600, check_every_s=0.05, min_gap_s=0.0, settle_s=0.02)
    with policy_running(policy) as (builds, confirms, stale):
        wait_until(lambda: builds, 5, "the first build")
        # nothing changed: checked (and found current) three times, not rebuilt
        wait_until(lambda: len(confirms) >= 3, 5, "three checks after the first build")
        assert len(builds) == 1
        record_result(shop.id, ProbeResult("down", latency_ms=None, reason="refused"))
        wait_until(lambda: len(builds) == 2, 5, "a build after the result")
        stale.set()
        wait_until(lambda: len(builds) == 3, 5, "a build after the notice")
        checked = len(confirms)
        wait_until(lambda: len(confirms) >= checked + 3, 5, "three checks after the notice")
        assert len(builds) == 3  # the notice was answered once


def test_the_policy_keeps_a_minimum_gap_between_builds() -> None:
    shop = monitor("Shop")
    policy = RefreshPolicy(max_age_s=3600, check_every_s=0.05, min_gap_s=0.6, settle_s=0.02)
    with policy_running(policy) as (builds, _, stale):
        wait_until(lambda: builds, 5, "the first build")
        record_result(shop.id, ProbeResult("down", latency_ms=None, reason="refused"))
        stale.set()
        wait_until(lambda: len(builds) == 2, 5, "a build after the gap")
        assert builds[1] - builds[0] >= 0.6


def test_keep_fresh_installs_what_a_child_process_builds() -> None:
    shop = monitor("Shop")
    model = ReadModel(RefreshPolicy(max_age_s=3600, check_every_s=0.05, min_gap_s=0.0,
                                    settle_s=0.02))

    async def scenario() -> None:
        task = asyncio.create_task(model.keep_fresh())
        try:
            await wait_for(lambda: model.snapshot.known, "the first snapshot")
            built = model.snapshot
            assert running_read_model() is model and model.is_fresh()
            assert built.components["shop"].state == "up"
            # nothing changed: the builder checks and confirms it, twice, without rebuilding
            for _ in range(2):
                confirmed = model._confirmed_at
                await wait_for(lambda: model._confirmed_at > confirmed,  # noqa: B023
                               "the builder confirming the snapshot is current")
            assert model.snapshot is built
            record_result(shop.id, ProbeResult("down", latency_ms=None, reason="refused"))
            await wait_for(lambda: model.snapshot is not built, "a new snapshot")
            assert model.snapshot.components["shop"].state == "down"
            assert model.snapshot.status is not None
            # The page gets its board, ready to send.
            [group] = json.loads(model.snapshot.board)["groups"]
            assert [r["name"] for r in group["rows"]] == ["Shop"]
            first_builder, before = model.builder_pid, model.snapshot
            assert first_builder is not None
            os.kill(first_builder, signal.SIGKILL)
            await wait_for(lambda: model.snapshot is not before, "a snapshot from a new process",
                           timeout_s=60)
            assert model.builder_pid not in (None, first_builder)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert running_read_model() is None

    asyncio.run(scenario())


async def wait_for(predicate, what: str, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def test_the_builder_process_answers_notices_and_stops() -> None:
    monitor("Shop")
    received: list[bytes] = []
    builder = SnapshotBuilderProcess(
        RefreshPolicy(max_age_s=3600, check_every_s=3600, min_gap_s=0.0, settle_s=0.02),
        on_snapshot=lambda packed: received.append(bytes(packed)), on_confirmed=lambda _: None)
    builder.start()
    try:
        wait_until(lambda: received, 30, "the first snapshot")
        builder.mark_stale()
        wait_until(lambda: len(received) == 2, 10, "a snapshot after the notice")
        assert unpack_snapshot(received[1]).components["shop"].state == "up"
    finally:
        builder.stop()
    assert builder.pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(builder.pid, 0)


def test_a_packed_snapshot_holds_what_the_public_answers_need() -> None:
    monitor("Shop")
    create_incident("Checkout is slow", "investigating", "Looking into it.")
    status = public_status()
    snapshot = unpack_snapshot(pack_status(status, built_at=123.0))
    assert (snapshot.built_at, snapshot.overall, snapshot.known) == (123.0, status.overall, True)
    [component] = snapshot.components.values()
    assert component == dataclasses.replace(status.components[0], bars=())  # badges need no bars
    # The page's status, without the bars, which come as the browser's payloads.
    assert snapshot.status == dataclasses.replace(status, components=(component,))
    assert snapshot.status is snapshot.status  # unpickled once
    assert snapshot.board == board_payload(status)
    assert json.loads(snapshot.board)["groups"][0]["rows"][0]["name"] == "Shop"
    assert snapshot.status_json is not None
    assert snapshot.status_json.body == status_json_body(status)
    assert {kind: answer.body for kind, answer in snapshot.feeds.items()} == {
        kind: feed_body(status, kind) for kind in ("atom", "rss")}
    assert b"Checkout is slow" in snapshot.feeds["atom"].body


def test_bars_name_the_incidents_of_each_day() -> None:
    shop = monitor("Shop")
    monitor("Search")
    create_incident("Checkout is slow", "investigating", "Looking into it.", monitor_id=shop.id,
                    now=datetime.now(UTC) - timedelta(days=2))
    status = public_status()
    components = list(status.components)
    titles = incident_titles_by_day(status)
    for component in components:
        for bar in component.bars:
            expected = [i.title for i in status.incidents_on(component.id, bar.day)]
            assert titles.get((component.id, bar.day), []) == expected
    [rows] = [group["rows"] for group in json.loads(board_payload(status))["groups"]]
    assert {row["name"] for row in rows} == {"Shop", "Search"}
    assert all(len(row["days"]) == len(row["titles"]) == 90 for row in rows)
    today = next(c for c in components if c.id == shop.id).bars[-1].day
    assert titles[(shop.id, today)] == ["Checkout is slow"]  # still open: every day since
    shop_row = next(row for row in rows if row["name"] == "Shop")
    assert "Checkout is slow" in shop_row["titles"][-1]


def test_a_past_days_text_follows_its_incidents_title_while_its_bars_are_kept() -> None:
    shop = monitor("Shop")
    incident = create_incident("Checkout is slow", "investigating", "Looking into it.",
                               monitor_id=shop.id, now=datetime.now(UTC) - timedelta(days=2))

    def past_titles() -> list[str]:
        [row] = json.loads(board_payload(public_status()))["groups"][0]["rows"]
        return row["titles"][:-1]  # today's is formatted on every build anyway

    assert any("Checkout is slow" in t for t in past_titles())
    edit_incident(incident, title="Checkout was slow", public=True, monitor_id=shop.id)
    titles = past_titles()  # the past bars are the kept ones: only the title changed
    assert any("Checkout was slow" in t for t in titles)
    assert not any("Checkout is slow" in t for t in titles)


def test_right_after_start_the_page_waits_for_the_snapshot_being_built(monkeypatch) -> None:
    import readmodel.read_model
    from ui.status_data import current_page

    monitor("Shop")
    model = ReadModel()
    monkeypatch.setattr(readmodel.read_model, "_current", model)  # as keep_fresh sets it
    packed = pack_status(public_status(), built_at=time.time())
    threading.Timer(0.3, model.install, (packed,)).start()  # the child's first snapshot
    page = current_page()
    assert page.status is model.snapshot.status  # the snapshot's, not a status of its own
    assert page.board == model.snapshot.board


def test_a_first_snapshot_that_never_comes_holds_up_only_the_first_runs(monkeypatch) -> None:
    import readmodel.read_model
    import ui.status_data
    from ui.status_data import current_page

    monitor("Shop")
    model = ReadModel()  # its first build keeps failing: nothing is ever installed
    monkeypatch.setattr(readmodel.read_model, "_current", model)
    monkeypatch.setattr(ui.status_data, "FIRST_SNAPSHOT_WAIT_S", 0.5)
    started = time.monotonic()
    first = current_page()
    waited = time.monotonic() - started
    assert 0.4 <= waited < 3  # waited for the build, then read the status itself
    assert [c.name for c in first.status.components] == ["Shop"]
    started = time.monotonic()
    assert [c.name for c in current_page().status.components] == ["Shop"]
    assert time.monotonic() - started < 0.3  # past the first wait: no run waits again
