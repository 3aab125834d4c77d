"""The one assembly of the background parts, shared by the web process and `upwatch worker`.

Both build the same things from the same settings: the schema, the monitors file, the
environment's channels (the monitors file only in web processes: one
writer of it per deployment start), the dispatcher, the scheduled reports' round and the probe
engine where probes run here,
and the retention pruner, which every process offers and exactly one runs (storage/leases).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from checks.engine import ProbeEngine
from checks.engine_process import ProbeEngineProcess
from config.monitors_file import InvalidMonitorsFile, load_monitors_file
from config.settings import Settings
from notifiers.dispatcher import Dispatcher
from notifiers.registry import sync_env_channels
from notifiers.report_sender import ReportScheduler
from storage.db import get_engine
from storage.key_source import secret_key
from storage.leases import Lease
from storage.monitors import save_monitors_file
from storage.retention import prune

log = logging.getLogger("upwatch")

PRUNER_LEASE = "retention-pruner"
# How long stopping waits for a prune in progress. Each batch is its own short transaction, so
# a process that exits mid-prune loses nothing, and its lease goes with its connection or file.
PRUNER_STOP_WAIT_S = 5.0


def _apply_monitors_file(path: str) -> None:
    try:
        applied = save_monitors_file(load_monitors_file(path))
    except InvalidMonitorsFile as refused:
        log.error("monitors file %s was not applied, nothing changed: %s", path, refused)
        return
    log.info("monitors file %s: %d created, %d updated", path, *applied)


class RetentionPruner:
    """Prunes at start and then every `every_s` in whichever process holds the pruner lease.

    The other processes ask for the lease as often, so when its holder stops one of them takes
    over within one round.
    """

    def __init__(self, database: Engine, every_s: float) -> None:
        self._every_s = every_s
        self._lease = Lease(database, PRUNER_LEASE)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="upwatch-prune", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._round()
                self._stop.wait(self._every_s)
        finally:
            # Given back by the thread that took it: the lease is not shared between threads.
            self._lease.release()

    def _round(self) -> None:
        try:
            had_it = self._lease.held
            if not self._lease.try_acquire():
                return
            if not had_it:
                log.info("retention: this process holds the pruner lease and prunes every %g s",
                         self._every_s)
            # Pruning goes in small batches, so probes never wait behind it.
            pruned = prune()
            log.info("retention: pruned %d results and %d rollups", pruned.results, pruned.rollups)
        except Exception:
            log.exception("retention pruning failed; trying again at the next round")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=PRUNER_STOP_WAIT_S)


def _stop_quietly(what: str, stop: Callable[[], None]) -> None:
    # One part failing to stop must not leave the others running.
    try:
        stop()
    except Exception:
        log.exception("stopping the %s failed", what)


@dataclass
class Services:
    """What `start_services` started, stopped in the reverse order."""

    pruner: RetentionPruner | None = None
    dispatcher: Dispatcher | None = None
    reports: ReportScheduler | None = None
    engine: ProbeEngine | ProbeEngineProcess | None = None
    _stopped: bool = field(default=False, repr=False)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.engine is not None:
            _stop_quietly("probe engine", self.engine.stop)
            log.info("probe engine stopped")
        if self.reports is not None:
            _stop_quietly("scheduled reports", self.reports.stop)
        if self.dispatcher is not None:
            _stop_quietly("dispatcher", self.dispatcher.stop)
        if self.pruner is not None:
            _stop_quietly("retention pruner", self.pruner.stop)


def start_services(settings: Settings, *, probes: bool, engine_in_child: bool,
                   apply_config: bool = True,
                   on_recorded: Callable[[], None] = lambda: None,
                   on_engine: Callable[[ProbeEngine | ProbeEngineProcess], None] = lambda _e: None,
                   ) -> Services:
    """Start the background parts of a process. Blocking: call it off the event loop.

    If a part fails to start, the parts already started are stopped before the error is raised.
    """
    database = get_engine()  # creates the schema before anything reads
    if apply_config and settings.monitors_file:
        _apply_monitors_file(settings.monitors_file)
    # The dashboard lists the environment's channels even where no dispatcher runs.
    with database.begin() as connection:
        sync_env_channels(connection, settings)
    # The link-signing key is made now rather than by the first request that needs one, so a
    # request the API refuses leaves the database exactly as it was.
    secret_key(database, settings)
    services = Services()
    try:
        if probes:
            _start_probing(services, database, settings, engine_in_child, on_recorded, on_engine)
        services.pruner = RetentionPruner(database, settings.prune_every_s)
        services.pruner.start()
    except BaseException:
        services.stop()
        raise
    return services


def _start_probing(services: Services, database: Engine, settings: Settings,
                   engine_in_child: bool, on_recorded: Callable[[], None],
                   on_engine: Callable[[ProbeEngine | ProbeEngineProcess], None]) -> None:
    # Paging runs where events are recorded; web-only processes leave it to the workers.
    dispatcher = Dispatcher(database, settings)
    dispatcher.start()
    services.dispatcher = dispatcher
    # Scheduled reports are sent where alerts are: a round a minute, each period once.
    services.reports = ReportScheduler(database, settings)
    services.reports.start()

    def recorded() -> None:
        on_recorded()
        dispatcher.wake()

    # In the web process the engine gets a process of its own: UI scripts must not delay
    # probes (GIL). A worker has nothing else to do and runs it in process.
    engine: ProbeEngine | ProbeEngineProcess = (
        ProbeEngineProcess(on_recorded=recorded) if engine_in_child
        else ProbeEngine(on_recorded=recorded))
    on_engine(engine)
    services.engine = engine  # before start: a half-started engine is stopped too
    engine.start()
    log.info("probe engine started")
