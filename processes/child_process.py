"""A spawned child process with one pipe to it, and a thread here reading what it sends.

The probe engine and the read-model builder each run in such a child; what travels on the pipe
is theirs, starting and stopping the child is this.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _main_script_hidden() -> Iterator[None]:
    """While a child starts, hide which script this process runs. spawn re-runs the parent's
    main script in the child, for functions defined there; ours live in modules, and the main
    script is Streamlit's command line (or `upwatch`'s), whose import alone would load all of
    Streamlit into the engine and builder processes (~30 MB each, never used there)."""
    main = sys.modules.get("__main__")
    if main is None or not hasattr(main, "__file__"):
        yield
        return
    # multiprocessing.spawn names the main module by its spec, else by its file.
    spec, path = main.__spec__, main.__file__
    main.__spec__ = None
    del main.__file__
    try:
        yield
    finally:
        main.__spec__, main.__file__ = spec, path


_PR_SET_NAME = 15  # linux/prctl.h
_COMM_BYTES = 15  # the kernel keeps this much of a process name


def _name_this_process(name: str) -> None:
    """Show `name` for this process in ps, top and /proc/<pid>/comm, instead of "python3"
    for every one of ours. Linux only; elsewhere (or refused) the name stays as it was."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(
            _PR_SET_NAME, name.encode()[:_COMM_BYTES], 0, 0, 0)


def _run_named(name: str, target: Callable[..., None], *args: Any) -> None:
    """The child's entry point: named, then `target(*args)`."""
    _name_this_process(name)
    target(*args)


@dataclass
class PipedChild:
    process: BaseProcess
    pipe: Connection
    reader: threading.Thread

    @classmethod
    def spawn(cls, name: str, target: Callable[..., None], args: tuple[Any, ...],
              read: Callable[[Connection], None]) -> PipedChild:
        """Start `target(child_end_of_pipe, *args)` in a child process, and `read(our_end)` on a
        thread of this one."""
        # spawn, not fork: the web process has threads (and locks) that a fork would copy mid-use.
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(target=_run_named, args=(name, target, theirs, *args),
                                  name=name, daemon=True)
        with _main_script_hidden():
            process.start()
        theirs.close()
        reader = threading.Thread(target=read, args=(ours,), name=f"{name}-notices", daemon=True)
        reader.start()
        return cls(process, ours, reader)

    def stop(self, ask_to_stop: Callable[[Connection], None], timeout_s: float) -> None:
        """Ask the child to stop, wait for it (terminating it past `timeout_s`), close the pipe."""
        with contextlib.suppress(BrokenPipeError, OSError):
            ask_to_stop(self.pipe)
        self.process.join(timeout_s)
        if self.process.is_alive():
            log.warning("the %s process did not stop in %.0f s; terminating it",
                        self.process.name, timeout_s)
            self.process.terminate()
            self.process.join(5)
        self.reader.join(2)
        self.pipe.close()
