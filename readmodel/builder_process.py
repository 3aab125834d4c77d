"""The read model's snapshots, built in a child process and handed over as bytes.

A rebuild is 100-400 ms of Python (a year of history for 100 monitors). On a thread of the web
process it competed with the event loop for the GIL: with results arriving, badge p99 at
3,000 req/s went from under 5 ms to 16-19 ms, with single stalls of 20-70 ms (the loop waiting
out the worker's switch interval again and again, full garbage collections of the rebuild's
objects, and long C calls). In a process of its own the rebuild has its own GIL and its own
collector; the web process only receives the bytes (on a thread that waits in the kernel) and
installs them (readmodel/wire, a few milliseconds of Python in small steps).

The child decides when to rebuild (readmodel/refresh_policy) and asks for a lower CPU
priority, so on a busy machine the server and the probes come first. Messages on the pipe:
- parent -> child: b"stale" (something changed; check soon), b"stop";
- child -> parent: b"S" + a packed snapshot, b"C" + the time a check found the last one current.
Closing the pipe (or the parent dying) stops the child too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection

from processes.child_process import PipedChild
from readmodel.refresh_policy import RefreshPolicy

log = logging.getLogger(__name__)

BUILDER_NICENESS = 5
STALE, STOP = b"stale", b"stop"
SNAPSHOT, CONFIRMED = b"S", b"C"


def _child_main(pipe: Connection, policy: RefreshPolicy) -> None:
    from config.logging_setup import configure_logging
    from config.settings import get_settings
    from readmodel.refresh_policy import keep_building
    from readmodel.wire import METRICS_MAX_AGE_S, pack_snapshot

    configure_logging(get_settings(), quiet=True)
    with contextlib.suppress(OSError):
        os.nice(BUILDER_NICENESS)
    stale, stopping = threading.Event(), threading.Event()

    def listen() -> None:
        with contextlib.suppress(EOFError, OSError):
            while (message := pipe.recv_bytes()) != STOP:
                if message == STALE:
                    stale.set()
        stopping.set()
        stale.set()  # ends the builder's wait for a notice: it stops now, not at its next look

    threading.Thread(target=listen, name="upwatch-parent-notices", daemon=True).start()
    with contextlib.suppress(BrokenPipeError, OSError):  # the parent went away
        keep_building(
            policy,
            build=lambda: pipe.send_bytes(
                SNAPSHOT + pack_snapshot(metrics_max_age_s=METRICS_MAX_AGE_S)),
            confirm=lambda when: pipe.send_bytes(CONFIRMED + repr(when).encode()),
            stale=stale,
            stopping=stopping,
        )


class SnapshotBuilderProcess:
    """Starts the child, forwards stale notices, and calls `on_snapshot(packed)` and
    `on_confirmed(when)` on a thread of this process as the child's messages arrive."""

    def __init__(
        self,
        policy: RefreshPolicy,
        on_snapshot: Callable[[memoryview], None],
        on_confirmed: Callable[[float], None],
    ) -> None:
        self._policy = policy
        self._on_snapshot = on_snapshot
        self._on_confirmed = on_confirmed
        self._child: PipedChild | None = None
        self._send_lock = threading.Lock()

    def start(self) -> None:
        self._child = PipedChild.spawn("upwatch-read-model", _child_main, (self._policy,),
                                       self._read)

    def _read(self, pipe: Connection) -> None:
        while True:
            try:
                message = memoryview(pipe.recv_bytes())
            except (EOFError, OSError):
                return
            try:
                if message[:1] == SNAPSHOT:
                    self._on_snapshot(message[1:])
                elif message[:1] == CONFIRMED:
                    self._on_confirmed(float(bytes(message[1:])))
            except Exception:
                log.exception("could not install a read-model snapshot")

    def _send(self, message: bytes) -> None:
        child = self._child
        if child is None:
            return
        with self._send_lock, contextlib.suppress(BrokenPipeError, OSError):
            child.pipe.send_bytes(message)

    def mark_stale(self) -> None:
        """Safe to call from any thread, the event loop's too: a few bytes into a socket."""
        self._send(STALE)

    def stop(self, timeout_s: float = 10.0) -> None:
        # Notices sent after this meet a closed pipe, and are dropped like any lost notice.
        # STOP goes through `_send`'s lock like every notice: sends from two threads at once
        # could interleave on the pipe.
        if self._child is not None:
            self._child.stop(lambda _pipe: self._send(STOP), timeout_s)

    def is_alive(self) -> bool:
        return self._child is not None and self._child.process.is_alive()

    @property
    def exitcode(self) -> int | None:
        return None if self._child is None else self._child.process.exitcode

    @property
    def pid(self) -> int | None:
        return None if self._child is None else self._child.process.pid
