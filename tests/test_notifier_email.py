"""E-mail through smtplib against a local SMTP sink speaking STARTTLS, implicit TLS and AUTH."""

from __future__ import annotations

import email
import email.policy
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from notifiers.base import TransportError
from notifiers.email import EmailChannel, Security
from notifiers.message import Notice
from tests.fakes import FakeSMTPServer, ReceivedMail, closed_port_url, self_signed_certificate

DOWN = Notice(
    kind="down",
    monitor_name="Checkout API",
    monitor_slug="checkout-api",
    state="down",
    reason="timed out after 10 s",
    since=datetime(2024, 5, 1, 14, 2, tzinfo=UTC),
    dashboard_url="https://upwatch.example/monitors?slug=checkout-api",
    status_url="https://upwatch.example/status",
    event_id=99,
    ack_url="https://upwatch.example/ack?t=signed",
)
USERS = {"alerts@example.com": "app-password"}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def sink(security: Security, certificate: tuple[Path, Path], **options: object) -> FakeSMTPServer:
    return FakeSMTPServer(
        security,
        certificate if security != "none" else None,
        **options,  # type: ignore[arg-type]
    )


def channel(
    server: FakeSMTPServer, security: Security, tls: ssl.SSLContext, **options: object
) -> EmailChannel:
    defaults: dict[str, object] = {
        "username": "alerts@example.com",
        "password": "app-password",
        "security": security,
        "tls_context": tls,
        "timeout": 5,
    }
    defaults.update(options)
    return EmailChannel(
        "127.0.0.1",
        server.port,
        "alerts@example.com",
        ["oncall@example.com", "lead@example.com"],
        **defaults,  # type: ignore[arg-type]
    )


def parsed(mail: ReceivedMail) -> EmailMessage:
    return email.message_from_bytes(mail.data, policy=email.policy.default)  # type: ignore[return-value]


@pytest.fixture
def starttls_sink(certificate: tuple[Path, Path]) -> Iterator[FakeSMTPServer]:
    with sink("starttls", certificate, users=USERS) as server:
        yield server


def test_it_sends_over_starttls_after_login(
    starttls_sink: FakeSMTPServer, trusting: ssl.SSLContext
) -> None:
    channel(starttls_sink, "starttls", trusting).send(DOWN)

    (mail,) = starttls_sink.wait_for(1)
    assert mail.over_tls is True
    assert mail.auth_user == "alerts@example.com"
    assert mail.mail_from == "alerts@example.com"
    assert mail.rcpt_to == ["oncall@example.com", "lead@example.com"]


def test_the_message_has_headers_and_links(
    starttls_sink: FakeSMTPServer, trusting: ssl.SSLContext
) -> None:
    channel(starttls_sink, "starttls", trusting).send(DOWN)

    message = parsed(starttls_sink.wait_for(1)[0])
    assert message["Subject"] == "[Upwatch] DOWN: Checkout API is down (timed out after 10 s)"
    assert message["From"] == "Upwatch <alerts@example.com>"
    assert message["To"] == "oncall@example.com, lead@example.com"
    assert message["X-Upwatch-Event-Id"] == "99"
    assert message["Message-ID"] == "<upwatch-event-99@upwatch.example>"
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Reason: timed out after 10 s" in body
    assert "Since: 2024-05-01 14:02:00 UTC" in body
    assert "Dashboard: https://upwatch.example/monitors?slug=checkout-api" in body
    assert "Acknowledge: https://upwatch.example/ack?t=signed" in body


def test_it_sends_over_implicit_tls(
    certificate: tuple[Path, Path], trusting: ssl.SSLContext
) -> None:
    with sink("ssl", certificate, users=USERS) as server:
        channel(server, "ssl", trusting).send(DOWN)

        (mail,) = server.wait_for(1)
    assert mail.over_tls is True
    assert mail.auth_user == "alerts@example.com"


def test_it_sends_without_tls_or_login(certificate: tuple[Path, Path]) -> None:
    with sink("none", certificate) as server:
        channel(server, "none", ssl.create_default_context(), username=None).send(DOWN)

        (mail,) = server.wait_for(1)
    assert mail.over_tls is False
    assert mail.auth_user is None


def test_a_wrong_password_is_permanent(
    starttls_sink: FakeSMTPServer, trusting: ssl.SSLContext
) -> None:
    with pytest.raises(TransportError) as caught:
        channel(starttls_sink, "starttls", trusting, password="wrong").send(DOWN)

    assert caught.value.permanent is True
    assert "535" in caught.value.message
    assert starttls_sink.messages == []


def test_an_untrusted_certificate_is_permanent(starttls_sink: FakeSMTPServer) -> None:
    with pytest.raises(TransportError) as caught:
        channel(starttls_sink, "starttls", ssl.create_default_context()).send(DOWN)

    assert caught.value.permanent is True
    assert "certificate" in caught.value.message
    assert starttls_sink.messages == []


def test_starttls_against_a_server_without_it_is_permanent(certificate: tuple[Path, Path]) -> None:
    with sink("none", certificate) as server, pytest.raises(TransportError) as caught:
        channel(server, "starttls", ssl.create_default_context()).send(DOWN)

    assert caught.value.permanent is True


def test_a_greylisting_4xx_is_transient(
    certificate: tuple[Path, Path], trusting: ssl.SSLContext
) -> None:
    refuse = {
        address: "451 4.7.1 try again later"
        for address in ("oncall@example.com", "lead@example.com")
    }
    with (
        sink("starttls", certificate, users=USERS, refuse=refuse) as server,
        pytest.raises(TransportError) as caught,
    ):
        channel(server, "starttls", trusting).send(DOWN)

    assert caught.value.permanent is False
    assert "451" in caught.value.message


def test_one_unknown_recipient_is_reported_after_the_others_got_it(
    certificate: tuple[Path, Path], trusting: ssl.SSLContext
) -> None:
    refuse = {"lead@example.com": "550 5.1.1 no such user"}
    with sink("starttls", certificate, users=USERS, refuse=refuse) as server:
        with pytest.raises(TransportError) as caught:
            channel(server, "starttls", trusting).send(DOWN)
        (mail,) = server.wait_for(1)

    assert mail.rcpt_to == ["oncall@example.com"]
    assert caught.value.permanent is True
    assert "lead@example.com (550" in caught.value.message


def test_connection_refused_is_transient() -> None:
    port = int(closed_port_url().rsplit(":", 1)[1])
    email_channel = EmailChannel("127.0.0.1", port, "a@example.com", ["b@example.com"], timeout=2)

    with pytest.raises(TransportError) as caught:
        email_channel.send(DOWN)

    assert caught.value.permanent is False
