"""`upwatch worker`: only the probe engine, beside web processes run with UPWATCH_PROBES=false."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from checks.engine import ProbeEngine
from notifiers.dispatcher import Dispatcher
from storage.db import get_engine


def run_worker() -> None:
    get_engine()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    dispatcher = Dispatcher(get_engine())
    dispatcher.start()
    engine = ProbeEngine(on_recorded=dispatcher.wake)
    engine.start()
    logging.getLogger("upwatch").info("probe worker running; Ctrl-C stops it")
    stop.wait()
    engine.stop()
    dispatcher.stop()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    parser = argparse.ArgumentParser(prog="upwatch", description="Upwatch uptime monitor")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("worker", help="run the probe engine without the web UI")
    commands.add_parser("prune", help="delete raw results and rollups past their retention")
    commands.add_parser("rebuild-rollups", help="recompute rollups from the retained raw results")
    args = parser.parse_args(argv)
    if args.command == "worker":
        run_worker()
    elif args.command == "prune":
        from storage.retention import prune

        pruned = prune()
        print(f"pruned {pruned.results} raw results and {pruned.rollups} rollups")
    elif args.command == "rebuild-rollups":
        from storage.rebuild import rebuild_all

        print(f"rebuilt {rebuild_all()} rollup rows")


if __name__ == "__main__":
    main()
