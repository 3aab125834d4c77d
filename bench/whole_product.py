"""The whole product's footprint: CPU and memory of every process, checks on schedule, badges.

    python bench/whole_product.py --scenario idle|200|10000 [--runs 3]
    python bench/whole_product.py --monitors 500 --interval 30 --window 60 [--runs 3]

Starts Upwatch as the README's quickstart does (`streamlit run app.py` from this checkout,
with the venv's streamlit, headless, on a free port of 127.0.0.1, its data in a temporary
directory) with N HTTP monitors from a monitors file (UPWATCH_MONITORS_FILE), all checking a
local target: nginx when installed, else a small multi-process asyncio server started here.

After a warm-up (every monitor checked once, the read model built from those results, the
processes settled), for a window of W seconds it samples every process of the product's tree
each second (/proc: utime + stime from stat, Rss and Pss from smaps_rollup) and prints:
- checks recorded (results in the database during the window) against those due, and the
  checks due in the window that were never recorded (missed);
- CPU per check, summed over every process (user + sys), and CPU per second of the window;
- peak and mean RSS and PSS, summed over the tree and per process (web, probe engine, read-model
  builder, multiprocessing's resource tracker);
- schedule lateness p99: each result's time against its due time. The engine spreads first runs
  over the interval (checks.engine.start_offset) from one instant at start and then runs every
  interval, so due times are known once that instant is; it is estimated as the earliest
  (result time - offset - k * interval) over all results, which makes every lateness a slight
  underestimate (by the least late check's lateness, a few ms against a local target);
- badge p99 while it runs: /badge/<slug>/status.svg of the public monitors (the first
  --public of them), at --badge-rate requests a second on one keep-alive connection, each
  request timed from when it was due (a stall counts for every request it delays). Their CPU
  counts in the product's, so by default only the 10000 scenario (which has a badge target)
  sends them.
Each run starts a fresh product; the medians of the runs are printed beside the targets.
Everything listens on and talks to 127.0.0.1 only.

The idle scenario has no monitors and sends no badge requests: the product as installed,
waiting.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checks.engine import start_offset  # noqa: E402  (found through the path above)

CLK_TCK = os.sysconf("SC_CLK_TCK")
STREAMLIT = ROOT / ".venv" / "bin" / "streamlit"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


@dataclass(frozen=True)
class Scenario:
    monitors: int
    interval: int
    window_s: float
    # name -> target (lower is better); only the figures a scenario has targets for
    targets: dict[str, float] = field(default_factory=dict)
    # Badge requests a second while measuring: their CPU counts in the CPU per check, so only
    # the scenario with a badge target asks for them.
    badge_rate: float = 0.0


SCENARIOS = {
    "idle": Scenario(0, 20, 60, {"cpu_ms_per_s": 2.0, "pss_sum_peak_mb": 150}),
    "200": Scenario(200, 20, 60, {"cpu_us_per_check": 1500, "pss_sum_peak_mb": 192}),
    "10000": Scenario(10_000, 60, 120, {"late_p99_s": 1.0, "missed": 0, "cpu_us_per_check": 800,
                                        "pss_sum_peak_mb": 350, "badge_p99_ms": 10.0},
                      badge_rate=20.0),
}

# The child processes name themselves (processes/child_process: the kernel keeps 15 bytes).
ROLES = {"upwatch-probes": "probe engine", "upwatch-read-mo": "read-model builder"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


# -- the target ------------------------------------------------------------------------------

ASYNCIO_TARGET = """
import asyncio, os, socket, sys
BODY = (b"HTTP/1.1 200 OK\\r\\nContent-Length: 14\\r\\nContent-Type: text/plain\\r\\n\\r\\n"
        b"All systems go")
async def handle(reader, writer):
    try:
        while True:
            await reader.readuntil(b"\\r\\n\\r\\n")
            writer.write(BODY)
            await writer.drain()
    except Exception:
        pass
    writer.close()
