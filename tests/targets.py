"""Misbehaving targets on 127.0.0.1, for proving that no target can stall or fool a probe.

Each server runs on its own thread and event loop, so it keeps misbehaving on schedule whatever
the code under test does with its own loop, and works from sync and async tests alike:

    with serve_fault_target() as target:
        target.url("/status/503")               # plain HTTP
        target.tls_url("expired", "/ok")        # HTTPS with an expired certificate
        target.ca_file                          # trust this to make the "good" port verify

    with serve_dns({("up.test.", "A"): ["127.0.0.1"]}) as (host, port): ...

Paths (any port, plain or TLS):
    /ok                    200 "All systems go"
    /status/{code}         that status
    /delay/{ms}            200 after ms milliseconds
    /slow-headers          reads the request, never answers
    /trickle               200 with a 1,000-byte body sent one byte a second
    /reset                 reads the request, then resets the connection
    /reset-after-headers   sends headers and part of the body, then resets
    /garbage               answers bytes that are not HTTP
    /huge                  200 with a 200 MB body, produced as it is read
    /redirect-loop         302 to itself
    /redirect/{n}          n redirects, then /ok
    /json, /json/bad       {"status": "ok"|"bad", "checks": [{"name": "db", "ok": ...}], ...}
    /not-json              an HTML page
    /echo                  JSON of the request's method, path, headers and body
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import json
import socket
import ssl
import struct
import tempfile
import threading
import typing
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"
HUGE_BODY_BYTES = 200 * 1024 * 1024
TRICKLE_BODY_BYTES = 1000
CERT_KINDS = ("good", "expired", "self_signed", "wrong_host", "expires_in_5_days")
OK_BODY = b"All systems go"
JSON_OK = {"status": "ok", "checks": [{"name": "db", "ok": True}], "queue_depth": 3}
JSON_BAD = {"status": "bad", "checks": [{"name": "db", "ok": False}], "queue_depth": 900}


# -- a loop on a thread -------------------------------------------------------------------


class _LoopThread:
    """An event loop running on a daemon thread; coroutines are submitted from outside."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.servers: list[asyncio.Server | asyncio.BaseTransport] = []
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Awaitable[object]) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)  # type: ignore[arg-type]

    def stop(self) -> None:
        async def cancel_everything() -> None:
            for server in self.servers:
                server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.run(cancel_everything())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()


# -- certificates -------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Upwatch tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem(key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass
class CertificateSet:
    """A test CA and one server certificate per fault, written as PEM files in `directory`."""

    directory: Path
    ca_file: Path = field(init=False)
    server_files: dict[str, Path] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        # EC keys: generating six RSA keys would cost about a second per test session.
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(_name("Upwatch Test CA"))
            .issuer_name(_name("Upwatch Test CA"))
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=365))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        self.ca_file = self.directory / "ca.pem"
        self.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))

        localhost = ["localhost", HOST]
        plans: dict[str, tuple[list[str], dt.datetime, dt.datetime, bool]] = {
            "good": (localhost, now - dt.timedelta(days=1), now + dt.timedelta(days=365), False),
            "expired": (
                localhost,
                now - dt.timedelta(days=90),
                now - dt.timedelta(days=2, hours=1),
                False,
            ),
            "self_signed": (
                localhost,
                now - dt.timedelta(days=1),
                now + dt.timedelta(days=365),
                True,
            ),
            "wrong_host": (
                ["other.example", "www.other.example"],
                now - dt.timedelta(days=1),
                now + dt.timedelta(days=365),
                False,
            ),
            # An hour over 5 days, so that "days left" (whole days) reads 5 during the tests.
            "expires_in_5_days": (
                localhost,
                now - dt.timedelta(days=85),
                now + dt.timedelta(days=5, hours=1),
                False,
            ),
        }
        for kind, (names, not_before, not_after, self_signed) in plans.items():
            key = ec.generate_private_key(ec.SECP256R1())
            sans: list[x509.GeneralName] = []
            for name in names:
                try:
                    sans.append(x509.IPAddress(ipaddress.ip_address(name)))
                except ValueError:
                    sans.append(x509.DNSName(name))
            cert = (
                x509.CertificateBuilder()
                .subject_name(_name(names[0]))
                .issuer_name(_name(names[0]) if self_signed else ca_cert.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(not_before)
                .not_valid_after(not_after)
                .add_extension(x509.SubjectAlternativeName(sans), critical=False)
                .sign(key if self_signed else ca_key, hashes.SHA256())
            )
            path = self.directory / f"{kind}.pem"
            path.write_bytes(_pem(key, cert))
            self.server_files[kind] = path

    def server_context(self, kind: str) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.server_files[kind])
        return context


