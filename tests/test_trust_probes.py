"""Whom probes trust: targets on 127.0.0.1 signed by a CA made in the test (trustme), trusted
through SSL_CERT_FILE, through the monitor's own CA bundle, or not at all; mutual TLS."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from checks.run_check import run_check_once
from checks.trust_stores import MONITOR_BUNDLE
from domain.result import ProbeResult
from tests.targets import HOST

pytestmark = pytest.mark.anyio

TIMEOUT = 2.0


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args: object) -> None:
        return None


@contextlib.contextmanager
def https_target(
    certificate: trustme.LeafCert, client_ca: trustme.CA | None = None
) -> Iterator[int]:
    """An HTTPS server on 127.0.0.1 presenting `certificate`; with `client_ca`, it demands a
    client certificate that CA signed. Yields its port."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    if client_ca is not None:
        client_ca.configure_trust(context)
        context.verify_mode = ssl.CERT_REQUIRED
    server = http.server.ThreadingHTTPServer((HOST, 0), _Ok)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.handle_error = lambda *_args: None  # type: ignore[method-assign]  # refused peers
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA(organization_name="Test Private CA")


@pytest.fixture(scope="module")
def port(ca: trustme.CA) -> Iterator[int]:
    with https_target(ca.issue_cert(HOST)) as running:
        yield running


def _ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


async def _check(kind: str, target: str, options: dict | None = None) -> ProbeResult:
    return await run_check_once(kind, target, TIMEOUT, options or {})


def _pem(blob: trustme.Blob) -> str:
    return blob.bytes().decode()


@pytest.mark.parametrize("kind", ["http", "tls"])
async def test_a_private_ca_is_trusted_through_ssl_cert_file(
    kind: str, ca: trustme.CA, port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", _ca_file(ca, tmp_path))
    target = f"https://{HOST}:{port}/" if kind == "http" else f"{HOST}:{port}"

    result = await _check(kind, target)

    assert result.outcome == "up", result.reason
    assert result.tls is not None
    assert (result.tls["verified"], result.tls["trusted_by"]) == (True, "SSL_CERT_FILE")
    assert result.tls["address"] == HOST


@pytest.mark.parametrize("kind", ["http", "tls"])
async def test_a_private_ca_is_trusted_through_the_monitors_bundle(
    kind: str, ca: trustme.CA, port: int
) -> None:
    target = f"https://{HOST}:{port}/" if kind == "http" else f"{HOST}:{port}"

    result = await _check(kind, target, {"ca_bundle": _pem(ca.cert_pem)})

    assert result.outcome == "up", result.reason
    assert result.tls is not None and result.tls["trusted_by"] == MONITOR_BUNDLE


@pytest.mark.parametrize("kind", ["http", "tls"])
async def test_without_trust_the_reason_names_the_unknown_issuer(
    kind: str, port: int, ca: trustme.CA
) -> None:
    target = f"https://{HOST}:{port}/" if kind == "http" else f"{HOST}:{port}"
    another = trustme.CA(organization_name="Someone Else")

    for options in ({}, {"ca_bundle": _pem(another.cert_pem)}):
        result = await _check(kind, target, options)

        assert result.outcome == "down"
        assert result.reason is not None
        assert "unknown authority" in result.reason and "Test Private CA" in result.reason
        assert result.tls is not None and result.tls["verified"] is False
        assert result.tls["trusted_by"] is None


@pytest.mark.parametrize(
    ("issue", "host", "reason"),
    [
        ({"not_after": dt.datetime.now(dt.UTC) - dt.timedelta(days=3)}, HOST,
         "certificate expired 3 days ago"),
        ({"not_before": dt.datetime.now(dt.UTC) + dt.timedelta(days=2)}, HOST,
         "certificate is not valid yet"),
        ({}, "localhost", "certificate is for another host (127.0.0.1)"),
    ],
)
async def test_a_chain_the_bundle_trusts_is_still_held_to_its_dates_and_names(
    ca: trustme.CA, issue: dict, host: str, reason: str
) -> None:
    with https_target(ca.issue_cert(HOST, **issue)) as port:
        result = await _check("http", f"https://{host}:{port}/",
                              {"ca_bundle": _pem(ca.cert_pem)})

    assert (result.outcome, result.reason) == ("down", reason)


async def test_a_self_signed_certificate_says_so_and_can_be_trusted_as_itself() -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "self.test")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        .sign(key, hashes.SHA256()))
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    leaf = trustme.LeafCert(key_pem, cert_pem, [])
    with https_target(leaf) as port:
        refused = await _check("http", f"https://{HOST}:{port}/")
        pinned = await _check("http", f"https://{HOST}:{port}/",
                              {"ca_bundle": cert_pem.decode()})

    assert (refused.outcome, refused.reason) == ("down", "self-signed certificate")
    assert pinned.outcome == "up", pinned.reason


async def test_a_server_demanding_a_client_certificate_is_up_with_one_and_says_why_without(
    ca: trustme.CA,
) -> None:
    client_ca = trustme.CA(organization_name="Client CA")
    identity = client_ca.issue_cert("probe@upwatch.test")
    trust = {"ca_bundle": _pem(ca.cert_pem)}
    with_identity = {**trust, "client_certificate": _pem(identity.cert_chain_pems[0]),
                     "client_key": _pem(identity.private_key_pem)}
    with https_target(ca.issue_cert(HOST), client_ca=client_ca) as port:
        url = f"https://{HOST}:{port}/"
        up = await _check("http", url, with_identity)
        down = await _check("http", url, trust)

    assert (up.outcome, up.http_status) == ("up", 200), up.reason
    assert down.outcome == "down"
    assert down.reason is not None and "client certificate" in down.reason, down.reason


async def test_contexts_are_built_once_per_trust_setting(ca: trustme.CA, port: int) -> None:
    from checks.run_check import ProbeClients, prepare_check
    from checks.trust import trust_context

    bundle = {"ca_bundle": _pem(ca.cert_pem)}
    trust_context.cache_clear()
    clients = ProbeClients()
    try:
        first = prepare_check("http", f"https://{HOST}:{port}/a", TIMEOUT, bundle)
        second = prepare_check("http", f"https://{HOST}:{port}/b", TIMEOUT, dict(bundle))
        assert (await first(clients)).outcome == "up"
        assert (await second(clients)).outcome == "up"
        assert (await first(clients)).outcome == "up"
        # The same client for the same setting: checks share its connection pool.
        assert len(clients._clients) == 1
    finally:
        await clients.aclose()

    assert trust_context.cache_info().misses == 1  # one setting, one context, built once


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_a_private_ca_is_trusted_through_ssl_cert_dir(
    ca: trustme.CA, port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # OpenSSL finds a CA in a directory by the hash of its subject: <hash>.0
    ca_file = _ca_file(ca, tmp_path)
    subject_hash = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", ca_file],
        check=True, capture_output=True, text=True).stdout.strip()
    directory = tmp_path / "certs"
    directory.mkdir()
    (directory / f"{subject_hash}.0").write_bytes(Path(ca_file).read_bytes())
    monkeypatch.setenv("SSL_CERT_DIR", str(directory))

    result = await _check("http", f"https://{HOST}:{port}/")

    assert result.outcome == "up", result.reason
    assert result.tls is not None and result.tls["trusted_by"] == "SSL_CERT_DIR"
