"""CPU per HTTPS check through the function the engine runs for every check (checks.run_check:
prepare_check, then the check with the engine's ProbeClients), against nginx with TLS on
127.0.0.1 and a certificate from a local CA (trustme), 20 checks at a time.

    python bench/https_probe_bench.py [--checks 1000] [--rounds 5] [--baseline DIR]

--baseline DIR measures another checkout of Upwatch (e.g. `git worktree add /tmp/base <commit>`)
in the same run, alternately with this one, and prints the ratio. The local CA is trusted the
way each checkout can: through SSL_CERT_FILE here, through certifi's bundle for a checkout that
only trusted certifi. Needs Debian's nginx.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MEASURE = r'''
import asyncio, json, os, sys, time
sys.path.insert(0, os.environ["UPWATCH_ROOT"])
if os.environ.get("TRUST_VIA_CERTIFI"):
    import certifi
    certifi.where = lambda: os.environ["SSL_CERT_FILE"]
from checks.run_check import ProbeClients, prepare_check

async def run(url, count, rounds):
    clients = ProbeClients()
    check = prepare_check("http", url, 5.0, {})
    warm = [(await check(clients)).outcome for _ in range(50)]
    assert set(warm) == {"up"}, warm
    figures = []
    for _ in range(rounds):
        cpu = time.process_time()
        for _ in range(count // 20):
            results = await asyncio.gather(*(check(clients) for _ in range(20)))
            assert all(r.outcome == "up" for r in results), results[0]
        figures.append((time.process_time() - cpu) / (count // 20 * 20) * 1e6)
    await clients.aclose()
    return figures

print(json.dumps(asyncio.run(run(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))))
'''


def free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return int(listener.getsockname()[1])


def start_nginx(folder: Path, port: int) -> subprocess.Popen:
    (folder / "nginx.conf").write_text(f"""
daemon off; pid {folder}/nginx.pid; error_log {folder}/error.log; worker_processes 1;
events {{ worker_connections 1024; }}
http {{ access_log off; client_body_temp_path {folder}; proxy_temp_path {folder};
  fastcgi_temp_path {folder}; uwsgi_temp_path {folder}; scgi_temp_path {folder};
  server {{ listen 127.0.0.1:{port} ssl; ssl_certificate {folder}/leaf.pem;
    ssl_certificate_key {folder}/leaf.pem; location / {{ return 200 "ok"; }} }} }}
""")
    nginx = subprocess.Popen(["nginx", "-c", str(folder / "nginx.conf"), "-p", str(folder)])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return nginx
        time.sleep(0.05)
    nginx.terminate()
    raise SystemExit("nginx did not start")


def measure(root: Path, url: str, ca_file: Path, checks: int, rounds: int,
            via_certifi: bool) -> list[float]:
    env = {**os.environ, "UPWATCH_ROOT": str(root), "SSL_CERT_FILE": str(ca_file)}
    if via_certifi:
        env["TRUST_VIA_CERTIFI"] = "1"
    done = subprocess.run([sys.executable, "-c", MEASURE, url, str(checks), str(rounds)],
                          env=env, capture_output=True, text=True, check=True)
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=3, help="alternations with --baseline")
    parser.add_argument("--baseline", type=Path)
    args = parser.parse_args()
    if shutil.which("nginx") is None:
        raise SystemExit("needs nginx (Debian package nginx)")
    import trustme

    folder = Path(tempfile.mkdtemp(prefix="upwatch-https-bench-"))
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    ca.issue_cert("localhost", "127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(folder / "leaf.pem"))
    port = free_port()
    nginx = start_nginx(folder, port)
    url = f"https://localhost:{port}/"
    here: list[float] = []
    base: list[float] = []
    try:
        for _ in range(args.pairs if args.baseline else 1):
            here += measure(ROOT, url, folder / "ca.pem", args.checks, args.rounds, False)
            if args.baseline:
                base += measure(args.baseline, url, folder / "ca.pem", args.checks,
                                args.rounds, True)
    finally:
        nginx.terminate()
        nginx.wait()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"HTTPS CPU per check, {url} ({args.checks} checks x {len(here)} rounds):")
    print(f"  this checkout   median {statistics.median(here):7.0f} µs")
    if base:
        print(f"  baseline        median {statistics.median(base):7.0f} µs ({args.baseline})")
        print(f"  ratio           {statistics.median(here) / statistics.median(base):.3f} "
              "(target <= 1.05)")


if __name__ == "__main__":
    main()
