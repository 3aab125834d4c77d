"""The probe engine in a child process, for processes that also serve the UI.

A thread with its own event loop keeps UI coroutines off the probe loop, but not the UI's
Python code: page scripts and the probe loop share one GIL, and with 50 dashboard sessions
re-running, a 100 ms target was recorded at p99 270 ms (bench/engine_bench.py --delay-figure).
In a process of its own the loop has its own interpreter, and the recorded latency is the
target's again.

The engine already talks to the rest only through the database and one callback, so the child
runs the same ProbeEngine; a pipe carries "recorded" notices and counters back, and closing
the pipe (or the parent dying) stops the child.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection

from processes.child_process import PipedChild

log = logging.getLogger(__name__)

# How often the child reports its counters; also bounds how stale seconds_since_tick() can be.
REPORT_EVERY_S = 0.5
# The child asks to be scheduled ahead of the web process: on 2 busy cores, a probe waiting
# for a core while dashboards re-run adds that wait to the recorded latency.
PROBE_NICENESS = -10
# The child's threads hand the GIL over every 1 ms instead of 5 ms, so a batch being recorded
# delays the loop noticing a response by at most that.
PROBE_SWITCH_INTERVAL_S = 0.001


@dataclass
class EngineCounters:
    """What the child last reported (the fields of EngineStats that /metrics and tests read)."""

    checks: int = 0
    missed: int = 0
    overlapping: int = 0
    written: int = 0
    last_tick: float | None = None


def _child_main(pipe: Connection, engine_options: dict) -> None:
    """Runs in the child: the engine, plus a loop sending notices until the pipe closes."""
    # httpx loads its command-line client (click, rich, pygments: ~6 MB, 40 ms) when those are
    # installed, as Streamlit's dependencies are; the probes never run it. A None entry makes
    # that import fail, and httpx then leaves the command line out.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    from checks.engine import ProbeEngine
    from config.logging_setup import configure_logging
    from config.settings import get_settings

    configure_logging(get_settings(), quiet=True)
    _favour_probing()
    send_lock = threading.Lock()
    pending = threading.Event()
    stopping = threading.Event()
    _stop_on_sigterm(stopping, pending)

    engine = ProbeEngine(on_recorded=pending.set, **engine_options)
    engine.start()

    sent: list[EngineCounters] = []  # the counters the parent has

    def report(recorded: bool) -> None:
        stats = engine.stats
        counters = EngineCounters(stats.checks, stats.missed, stats.overlapping,
                                  engine.results_written, engine.last_tick)
        if not recorded and sent and counters == sent[-1]:
            return  # nothing new (an idle engine): no wake-up and no unpickling in the parent
        with send_lock:
            pipe.send(("recorded" if recorded else "counters", counters))
        sent[:] = [counters]

    def watch_parent() -> None:
        with contextlib.suppress(EOFError, OSError):
            while pipe.recv() != "stop":
                pass
        stopping.set()
        pending.set()

    threading.Thread(target=watch_parent, name="upwatch-parent-watch", daemon=True).start()
    try:
        while not stopping.is_set():
            recorded = pending.wait(REPORT_EVERY_S)
            pending.clear()
            if stopping.is_set():
                break
            report(recorded)
    except (BrokenPipeError, OSError):  # the parent went away
        pass
    finally:
        engine.stop(timeout_s=10)
        with contextlib.suppress(BrokenPipeError, OSError):
            report(recorded=True)


def _stop_on_sigterm(stopping: threading.Event, pending: threading.Event) -> None:
    """A SIGTERM sent here too (a supervisor signalling the whole process group) stops the
    engine as the parent's "stop" does: checks end, queued results are written. One that comes
    while stopping (the parent's terminate() past its timeout) ends the process at once."""
    def on_sigterm(*_args: object) -> None:
        if stopping.is_set():
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
        stopping.set()
        pending.set()

    signal.signal(signal.SIGTERM, on_sigterm)


def _favour_probing() -> None:
    """Ask for priority over the UI (needs CAP_SYS_NICE; without it the child keeps the normal
    priority and works the same), and a shorter GIL switch interval."""
    sys.setswitchinterval(PROBE_SWITCH_INTERVAL_S)
    try:
        os.nice(PROBE_NICENESS)
    except OSError:
        log.info("the probe process runs at normal priority (no permission to raise it)")


class ProbeEngineProcess:
    """Same surface as ProbeEngine for the web process: start, stop, seconds_since_tick,
    results_written, and `on_recorded` called (on a thread of this process) after each batch."""

    def __init__(self, *, on_recorded: Callable[[], None] = lambda: None, **engine_options) -> None:
        self._on_recorded = on_recorded
        self._engine_options = engine_options
        self._child: PipedChild | None = None
        self._first_report = threading.Event()
        self.counters = EngineCounters()

    def start(self, ready_timeout_s: float = 30.0) -> None:
        self._child = PipedChild.spawn("upwatch-probes", _child_main, (self._engine_options,),
                                       self._read)
        if not self._first_report.wait(ready_timeout_s):
            log.warning("the probe process has not reported within %.0f s", ready_timeout_s)

    def _read(self, pipe: Connection) -> None:
        while True:
            try:
                kind, counters = pipe.recv()
            except (EOFError, OSError):
                return
            self.counters = counters
            self._first_report.set()
            if kind == "recorded":
                try:
                    self._on_recorded()
                except Exception:
                    log.exception("a listener of recorded results failed")

    def stop(self, timeout_s: float = 15.0) -> None:
        if self._child is not None:
            self._child.stop(lambda pipe: pipe.send("stop"), timeout_s)

    @property
    def pid(self) -> int | None:
        return None if self._child is None else self._child.process.pid

    @property
    def results_written(self) -> int:
        return self.counters.written

    def seconds_since_tick(self) -> float | None:
        tick = self.counters.last_tick
        return None if tick is None else time.time() - tick
