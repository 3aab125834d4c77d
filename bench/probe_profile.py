"""Where the CPU of an HTTP check goes: the probe alone under cProfile, or the whole engine
split by thread.

    python bench/probe_profile.py probe [--checks 5000] [--concurrency 50] [--top 40]
    python bench/probe_profile.py engine [--monitors 10000] [--duration 60]

`probe` runs probe_http against nginx on 127.0.0.1 on the engine's kind of loop and prints
CPU-µs per check, with and without the profiler, then the functions that cost most.
`engine` runs the real engine (scheduler, probe, batch writer, SQLite) as
bench/engine_bench.py does and prints CPU-µs per check for each thread of the process, so the
probe loop, the writer and the rest can be told apart.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.engine_bench import (
    CLK_TCK,
    add_monitors,
    reset_database,
    start_nginx,
)


async def _probe_many(url: str, checks: int, concurrency: int) -> None:
    from checks.run_check import ProbeClients, prepare_check

    check = prepare_check("http", url, 10.0, {})
    clients = ProbeClients()
    remaining = [checks]

    async def worker() -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            result = await check(clients)
            if result.outcome != "up":
                raise RuntimeError(result.reason)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await clients.aclose()


def run_probes(url: str, checks: int, concurrency: int, profiler: cProfile.Profile | None) -> float:
    from checks.engine import new_event_loop

    loop = new_event_loop()
    try:
        loop.run_until_complete(_probe_many(url, 200, concurrency))  # warm up
        started = time.thread_time()
        if profiler is not None:
            profiler.enable()
        loop.run_until_complete(_probe_many(url, checks, concurrency))
        if profiler is not None:
            profiler.disable()
        return (time.thread_time() - started) / checks * 1e6
    finally:
        loop.close()


def thread_cpu_s(native_id: int) -> float:
    path = Path(f"/proc/self/task/{native_id}/stat")
    try:
        fields = path.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def profile_engine_loop(profiler: cProfile.Profile) -> None:
    """Run the engine's loop thread under `profiler` (cProfile sees one thread only)."""
    from checks.engine import ProbeEngine

    unprofiled = ProbeEngine._run

    def profiled_run(engine: ProbeEngine) -> None:
        profiler.enable()
        try:
            unprofiled(engine)
        finally:
            profiler.disable()

    ProbeEngine._run = profiled_run  # type: ignore[method-assign]


def skip_probing() -> None:
    """Every check answers "up" at once: what is left is scheduling and recording."""
    import checks.engine
    from domain.result import ProbeResult

    async def instantly_up(_clients: object) -> ProbeResult:
        return ProbeResult("up", latency_ms=1.0)

    checks.engine.check_for = lambda _spec: instantly_up  # type: ignore[assignment]


def watch_collections() -> dict[int, list]:
    """CPU spent in the garbage collector, by generation: {generation: [collections, seconds]}."""
    spent: dict[int, list] = {}
    started: dict[int, float] = {}

    def note(phase: str, info: dict) -> None:
        thread = threading.get_ident()
        if phase == "start":
            started[thread] = time.thread_time()
            return
        entry = spent.setdefault(info["generation"], [0, 0.0])
        entry[0] += 1
        entry[1] += time.thread_time() - started.pop(thread, time.thread_time())

    gc.callbacks.append(note)
    return spent


def run_engine_split(
    url: str, monitors: int, duration_s: float, profiler: cProfile.Profile | None,
    sync_every_s: float = 2.0, noop_checks: bool = False,
) -> None:
    from checks.engine import ProbeEngine

    reset_database()
    add_monitors(monitors, url, 60, timeout=10.0)
    if profiler is not None:
        profile_engine_loop(profiler)
    if noop_checks:
        skip_probing()
    engine = ProbeEngine(sync_every_s=sync_every_s)
    gc_cpu = watch_collections()
    process_started = time.process_time()
    main_started = thread_cpu_s(threading.main_thread().native_id or 0)
    engine.start()
    cpu_by_thread: dict[str, float] = {}
    deadline = time.monotonic() + duration_s
    while time.monotonic() < deadline:
        time.sleep(1.0)
        for thread in threading.enumerate():
            if thread.native_id is not None:
                # Threads end (to_thread workers idle out): keep the last reading of each.
                key = f"{thread.name}#{thread.native_id}"
                cpu_by_thread[key] = thread_cpu_s(thread.native_id)
    checks = engine.stats.checks
    total = time.process_time() - process_started
    engine.stop(timeout_s=30)
    print(f"engine N={monitors} for {duration_s:.0f} s: {checks} checks, "
          f"{engine.results_written} recorded")
    print(f"  process: {total / max(checks, 1) * 1e6:.0f} CPU-µs per check")
    for generation, (count, seconds) in sorted(gc_cpu.items()):
        print(f"  gc generation {generation}: {count} collections, "
              f"{seconds / max(checks, 1) * 1e6:.0f} CPU-µs per check")
    grouped: dict[str, float] = {}
    for key, seconds in cpu_by_thread.items():
        name = key.split("#")[0]
        if name == "MainThread":
            seconds -= main_started
        group = "to_thread workers" if name.startswith("asyncio_") else name
        grouped[group] = grouped.get(group, 0.0) + seconds
    for name, seconds in sorted(grouped.items(), key=lambda item: -item[1]):
        print(f"  {name:24s} {seconds / max(checks, 1) * 1e6:7.0f} CPU-µs per check")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["probe", "engine"])
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--monitors", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--sync-every", type=float, default=2.0)
    parser.add_argument("--noop-checks", action="store_true",
                        help="engine: checks answer at once (scheduling and recording only)")
    parser.add_argument("--profile", action="store_true",
                        help="engine: profile the engine's loop thread")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="upwatch-nginx-"))
    nginx, port = start_nginx(directory)
    url = f"http://127.0.0.1:{port}/"
    try:
        if args.mode == "probe":
            plain = run_probes(url, args.checks, args.concurrency, None)
            profiler = cProfile.Profile()
            profiled = run_probes(url, args.checks, args.concurrency, profiler)
            print(f"probe only: {plain:.0f} CPU-µs per check ({profiled:.0f} under cProfile)")
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
        else:
            # CPU time, not wall time: waiting for the GIL or the network is not cost.
            profiler = cProfile.Profile(time.thread_time) if args.profile else None
            run_engine_split(url, args.monitors, args.duration, profiler,
                             args.sync_every, args.noop_checks)
            if profiler is not None:
                pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    finally:
        nginx.terminate()
        nginx.wait()
        shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(os.environ["UPWATCH_BENCH_DB_DIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
