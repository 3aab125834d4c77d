"""The REST API under 50 concurrent clients, on the real server, and the rate limiter's cost.

    python bench/api_bench.py [--monitors 1000] [--clients 50] [--lists 4] [--creates 4]
                              [--runs 3]

Each run starts Upwatch as the README's quickstart does (`streamlit run app.py` from this
checkout, headless, on a free port of 127.0.0.1, its data in a temporary directory) with
`--monitors` HTTP monitors from a monitors file, checked every 5 minutes against a local target
(nginx when installed, else bench/whole_product's asyncio server), and an admin token
(UPWATCH_API_TOKEN). The API's rate limit is set so high that it never refuses, but it still
runs on every request, as it does in production. Then `--clients` clients (httpx async, one
keep-alive connection each, all at once, closed loop: each sends its next request when the
last is answered) measure:
- GET /api/v1/monitors with the token (every monitor, full): `--lists` requests per client;
  p99 and median latency (target p99 <= 50 ms), and requests per second;
- POST /api/v1/monitors (a new HTTP monitor, with an Idempotency-Key as a script would send):
  `--creates` per client; p99 and median (target p99 <= 100 ms); then as many without the
  header (`create_unkeyed_*`), which tells what the key's bookkeeping costs.
In a closed loop a request waits for those ahead of it, so p99 is about clients / throughput
once the server is saturated: the figure says how long a client of a busy server waits.

The rate limiter's added cost per request is measured in this process, on the code the routes
run: `web.request_limits.limited` around an endpoint that answers at once, against that
endpoint alone, for requests with a bearer token whose grant the route has already looked up
(as every API request has), over 50 clients' buckets.

Each figure is the median of the runs, printed beside its target. Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from whole_product import (  # noqa: E402  (found through the path above)
    NGINX,
    local_target,
    running_product,
    write_monitors_file,
)

TOKEN = "bench-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TARGETS = {"list_p99_ms": 50.0, "create_p99_ms": 100.0}


# Never refuses, still runs: its cost is in every figure, as in production.
SETTINGS = {"UPWATCH_API_TOKEN": TOKEN, "UPWATCH_API_REQUESTS_PER_MINUTE": "100000000"}


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


async def _closed_loop(url: str, clients: int, each: int, send: str) -> tuple[list[float], float]:
    """Latencies (ms) of `clients` x `each` requests, and the requests per second."""
    latencies: list[float] = []

    async def one_client(number: int) -> None:
        async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=600) as client:
            for i in range(each):
                started = time.perf_counter()
                if send == "list":
                    # Read as sent (gzip when the server compresses): decoding 830 KB per
                    # answer in one process for 50 clients would measure this process.
                    async with client.stream("GET", "/api/v1/monitors") as answer:
                        async for _chunk in answer.aiter_raw():
                            pass
                else:
                    name = f"new {number}-{i}-{uuid.uuid4().hex[:6]}"
                    keyed = {"Idempotency-Key": uuid.uuid4().hex} if send == "create" else {}
                    answer = await client.post(
                        "/api/v1/monitors", json={"name": name, "url": "http://127.0.0.1:9/",
                                                  "interval": 300}, headers=keyed)
                latencies.append((time.perf_counter() - started) * 1000)
                if answer.status_code not in (200, 201):
                    raise SystemExit(f"{send}: {answer.status_code}")

    started = time.perf_counter()
    await asyncio.gather(*(one_client(n) for n in range(clients)))
    return latencies, clients * each / (time.perf_counter() - started)


def api_run(monitors: int, clients: int, lists: int, creates: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="upwatch-api-bench-") as tmp:
        directory = Path(tmp)
        with local_target(directory, "nginx" if NGINX else "asyncio") as (target, _kind):
            monitors_file = directory / "monitors.yaml"
            write_monitors_file(monitors_file, monitors, 300, target, public=0)
            with running_product(directory, monitors_file, SETTINGS) as product:
                url = product.url
                deadline = time.monotonic() + 120
                while len(httpx.get(f"{url}/api/v1/monitors", headers=AUTH,
                                    timeout=30).json()) < monitors:
                    if time.monotonic() > deadline:
                        raise SystemExit("the monitors file was not applied within 120 s")
                    time.sleep(0.5)
                print(f"  {monitors} monitors listed; measuring", file=sys.stderr, flush=True)
                asyncio.run(_closed_loop(url, 1, 2, "list"))  # warm-up
                listed, list_rate = asyncio.run(_closed_loop(url, clients, lists, "list"))
                made, create_rate = asyncio.run(_closed_loop(url, clients, creates, "create"))
                plain, plain_rate = asyncio.run(_closed_loop(url, clients, creates, "plain"))
    return {"list_p99_ms": p99(listed), "list_median_ms": statistics.median(listed),
            "list_per_s": list_rate, "create_p99_ms": p99(made),
            "create_median_ms": statistics.median(made), "create_per_s": create_rate,
            "create_unkeyed_p99_ms": p99(plain),
            "create_unkeyed_median_ms": statistics.median(plain),
            "create_unkeyed_per_s": plain_rate}


def limiter_cost_us(requests: int = 200_000, clients: int = 50) -> float:
    """What `limited` adds to a request, in µs: the route's wrapper against the bare endpoint,
    for token-bearing requests whose grant is already looked up."""
    from starlette.requests import Request
    from starlette.responses import Response

    from storage.api_tokens import Grant
    from web.request_limits import limited, per_minute
    from web.responses import _GRANT_KEY

    async def endpoint(request: Request) -> Response:
        return Response()

    guarded = limited(endpoint, per_minute(100_000_000))
    scopes = [{"type": "http", "method": "GET", "path": "/api/v1/monitors",
               "headers": [(b"authorization", f"Bearer uwt_client{n}".encode())],
               "client": ("127.0.0.1", 40000 + n), _GRANT_KEY: Grant(f"token:c{n}", "read")}
              for n in range(clients)]
    built = [Request(scope) for scope in scopes]

    async def timed(call: object) -> float:
        started = time.perf_counter()
        for i in range(requests):
            await call(built[i % clients])  # type: ignore[operator]
        return (time.perf_counter() - started) / requests * 1e6

    async def both() -> float:
        await timed(guarded)  # warm-up
        wrapped = [await timed(guarded) for _ in range(3)]
        bare = [await timed(endpoint) for _ in range(3)]
        return min(wrapped) - min(bare)

    return asyncio.run(both())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--lists", type=int, default=4, help="list requests per client")
    parser.add_argument("--creates", type=int, default=4, help="creates per client")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for number in range(1, args.runs + 1):
        figures = api_run(args.monitors, args.clients, args.lists, args.creates)
        figures["limiter_us"] = limiter_cost_us()
        runs.append(figures)
        print(f"run {number}: " + ", ".join(f"{k} {v:.1f}" for k, v in figures.items()),
              flush=True)
    print(f"\n{args.monitors} monitors, {args.clients} concurrent clients, medians of "
          f"{args.runs} runs:")
    for name in runs[0]:
        value = statistics.median(run[name] for run in runs)
        target = TARGETS.get(name)
        verdict = "" if target is None else (
            f"  (target <= {target:g}: {'met' if value <= target else 'MISSED'})")
        print(f"  {name:18} {value:10.2f}{verdict}")


if __name__ == "__main__":
    main()
