"""What alert rules over windows cost the engine: 10,000 monitors with and without two rules each.

    python bench/rules_bench.py [--monitors 10000] [--duration 180] [--runs 3] [--window 2]

Each run is bench/engine_bench.py's steady-state figure (the real engine: scheduler, probe, batch
writer, SQLite; nginx on 127.0.0.1 as the target; CPU of every thread of this process after
start-up, divided by the checks completed). The runs alternate: without rules, then with the
warning and critical latency levels as two rules per monitor (p95 above 500 ms and above
1,000 ms over --window minutes, as domain.window_rules.latency_levels makes them). Printed: CPU
per check of each run, the medians and their ratio, and the median of each pair's ratio (the
target: at most 1.10).

The window is short by default so that each monitor's recent checks reach their steady size
(one check a minute: window + 1 checks) within the run; --window 5 with --duration 420 measures
the form's default window.

Needs the Debian package nginx-light.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import engine_bench


def two_levels(window_minutes: int) -> list[dict]:
    from domain.window_rules import latency_levels, parse_rules, rules_to_stored

    return rules_to_stored(parse_rules(latency_levels(500, 1000,
                                                      window_minutes=window_minutes)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--monitors", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=180.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--window", type=int, default=2, help="the rules' window, minutes")
    args = parser.parse_args()
    rules = two_levels(args.window)
    directory = Path(tempfile.mkdtemp(prefix="upwatch-nginx-"))
    nginx, port = engine_bench.start_nginx(directory)
    url = f"http://127.0.0.1:{port}/"
    figures: dict[str, list[float]] = {"without": [], "with": []}
    try:
        for run in range(1, args.runs + 1):
            for name, monitor_rules in (("without", None), ("with", rules)):
                result = engine_bench.run_engine(args.monitors, url, args.duration,
                                                 rules=monitor_rules)
                figures[name].append(result["steady_cpu_us_per_check"])
                print(f"run {run}, {name} rules: {result['steady_cpu_us_per_check']:.0f} µs "
                      f"per check ({result['steady_checks']} checks, {result['written']} "
                      f"recorded, missed {result['missed']})", flush=True)
    finally:
        nginx.terminate()
        nginx.wait()
        shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(engine_bench._DB_DIR, ignore_errors=True)
    without, with_rules = (statistics.median(figures[k]) for k in ("without", "with"))
    # Each run's ratio to the run just before it: on a shared machine the load drifts between
    # runs, and neighbours see the same load.
    paired = statistics.median(w / o for o, w in zip(figures["without"], figures["with"],
                                                     strict=True))
    print(f"N={args.monitors}, two rules each ({args.window} min windows), median of "
          f"{args.runs}: {without:.0f} µs per check without rules, {with_rules:.0f} µs with; "
          f"ratio {with_rules / without:.3f}, median of the paired ratios {paired:.3f} "
          "(target <= 1.10)")


if __name__ == "__main__":
    main()