async def serve(sock):
    server = await asyncio.start_server(handle, sock=sock, backlog=4096)
    await server.serve_forever()
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", int(sys.argv[1])))
sock.listen(4096)
for _ in range(int(sys.argv[2]) - 1):
    if os.fork() == 0:
        break
asyncio.run(serve(sock))
"""


@contextlib.contextmanager
def local_target(directory: Path, kind: str) -> Iterator[tuple[str, str]]:
    """(url, description) of an HTTP target on 127.0.0.1 answering 200 to everything."""
    port = free_port()
    if kind == "nginx":
        config = directory / "nginx.conf"
        config.write_text(textwrap.dedent(f"""
            worker_processes 1;
            daemon off;
            pid {directory}/nginx.pid;
            error_log {directory}/nginx-error.log warn;
            events {{ worker_connections 4096; }}
            http {{
                access_log off;
                client_body_temp_path {directory};
                proxy_temp_path {directory};
                fastcgi_temp_path {directory};
                uwsgi_temp_path {directory};
                scgi_temp_path {directory};
                server {{
                    listen 127.0.0.1:{port} backlog=4096;
                    location / {{ return 200 "All systems go"; }}
                }}
            }}
        """))
        assert NGINX is not None
        command = [NGINX, "-c", str(config), "-p", str(directory)]
    else:
        command = [sys.executable, "-c", ASYNCIO_TARGET, str(port), "2"]
    process = subprocess.Popen(command, start_new_session=True)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}/", kind
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


# -- the product -----------------------------------------------------------------------------

def write_monitors_file(path: Path, count: int, interval: int, url: str, public: int) -> None:
    """`count` HTTP monitors named m1.. (their slugs too), the first `public` of them public.
    Fields left at their defaults are left out: the file may hold 100,000 values in all
    (domain/limits), and 10,000 monitors of five fields would be 110,000."""
    # The default timeout (10 s) must be shorter than the interval.
    timeout = f", timeout: {max(1, interval // 2)}" if interval <= 10 else ""
    lines = ["monitors:"]
    for i in range(1, count + 1):
        shown = ", public: true" if i <= public else ""
        lines.append(f"  - {{name: m{i}, url: '{url}', interval: {interval}{timeout}{shown}}}")
    path.write_text("\n".join(lines) + "\n")


@dataclass
class Product:
    process: subprocess.Popen[bytes]
    url: str
    database: Path
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def running_product(data_dir: Path, monitors_file: Path | None,
                    settings: dict[str, str] | None = None) -> Iterator[Product]:
    """`streamlit run app.py` as the README starts it (with `settings` added to its
    environment), until /healthz answers 200."""
    import httpx

    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("UPWATCH_")}
    env |= {"UPWATCH_ADMIN_PASSWORD": "bench", "UPWATCH_DATA_DIR": str(data_dir),
            **(settings or {})}
    if monitors_file is not None:
        env["UPWATCH_MONITORS_FILE"] = str(monitors_file)
    log_path = data_dir / "upwatch.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(STREAMLIT), "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    product = Product(process, f"http://127.0.0.1:{port}", data_dir / "upwatch.db", log_path)
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise SystemExit(f"Upwatch exited at start:\n{log_path.read_text()[-4000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{product.url}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"/healthz never answered 200:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.2)
        yield product
    finally:
        product.stop()


# -- the processes ---------------------------------------------------------------------------

def process_tree(root: int) -> list[int]:
    """`root` and every descendant, from /proc/<pid>/task/*/children."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(OSError):
                    todo += [int(child) for child in (task / "children").read_text().split()]
    return found


def role_of(pid: int, root: int) -> str:
    if pid == root:
        return "web"
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return f"pid {pid}"
    if comm in ROLES:
        return ROLES[comm]
    if "resource_tracker" in cmdline:
        return "resource tracker"
    return f"{comm} {pid}"


def cpu_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime, this process's threads included


def memory_kib(pid: int) -> tuple[int, int] | None:
    """(Rss, Pss) in KiB."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss"):
            values[name] = int(rest.split()[0])
    return values.get("Rss", 0), values.get("Pss", 0)


@dataclass
class ProcessFigures:
    role: str
    cpu_start: int | None = None
    cpu_end: int | None = None
    rss: list[int] = field(default_factory=list)
    pss: list[int] = field(default_factory=list)

    @property
    def cpu_s(self) -> float:
        if self.cpu_end is None:
            return 0.0
        return (self.cpu_end - (self.cpu_start or 0)) / CLK_TCK


class Sampler:
    """Every second: each process of the tree's CPU ticks and memory, and the tree's sums."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.processes: dict[int, ProcessFigures] = {}
        self.rss_sums: list[int] = []
        self.pss_sums: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self, first: bool = False) -> None:
        rss_sum = pss_sum = 0
        for pid in process_tree(self.root):
            figures = self.processes.get(pid)
            if figures is None:
                figures = self.processes[pid] = ProcessFigures(role_of(pid, self.root))
            ticks = cpu_ticks(pid)
            if ticks is None:
                continue
            if first:
                figures.cpu_start = ticks
            figures.cpu_end = ticks
            memory = memory_kib(pid)
            if memory is not None:
                figures.rss.append(memory[0])
                figures.pss.append(memory[1])
                rss_sum += memory[0]
                pss_sum += memory[1]
        self.rss_sums.append(rss_sum)
        self.pss_sums.append(pss_sum)

    def start(self) -> None:
        self.sample(first=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.sample()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()  # the CPU to the very end of the window


# -- the checks ------------------------------------------------------------------------------

def _stored(moment: datetime) -> str:
    """A UTC time as SQLite holds it (storage/batch_driver)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _seconds(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def read_results(database: Path, until: datetime) -> tuple[dict[int, int], dict[int, list[float]]]:
    """Each monitor's interval, and the times of its results recorded before `until`."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True,
                                            timeout=30)) as db:
        intervals = dict(db.execute("SELECT id, interval FROM monitor WHERE NOT paused"))
        times: dict[int, list[float]] = defaultdict(list)
        for monitor_id, checked_at in db.execute(
                "SELECT monitor_id, checked_at FROM check_result WHERE checked_at < ?",
                (_stored(until),)):
            times[monitor_id].append(_seconds(checked_at))
    return intervals, times


def count_checked(database: Path) -> tuple[int, int]:
    """(monitors with at least one result, results)."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True,
                                            timeout=30)) as db:
        row = db.execute("SELECT COUNT(DISTINCT monitor_id), COUNT(*) FROM check_result"
                         ).fetchone()
    return row[0], row[1]


@dataclass
class ScheduleFigures:
    recorded: int
    due: int
    missed: int
    late_p50_s: float
    late_p99_s: float
    late_max_s: float


def schedule_figures(intervals: dict[int, int], times: dict[int, list[float]],
                     window: tuple[float, float], in_flight_s: float = 5.0) -> ScheduleFigures:
    """Results in the window against the engine's schedule (see the module's docstring).

    A check due in the last `in_flight_s` of the window may be recorded after it: those are
    not counted as missed."""
    start, end = window
    first = {m: min(ts) for m, ts in times.items() if m in intervals}
    if not first:
        return ScheduleFigures(0, 0, 0, float("nan"), float("nan"), float("nan"))
    # The schedule's origin: the least late of the first checks, moved back by its offset.
    origin = min(t - start_offset(m, intervals[m]) for m, t in first.items())
    recorded = due = missed = 0
    lateness: list[float] = []
    for monitor_id, interval in intervals.items():
        base = origin + start_offset(monitor_id, interval)
        done = set()
        for t in times.get(monitor_id, []):
            k = round((t - base) / interval)
            if start <= t < end:
                recorded += 1
                lateness.append(t - (base + k * interval))
            done.add(k)
        k = max(0, int((start - base) // interval))
        while base + k * interval < end:
            moment = base + k * interval
            if moment >= start:
                due += 1
                if k not in done and moment < end - in_flight_s:
                    missed += 1
            k += 1
    lateness.sort()
    return ScheduleFigures(recorded, due, missed, percentile(lateness, 0.5),
                           percentile(lateness, 0.99), lateness[-1] if lateness else float("nan"))


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# -- badges ----------------------------------------------------------------------------------

class BadgeLoad:
    """/badge/<slug>/status.svg at a constant rate on one keep-alive connection; each request
    timed from when it was due."""

    def __init__(self, url: str, slugs: list[str], rate: float) -> None:
        self.url, self.slugs, self.rate = url, slugs, rate
        self.latencies_ms: list[float] = []
        self.failures = 0
        self.measuring = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        if self.slugs and self.rate > 0:
            self._thread.start()

    def _run(self) -> None:
        import httpx

        with httpx.Client(base_url=self.url, timeout=10) as client:
            began, n = time.perf_counter(), 0
            while not self._stop.is_set():
                due = began + n / self.rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                try:
                    answer = client.get(f"/badge/{self.slugs[n % len(self.slugs)]}/status.svg")
                    ok = answer.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if self.measuring:
                    self.latencies_ms.append((time.perf_counter() - due) * 1000)
                    self.failures += not ok
                n += 1

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


# -- one run ---------------------------------------------------------------------------------

@dataclass
class RunFigures:
    window_s: float
    cpu_s: float
    schedule: ScheduleFigures
    processes: list[ProcessFigures]
    rss_sum_peak_mb: float
    rss_sum_mean_mb: float
    pss_sum_peak_mb: float
    pss_sum_mean_mb: float
    badge_p99_ms: float
    badge_requests: int
    badge_failures: int

    def value(self, name: str) -> float:
        return {
            "cpu_ms_per_s": self.cpu_s * 1000 / self.window_s,
            "cpu_us_per_check": (self.cpu_s * 1e6 / self.schedule.recorded
                                 if self.schedule.recorded else float("nan")),
            "checks_recorded": self.schedule.recorded, "checks_due": self.schedule.due,
            "missed": self.schedule.missed, "late_p99_s": self.schedule.late_p99_s,
            "pss_sum_peak_mb": self.pss_sum_peak_mb, "pss_sum_mean_mb": self.pss_sum_mean_mb,
            "rss_sum_peak_mb": self.rss_sum_peak_mb, "rss_sum_mean_mb": self.rss_sum_mean_mb,
            "badge_p99_ms": self.badge_p99_ms,
        }[name]


def warm_up(product: Product, monitors: int, interval: int) -> None:
    """Until every monitor has a result (the first runs are spread over one interval), then
    two read-model rebuilds' worth of time for the snapshot of those results, and until the
    processes are quiet for a moment after the start's work."""
    deadline, checked = time.monotonic() + interval * 3 + 120, 0
    while monitors:
        if product.process.poll() is not None:
            raise SystemExit(f"Upwatch exited:\n{product.log_path.read_text()[-4000:]}")
        with contextlib.suppress(sqlite3.OperationalError):
            checked, _ = count_checked(product.database)
            if checked >= monitors:
                break
        if time.monotonic() > deadline or "was not applied" in product.log_path.read_text():
            raise SystemExit(f"only {checked} of {monitors} monitors were checked in time:\n"
                             f"{product.log_path.read_text()[-4000:]}")
        time.sleep(1)
    time.sleep(12)


def one_run(scenario: Scenario, target_url: str, public: int, badge_rate: float,
            say: Callable[[str], None]) -> RunFigures:
    with tempfile.TemporaryDirectory(prefix="upwatch-whole-") as tmp:
        data_dir = Path(tmp)
        monitors_file = None
        if scenario.monitors:
            monitors_file = data_dir / "monitors.yml"
            write_monitors_file(monitors_file, scenario.monitors, scenario.interval, target_url,
                                public)
        began = time.monotonic()
        with running_product(data_dir, monitors_file) as product:
            say(f"  /healthz 200 after {time.monotonic() - began:.1f} s; warming up")
            slugs = [f"m{i}" for i in range(1, min(public, scenario.monitors) + 1)]
            badges = BadgeLoad(product.url, slugs, badge_rate)
            badges.start()
            try:
                warm_up(product, scenario.monitors, scenario.interval)
                sampler = Sampler(product.process.pid)
                window_start = datetime.now(UTC)
                wall_start = time.monotonic()
                sampler.start()
                badges.measuring = True
                time.sleep(scenario.window_s)
                badges.measuring = False
                sampler.stop()
                window_s = time.monotonic() - wall_start
                window_end = datetime.now(UTC)
            finally:
                badges.stop()
            time.sleep(2)  # results of the window's last checks reach the database
            intervals, times = read_results(product.database, window_end)
            schedule = schedule_figures(intervals, times,
                                        (window_start.timestamp(), window_end.timestamp()))
        processes = sorted(sampler.processes.values(), key=lambda p: p.role)
        cpu_s = sum(p.cpu_s for p in processes)
        latencies = sorted(badges.latencies_ms)
        return RunFigures(
            window_s, cpu_s, schedule, processes,
            max(sampler.rss_sums) / 1024, statistics.fmean(sampler.rss_sums) / 1024,
            max(sampler.pss_sums) / 1024, statistics.fmean(sampler.pss_sums) / 1024,
            percentile(latencies, 0.99), len(latencies), badges.failures)


# -- printing --------------------------------------------------------------------------------

def print_run(index: int, run: RunFigures, scenario: Scenario) -> None:
    s = run.schedule
    print(f"run {index}: window {run.window_s:.0f} s")
    if scenario.monitors:
        print(f"  checks recorded {s.recorded} of {s.due} due ({s.missed} missed); lateness p50 "
              f"{s.late_p50_s * 1000:.1f} ms, p99 {s.late_p99_s * 1000:.1f} ms, max "
              f"{s.late_max_s * 1000:.1f} ms")
        print(f"  CPU {run.value('cpu_us_per_check'):,.0f} µs per check "
              f"({run.value('cpu_ms_per_s'):.1f} ms per second) over every process")
        if run.badge_requests:
            print(f"  badge p99 {run.badge_p99_ms:.2f} ms ({run.badge_requests} requests, "
                  f"{run.badge_failures} failed)")
    else:
        print(f"  CPU {run.value('cpu_ms_per_s'):.2f} ms per second over every process")
    print(f"  {'process':<20} {'CPU ms/s':>9} {'share':>6} {'RSS mean':>9} {'peak':>6} "
          f"{'PSS mean':>9} {'peak':>6}  (MB)")
    for p in run.processes:
        if not p.pss:
            continue
        share = p.cpu_s / run.cpu_s * 100 if run.cpu_s else 0.0
        print(f"  {p.role:<20} {p.cpu_s * 1000 / run.window_s:>9.2f} {share:>5.0f}% "
              f"{statistics.fmean(p.rss) / 1024:>9.1f} {max(p.rss) / 1024:>6.1f} "
              f"{statistics.fmean(p.pss) / 1024:>9.1f} {max(p.pss) / 1024:>6.1f}")
    print(f"  {'summed':<20} {run.cpu_s * 1000 / run.window_s:>9.2f} {'':>6} "
          f"{run.rss_sum_mean_mb:>9.1f} {run.rss_sum_peak_mb:>6.1f} "
          f"{run.pss_sum_mean_mb:>9.1f} {run.pss_sum_peak_mb:>6.1f}")
    sys.stdout.flush()


FIGURES = [  # (name, label, format)
    ("checks_recorded", "checks recorded", "{:,.0f}"),
    ("checks_due", "checks due", "{:,.0f}"),
    ("missed", "missed checks", "{:,.0f}"),
    ("late_p99_s", "lateness p99 (s)", "{:.3f}"),
    ("cpu_us_per_check", "CPU per check (µs)", "{:,.0f}"),
    ("cpu_ms_per_s", "CPU per second (ms)", "{:.2f}"),
    ("rss_sum_mean_mb", "RSS summed, mean (MB)", "{:.0f}"),
    ("rss_sum_peak_mb", "RSS summed, peak (MB)", "{:.0f}"),
    ("pss_sum_mean_mb", "PSS summed, mean (MB)", "{:.0f}"),
    ("pss_sum_peak_mb", "PSS summed, peak (MB)", "{:.0f}"),
    ("badge_p99_ms", "badge p99 (ms)", "{:.2f}"),
]


def print_medians(runs: list[RunFigures], scenario: Scenario, name: str) -> None:
    print(f"\nmedians of {len(runs)} runs ({name}: {scenario.monitors} monitors every "
          f"{scenario.interval} s, {scenario.window_s:.0f} s windows)")
    print(f"  {'figure':<24} {'median':>10} {'target':>10}  runs")
    for key, label, form in FIGURES:
        if not scenario.monitors and key not in ("cpu_ms_per_s", "rss_sum_mean_mb",
                                                  "rss_sum_peak_mb", "pss_sum_mean_mb",
                                                  "pss_sum_peak_mb"):
            continue
        if key == "badge_p99_ms" and not any(r.badge_requests for r in runs):
            continue
        values = [r.value(key) for r in runs]
        median = statistics.median(values)
        target = scenario.targets.get(key)
        verdict = "" if target is None else ("  ok" if median <= target else "  MISSED")
        shown = "" if target is None else form.format(target)
        print(f"  {label:<24} {form.format(median):>10} {('<= ' + shown) if shown else '':>10}"
              f"  {', '.join(form.format(v) for v in values)}{verdict}")
    roles = sorted({p.role for r in runs for p in r.processes if p.pss})
    print(f"  {'per process':<24} {'CPU ms/s':>10} {'PSS mean':>10} {'RSS mean':>10}  (MB)")
    for role in roles:
        cpu, pss, rss = [], [], []
        for r in runs:
            mine = [p for p in r.processes if p.role == role and p.pss]
            cpu.append(sum(p.cpu_s for p in mine) * 1000 / r.window_s)
            pss.append(sum(statistics.fmean(p.pss) for p in mine) / 1024)
            rss.append(sum(statistics.fmean(p.rss) for p in mine) / 1024)
        print(f"  {role:<24} {statistics.median(cpu):>10.2f} {statistics.median(pss):>10.1f} "
              f"{statistics.median(rss):>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="200")
    parser.add_argument("--monitors", type=int, help="instead of the scenario's")
    parser.add_argument("--interval", type=int, help="seconds between checks of a monitor")
    parser.add_argument("--window", type=float, help="seconds measured after the warm-up")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--public", type=int, default=20,
                        help="the first this many monitors are public (their badges are asked)")
    parser.add_argument("--badge-rate", type=float,
                        help="badge requests a second while measuring (default: 20 in the "
                             "10000 scenario, else none)")
    parser.add_argument("--target", choices=["auto", "nginx", "asyncio"], default="auto")
    args = parser.parse_args()
    preset = SCENARIOS[args.scenario]
    # The targets hold for the scenario's monitors and interval; other counts are "custom".
    custom = args.monitors is not None or args.interval is not None
    name = "custom" if custom else args.scenario
    scenario = Scenario(args.monitors if args.monitors is not None else preset.monitors,
                        args.interval or preset.interval, args.window or preset.window_s,
                        {} if custom else preset.targets,
                        preset.badge_rate if args.badge_rate is None else args.badge_rate)
    kind = args.target if args.target != "auto" else ("nginx" if NGINX else "asyncio")

    def say(text: str) -> None:
        print(text, flush=True)

    with tempfile.TemporaryDirectory(prefix="upwatch-target-") as tmp, \
            local_target(Path(tmp), kind) as (url, described):
        say(f"{name}: "
            f"{scenario.monitors} HTTP monitors every {scenario.interval} s against {described} "
            f"at {url}; {scenario.badge_rate:g} badge requests a second; "
            f"{scenario.window_s:.0f} s windows, {args.runs} runs; load average "
            f"{os.getloadavg()[0]:.2f}")
        runs = []
        for index in range(1, args.runs + 1):
            run = one_run(scenario, url, args.public, scenario.badge_rate, say)
            print_run(index, run, scenario)
            runs.append(run)
    print_medians(runs, scenario, name)
    say(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
