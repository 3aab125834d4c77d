"""Where the `upwatch` log lines go: stderr, in one format for the worker and the web process."""

from __future__ import annotations

import logging

LOG_FORMAT = "%(asctime)s %(name)s %(message)s"


def log_to_stderr_unless_configured() -> None:
    """For the web process. Streamlit sets up only its own loggers, so without this the INFO
    lines of the composition (monitors file applied, probe engine started, retention pruned,
    which process holds the pruner lease) went nowhere there, while a worker printed them."""
    upwatch = logging.getLogger("upwatch")
    if upwatch.handlers or logging.getLogger().handlers:
        return  # somebody chose where logs go: leave it to them
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    upwatch.addHandler(handler)
    upwatch.setLevel(logging.INFO)
