"""The engine in a child process: checks run and are recorded there, the parent hears of each
batch, and stopping (or the parent's pipe closing) ends the child."""

import os
import threading
import time
from pathlib import Path

from sqlmodel import select

from checks.engine_process import PROBE_NICENESS, ProbeEngineProcess
from domain.monitor_input import parse_monitor_input
from storage.db import session_scope
from storage.models import CheckResult
from storage.monitors import create_monitor
from tests.targets import serve_fault_target


def _wait_for(condition, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_the_child_probes_records_and_tells_the_parent() -> None:
    with serve_fault_target() as target:
        monitor = create_monitor(parse_monitor_input(
            {"name": "ok", "url": target.url("/ok"), "interval": 10, "timeout": 2}
        ))
        heard = threading.Event()
        child = ProbeEngineProcess(on_recorded=heard.set, sync_every_s=0.2, first_run_spread_s=0.1)
        child.start()
        try:
            assert child.pid is not None and child.pid != os.getpid()
            assert heard.wait(15), "the parent never heard of a recorded batch"
            assert _wait_for(lambda: child.results_written >= 1)
            age = child.seconds_since_tick()
            assert age is not None and age < 5
        finally:
            child.stop()
    with session_scope() as session:
        results = session.exec(
            select(CheckResult).where(CheckResult.monitor_id == monitor.id)
        ).all()
    assert results and results[0].outcome == "up"
    assert {"connect", "ttfb", "total"} <= set(results[0].phases)
    assert child._child is not None and not child._child.process.is_alive()


def _niceness(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])


def test_the_child_asks_to_run_ahead_of_the_web_process() -> None:
    """Where the OS allows it (root or CAP_SYS_NICE), the probe process runs at a higher
    priority, so UI work waiting for a core does not inflate recorded latency."""
    child = ProbeEngineProcess(sync_every_s=0.2)
    child.start()
    try:
        assert child.pid is not None
        ours = _niceness(os.getpid())
        if os.geteuid() == 0:
            assert _niceness(child.pid) == max(ours + PROBE_NICENESS, -20)
        else:
            assert _niceness(child.pid) <= ours
    finally:
        child.stop()


def test_an_idle_child_sends_nothing_new() -> None:
    """With nothing checked and the schedule unchanged, the child sends no counters: the web
    process's reader thread is not woken twice a second to unpickle the same figures."""
    child = ProbeEngineProcess(sync_every_s=30)
    child.start()
    try:
        assert _wait_for(lambda: child.counters.last_tick is not None)
        time.sleep(0.6)  # the first sync's report is in
        seen = [child.counters]
        began = time.monotonic()
        while time.monotonic() - began < 2.0:  # four reports' worth at REPORT_EVERY_S
            if child.counters is not seen[-1]:
                seen.append(child.counters)
            time.sleep(0.01)
        assert len(seen) == 1, f"{len(seen) - 1} reports of unchanged counters"
        assert child.seconds_since_tick() is not None
    finally:
        child.stop()