# -- the HTTP fault target ----------------------------------------------------------------


@dataclass
class FaultTarget:
    http_port: int
    tls_ports: dict[str, int]
    hang_port: int  # accepts connections and never sends a byte
    refused_port: int  # nothing listens here
    ca_file: str
    huge_bytes_sent: list[int]  # bytes of /huge bodies actually written, one entry per request

    def url(self, path: str = "/ok") -> str:
        return f"http://{HOST}:{self.http_port}{path}"

    def tls_url(self, kind: str = "good", path: str = "/ok", host: str = HOST) -> str:
        return f"https://{host}:{self.tls_ports[kind]}{path}"

    @property
    def hang_url(self) -> str:
        return f"http://{HOST}:{self.hang_port}/"

    @property
    def refused_url(self) -> str:
        return f"http://{HOST}:{self.refused_port}/"


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _response_head(status: int, headers: dict[str, str], length: int | None) -> bytes:
    reason = {200: "OK", 302: "Found", 500: "Internal Server Error", 503: "Service Unavailable"}
    lines = [f"HTTP/1.1 {status} {reason.get(status, 'Status')}"]
    if length is not None:
        headers = {**headers, "Content-Length": str(length)}
    lines += [f"{name}: {value}" for name, value in {**headers, "Connection": "close"}.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _send(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes = b"",
    content_type: str = "text/plain",
    headers: dict[str, str] | None = None,
) -> None:
    head = _response_head(status, {"Content-Type": content_type, **(headers or {})}, len(body))
    writer.write(head + body)
    await writer.drain()


def _reset(writer: asyncio.StreamWriter) -> None:
    # Linger 0 turns the close into a TCP RST, which is what a crashed backend looks like.
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class _FaultServer:
    def __init__(self, huge_bytes_sent: list[int]) -> None:
        self.huge_bytes_sent = huge_bytes_sent

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            headers = {}
            for line in header_lines:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            body = await reader.readexactly(length) if length else b""
            await self.route(method, target.split("?", 1)[0], headers, body, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except (ssl.SSLError, ValueError, OSError):
            pass
        except asyncio.CancelledError:
            pass  # the target is stopping; asyncio would log a cancelled handler as an error
        finally:
            if not writer.transport.is_closing():
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()

    async def route(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        writer: asyncio.StreamWriter,
    ) -> None:
        parts = path.strip("/").split("/")
        if path == "/ok":
            await _send(writer, 200, OK_BODY)
        elif parts[0] == "status" and len(parts) == 2:
            await _send(writer, int(parts[1]), f"status {parts[1]}".encode())
        elif parts[0] == "delay" and len(parts) == 2:
            await asyncio.sleep(int(parts[1]) / 1000)
            await _send(writer, 200, OK_BODY)
        elif path == "/slow-headers":
            await asyncio.sleep(3600)
        elif path == "/trickle":
            writer.write(_response_head(200, {"Content-Type": "text/plain"}, TRICKLE_BODY_BYTES))
            for _ in range(TRICKLE_BODY_BYTES):
                writer.write(b"x")
                await writer.drain()
                await asyncio.sleep(1)
        elif path == "/reset":
            _reset(writer)
        elif path == "/reset-after-headers":
            writer.write(_response_head(200, {"Content-Type": "text/plain"}, 10_000) + b"partial")
            await writer.drain()
            await asyncio.sleep(0.05)
            _reset(writer)
        elif path == "/garbage":
            writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\x00\xff\xfe not http at all\r\n\r\n")
            await writer.drain()
        elif path == "/huge":
            await self.send_huge(writer)
        elif path == "/redirect-loop":
            await _send(writer, 302, b"", headers={"Location": "/redirect-loop"})
        elif parts[0] == "redirect" and len(parts) == 2:
            left = int(parts[1])
            location = f"/redirect/{left - 1}" if left > 1 else "/ok"
            await _send(writer, 302, b"", headers={"Location": location})
        elif path in ("/json", "/json/bad"):
            document = JSON_OK if path == "/json" else JSON_BAD
            await _send(writer, 200, json.dumps(document).encode(), "application/json")
        elif path == "/not-json":
            await _send(writer, 200, b"<html><body>Maintenance</body></html>", "text/html")
        elif path == "/echo":
            echoed = {"method": method, "path": path, "headers": headers, "body": body.decode()}
            await _send(writer, 200, json.dumps(echoed).encode(), "application/json")
        else:
            await _send(writer, 404, b"no such path")

    async def send_huge(self, writer: asyncio.StreamWriter) -> None:
        chunk = b"a" * 65536
        index = len(self.huge_bytes_sent)
        self.huge_bytes_sent.append(0)
        writer.write(_response_head(200, {"Content-Type": "text/plain"}, HUGE_BODY_BYTES))
        while self.huge_bytes_sent[index] < HUGE_BODY_BYTES:
            writer.write(chunk)
            await writer.drain()
            self.huge_bytes_sent[index] += len(chunk)


async def _never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        while await reader.read(65536):
            pass
    writer.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


async def _listen(
    thread: _LoopThread, handler: Handler, context: ssl.SSLContext | None = None
) -> asyncio.Server:
    # A short TLS handshake timeout would turn "never answers" into a reset; keep it long.
    server = await asyncio.start_server(
        handler, HOST, 0, ssl=context, ssl_handshake_timeout=60 if context else None, backlog=512
    )
    thread.servers.append(server)
    return server


def _port(server: asyncio.Server) -> int:
    return int(server.sockets[0].getsockname()[1])


@contextlib.contextmanager
def serve_fault_target() -> Iterator[FaultTarget]:
    """Start the plain, TLS and never-answering ports; stop them all on exit."""
    with tempfile.TemporaryDirectory(prefix="upwatch-certs-") as directory:
        certificates = CertificateSet(Path(directory))
        huge_bytes_sent: list[int] = []
        server = _FaultServer(huge_bytes_sent)
        thread = _LoopThread("fault-target")

        async def start() -> tuple[int, dict[str, int], int]:
            plain = await _listen(thread, server.handle)
            tls = {
                kind: _port(await _listen(thread, server.handle, certificates.server_context(kind)))
                for kind in CERT_KINDS
            }
            hang = await _listen(thread, _never_answer)
            return _port(plain), tls, _port(hang)

        try:
            ports = typing.cast(tuple[int, dict[str, int], int], thread.run(start()))
            http_port, tls_ports, hang_port = ports
            yield FaultTarget(
                http_port=http_port,
                tls_ports=tls_ports,
                hang_port=hang_port,
                refused_port=_free_port(),
                ca_file=str(certificates.ca_file),
                huge_bytes_sent=huge_bytes_sent,
            )
        finally:
            thread.stop()


# -- a tiny authoritative DNS server ------------------------------------------------------

SILENT_NAME = "silent.test."  # queries for this name are never answered


class _DnsProtocol(asyncio.DatagramProtocol):
    def __init__(self, records: dict[tuple[str, str], list[str]]) -> None:
        self.records = {
            (name.lower(), rtype.upper()): values for (name, rtype), values in records.items()
        }
        self.names = {name for name, _ in self.records}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        question = query.question[0]
        name = question.name.to_text().lower()
        if name == SILENT_NAME:
            return
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        rtype = dns.rdatatype.to_text(question.rdtype)
        values = self.records.get((name, rtype))
        if values:
            response.answer.append(dns.rrset.from_text(question.name, 60, "IN", rtype, *values))
        elif name not in self.names:
            response.set_rcode(dns.rcode.NXDOMAIN)
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)


@contextlib.contextmanager
def serve_dns(records: dict[tuple[str, str], list[str]]) -> Iterator[tuple[str, int]]:
    """Answer `records` ({("name.", "A"): ["1.2.3.4"]}) over UDP; yields (host, port).

    Known names without the asked type get an empty answer, unknown names NXDOMAIN, and
    `silent.test.` no answer at all.
    """
    thread = _LoopThread("dns-target")

    async def start() -> int:
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _DnsProtocol(records), local_addr=(HOST, 0)
        )
        thread.servers.append(transport)
        return int(transport.get_extra_info("sockname")[1])

    try:
        yield HOST, thread.run(start())  # type: ignore[misc]
    finally:
        thread.stop()
