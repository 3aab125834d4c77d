"""A constant-rate HTTP/1.1 load generator whose latency counts from when a request was due.

    python bench/open_loop.py URL PATHS_FILE --rate 3000 --seconds 10 [--connections 16]

A closed-loop generator (wrk) sends a connection's next request only when the previous answer has
come. When the server pauses, the requests that would have been sent meanwhile are not sent, so
the pause is measured once instead of by every visitor who met it ("coordinated omission"); and
at saturation its latency is only connections / throughput. Here request i is due at
start + i / rate, on keep-alive connection i % connections. A request whose connection is still
busy waits its turn, and that wait counts in its latency, as it would for a real visitor.

Prints one JSON object: the offered and achieved rates, latency percentiles from the due time
("latency_ms"), from the moment the request was written ("service_ms"), and how late this
generator itself was in issuing requests ("send_lag_ms"; its timers tick in milliseconds), so the
reader can tell the server's share of the tail from the generator's.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import time
from collections import deque
from urllib.parse import urlsplit

WARM_UP_S = 2.0


class Connection(asyncio.Protocol):
    """One keep-alive connection: requests go out one at a time, in the order they fell due."""

    def __init__(self, record) -> None:  # type: ignore[no-untyped-def]
        self.record = record
        self.waiting: deque[tuple[float, bytes]] = deque()
        self.in_flight: tuple[float, float] | None = None  # (due, written)
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        self.transport = transport

    def connection_lost(self, exc) -> None:  # type: ignore[no-untyped-def]
        if not self.lost.done():
            self.lost.set_result(exc)

    def submit(self, due: float, request: bytes) -> None:
        self.waiting.append((due, request))
        if self.in_flight is None:
            self._write_next()

    def _write_next(self) -> None:
        due, request = self.waiting.popleft()
        self.in_flight = (due, time.perf_counter())
        assert self.transport is not None
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.in_flight is not None:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(self.buffer[:head_end]).lower()
            length_at = head.find(b"content-length:")
            length = 0 if length_at < 0 else int(head[length_at + 15:].split(b"\r\n", 1)[0])
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            done = time.perf_counter()
            due, written = self.in_flight
            self.record(due, written, done, int(head[9:12]))
            del self.buffer[:end]
            self.in_flight = None
            if self.waiting:
                self._write_next()


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 3)

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "p99.9": at(0.999),
            "max": round(ordered[-1] * 1000, 3)}


async def run(url: str, paths: list[str], rate: float, seconds: float,
              connections: int) -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = [f"GET {p} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode() for p in paths]
    measured_from = 0.0
    latencies: list[float] = []
    service: list[float] = []
    lags: list[float] = []  # how late this generator handed each request to its connection
    statuses: dict[int, int] = {}

    def record(due: float, written: float, done: float, status: int) -> None:
        if due < measured_from:
            return  # warm-up
        latencies.append(done - due)
        service.append(done - written)
        statuses[status] = statuses.get(status, 0) + 1

    loop = asyncio.get_running_loop()
    pool = []
    for _ in range(connections):
        _, protocol = await loop.create_connection(lambda: Connection(record), host, port)
        pool.append(protocol)

    start = time.perf_counter() + 0.05
    measured_from = start + WARM_UP_S
    total = int((WARM_UP_S + seconds) * rate)
    sent = 0
    while sent < total:
        now = time.perf_counter()
        while sent < total and start + sent / rate <= now:
            due = start + sent / rate
            if due >= measured_from:
                lags.append(now - due)
            pool[sent % connections].submit(due, requests[sent % len(requests)])
            sent += 1
        if any(p.lost.done() for p in pool):
            raise SystemExit("the server closed a connection")
        await asyncio.sleep(max(0.0, start + sent / rate - time.perf_counter()))
    deadline = time.perf_counter() + 10
    while any(p.in_flight or p.waiting for p in pool) and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    for protocol in pool:
        assert protocol.transport is not None
        protocol.transport.close()
    return {
        "offered_per_s": rate,
        "achieved_per_s": round(len(latencies) / seconds, 1),
        "connections": connections,
        "requests": len(latencies),
        "statuses": statuses,
        "latency_ms": _percentiles(latencies),
        "service_ms": _percentiles(service),
        "send_lag_ms": _percentiles(lags),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("paths_file", help="one request path per line, sent in rotation")
    parser.add_argument("--rate", type=float, default=3000.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    with open(args.paths_file) as lines:
        paths = [line.strip() for line in lines if line.strip()]
    gc.disable()  # this generator's own pauses would count as the server's latency
    result = asyncio.run(run(args.url, paths, args.rate, args.seconds, args.connections))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
