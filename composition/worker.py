"""`upwatch worker`: only the probe engine, beside web processes run with UPWATCH_PROBES=false."""

from __future__ import annotations

import logging
import signal
import threading

from composition.services import start_services
from config.logging_setup import log_settings_summary
from config.settings import get_settings


def run_worker() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    settings = get_settings()
    log_settings_summary(settings, "probe worker")
    # The same assembly as the web process, from the same settings; a worker always probes.
    services = start_services(settings, probes=True, engine_in_child=False,
                              apply_config=False)
    logging.getLogger("upwatch").info("probe worker running; Ctrl-C stops it")
    try:
        stop.wait()
    finally:
        services.stop()
