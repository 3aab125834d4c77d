"""Fake external services at the wire: a scriptable HTTP server and an SMTP sink, both on 127.0.0.1.

They record exactly what the official SDKs put on the wire, so tests assert on real requests.

    with FakeHTTPServer() as server:
        server.enqueue(Reply(500), Reply(429, {"Retry-After": "7"}), Reply(200, body=b"ok"))
        ...
        assert server.requests[0].json()["text"] == "..."
"""

from __future__ import annotations

import base64
import json
import socket
import socketserver
import ssl
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

# How often a server checks for shutdown: the default half second would slow every test's teardown.
_POLL_INTERVAL = 0.02

# --- HTTP --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        return cls(
            status,
            {"Content-Type": "application/json", **(headers or {})},
            json.dumps(payload).encode(),
        )


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)

    def basic_auth(self) -> tuple[str, str] | None:
        value = self.headers.get("authorization", "")
        if not value.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(value[6:]).decode().partition(":")
        return user, password


class FakeHTTPServer:
    """A threaded HTTP/1.1 server on a free port that records requests and replays a script.

    Replies are taken from the queue in order; once it is empty, `default` answers.
    """

    def __init__(self, default: Reply | None = None) -> None:
        self.default = default or Reply(200, {"Content-Type": "text/plain"}, b"ok")
        self.requests: list[RecordedRequest] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(_POLL_INTERVAL,), daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def __enter__(self) -> FakeHTTPServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _record(self, request: RecordedRequest) -> Reply:
        with self._arrived:
            self.requests.append(request)
            self._arrived.notify_all()
            return self._script.popleft() if self._script else self.default

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                reply = fake._record(
                    RecordedRequest(
                        method=self.command,
                        path=parts.path,
                        query=parse_qs(parts.query),
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                    )
                )
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean

        return Handler


def closed_port_url() -> str:
    """A URL on which nothing listens: the connection is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- TLS ---------------------------------------------------------------------------------------


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost (cert, key), made with the openssl command."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-keyout", str(key), "-out", str(cert),
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


# --- SMTP --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_to: list[str]
    data: bytes
    auth_user: str | None
    over_tls: bool


class FakeSMTPServer:
    """An SMTP sink (RFC 5321 subset): EHLO, STARTTLS, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA.

    `security` is "starttls" (plain connection, TLS on request), "ssl" (TLS from the first byte)
    or "none". `users` enables AUTH; `refuse` maps recipient addresses to the reply RCPT gets.
    """

    def __init__(
        self,
        security: Literal["none", "starttls", "ssl"] = "none",
        certificate: tuple[Path, Path] | None = None,
        users: dict[str, str] | None = None,
        refuse: dict[str, str] | None = None,
    ) -> None:
        self.messages: list[ReceivedMail] = []
        self.aborted: list[Exception] = []
        self.users = users or {}
        self.refuse = refuse or {}
        self.security = security
        self._tls: ssl.SSLContext | None = None
        if security != "none":
            if certificate is None:
                raise ValueError("TLS needs a certificate")
            self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._tls.load_cert_chain(*certificate)
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(_POLL_INTERVAL,), daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.messages)

    def __enter__(self) -> FakeSMTPServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[socketserver.BaseRequestHandler]:
        fake = self

        class Session(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                try:
                    self.converse()
                except (ssl.SSLError, ConnectionError) as error:
                    # A client that rejects our certificate hangs up mid-handshake: record it.
                    fake.aborted.append(error)

            def converse(self) -> None:
                sock: socket.socket = self.request
                over_tls = False
                if fake.security == "ssl":
                    assert fake._tls is not None
                    sock = fake._tls.wrap_socket(sock, server_side=True)
                    over_tls = True
                stream = sock.makefile("rb")
                user: str | None = None
                mail_from: str | None = None
                rcpt_to: list[str] = []

                def say(line: str) -> None:
                    sock.sendall(line.encode() + b"\r\n")

                def read() -> str:
                    return stream.readline().decode().rstrip("\r\n")

                say("220 fake-smtp ready")
                while line := read():
                    verb, _, arg = line.partition(" ")
                    verb = verb.upper()
                    if verb in ("EHLO", "HELO"):
                        options = ["250-fake-smtp", "250-8BITMIME"]
                        if fake.security == "starttls" and not over_tls:
                            options.append("250-STARTTLS")
                        if fake.users:
                            options.append("250-AUTH PLAIN LOGIN")
                        options.append("250 SMTPUTF8")
                        say("\r\n".join(options))
                    elif verb == "STARTTLS" and fake.security == "starttls" and not over_tls:
                        say("220 go ahead")
                        assert fake._tls is not None
                        sock = fake._tls.wrap_socket(sock, server_side=True)
                        stream = sock.makefile("rb")
                        over_tls = True
                    elif verb == "AUTH":
                        mechanism, _, initial = arg.partition(" ")
                        if mechanism.upper() == "PLAIN":
                            if not initial:
                                say("334 ")
                                initial = read()
                            _, name, password = base64.b64decode(initial).decode().split("\0")
                        else:
                            say("334 VXNlcm5hbWU6")
                            name = base64.b64decode(read()).decode()
                            say("334 UGFzc3dvcmQ6")
                            password = base64.b64decode(read()).decode()
                        if fake.users.get(name) == password:
                            user = name
                            say("235 2.7.0 authenticated")
                        else:
                            say("535 5.7.8 Authentication credentials invalid")
                    elif verb == "MAIL":
                        if fake.users and user is None:
                            say("530 5.7.0 Authentication required")
                            continue
                        mail_from = arg.split(":", 1)[1].split()[0].strip("<>")
                        rcpt_to = []
                        say("250 ok")
                    elif verb == "RCPT":
                        address = arg.split(":", 1)[1].strip().strip("<>")
                        if address in fake.refuse:
                            say(fake.refuse[address])
                        else:
                            rcpt_to.append(address)
                            say("250 ok")
                    elif verb == "DATA":
                        say("354 end with <CRLF>.<CRLF>")
                        lines: list[bytes] = []
                        while (raw := stream.readline()) not in (b".\r\n", b""):
                            lines.append(raw[1:] if raw.startswith(b".") else raw)
                        fake.messages.append(
                            ReceivedMail(mail_from or "", rcpt_to, b"".join(lines), user, over_tls)
                        )
                        say("250 queued")
                    elif verb == "RSET":
                        mail_from, rcpt_to = None, []
                        say("250 ok")
                    elif verb == "NOOP":
                        say("250 ok")
                    elif verb == "QUIT":
                        say("221 bye")
                        break
                    else:
                        say("502 command not implemented")

        return Session


class HoldingSlack:
    """A Slack webhook that answers 200 and records the text; a request it was told to `hold`
    waits for `answer(status)` (the text is recorded only when that status is 200)."""

    def __init__(self) -> None:
        self.accepted: list[str] = []
        self._hold_next = False
        self.holding = threading.Event()
        self._release = threading.Event()
        self._status = 200
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                message = json.loads(body)["text"]
                status = 200
                if fake._hold_next:
                    fake._hold_next = False
                    fake.holding.set()
                    fake._release.wait(30)
                    status = fake._status
                if status == 200:
                    fake.accepted.append(message)
                reply = b"ok" if status == 200 else b"service_unavailable"
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass  # the client is dead (killed while the page was held)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def hold(self) -> None:
        self.holding.clear()
        self._release.clear()
        self._hold_next = True

    def answer(self, status: int) -> None:
        self._status = status
        self._release.set()
