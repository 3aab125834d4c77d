"""E-mail over SMTP (smtplib), with STARTTLS or implicit TLS and a login."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from html import escape
from typing import Literal
from urllib.parse import urlsplit

from notifiers.base import DEFAULT_TIMEOUT, TransportError, connection_error
from notifiers.message import Notice, headline, label, plain_text
from notifiers.templates import fallback_note, render_notice

Security = Literal["starttls", "ssl", "none"]


def email_message(notice: Notice, sender: str, recipients: list[str]) -> EmailMessage:
    return templated_email_message(notice, sender, recipients)[0]


def templated_email_message(
    notice: Notice, sender: str, recipients: list[str],
    subject_template: str = "", body_template: str = "",
) -> tuple[EmailMessage, str | None]:
    """The message, with the channel's subject and body templates where they work; the note
    says which template was not used and why."""
    message = EmailMessage()
    subject = f"[Upwatch] {label(notice)}: {headline(notice)}"
    if notice.reason:
        subject += f" ({notice.reason})"
    custom_subject = render_notice(subject_template, notice)
    subject = custom_subject.text or subject
    # Header folding copes with long lines, but a newline in a monitor name must not start a header.
    message["Subject"] = " ".join(subject.split())[:250]
    message["From"] = formataddr(("Upwatch", sender))
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(notice.since)
    # One Message-ID per event: a retried delivery is the same message to mail clients and
    # archives, and threads group by monitor through X-Upwatch-Monitor.
    # The host of the public URL keeps IDs from two Upwatch installations apart.
    domain = urlsplit(notice.dashboard_url).hostname or "upwatch.invalid"
    message["Message-ID"] = f"<upwatch-event-{notice.event_id}@{domain}>"
    message["X-Upwatch-Event-Id"] = str(notice.event_id)
    message["X-Upwatch-Monitor"] = notice.monitor_slug
    text = render_notice(body_template, notice)
    # The HTML part renders the template again, its values escaped as HTML this time.
    html = render_notice(body_template, notice, escape) if text.text is not None else text
    if text.text is not None and html.text is not None:
        message.set_content(text.text)
        message.add_alternative(_html_page(html.text), subtype="html")
    else:
        message.set_content(plain_text(notice))
        message.add_alternative(html_body(notice), subtype="html")
    problems = [f"subject {custom_subject.problem}" if custom_subject.problem else None,
                f"body {text.problem or html.problem}" if text.problem or html.problem else None]
    return message, fallback_note(*problems)


def _html_page(body: str) -> str:
    # The author's text is kept as written (it may hold HTML); its line breaks show as written.
    return f'<html><body><div style="white-space: pre-wrap">{body}</div></body></html>\n'


def html_body(notice: Notice) -> str:
    """The plain text as HTML, every value escaped; the links are clickable."""
    def link(text: str, url: str) -> str:
        return f'<p>{escape(text)}: <a href="{escape(url)}">{escape(url)}</a></p>'

    lines = [f"<p><strong>{escape(label(notice))}: {escape(headline(notice))}</strong></p>"]
    if notice.reason:
        lines.append(f"<p>Reason: {escape(notice.reason)}</p>")
    lines.append(f"<p>State: {escape(notice.state)}</p>")
    lines.append(link("Dashboard", notice.dashboard_url))
    lines.append(link("Status page", notice.status_url))
    if notice.ack_url:
        lines.append(link("Acknowledge", notice.ack_url))
    if notice.runbook_url:
        lines.append(link("Runbook", notice.runbook_url))
    return "<html><body>" + "".join(lines) + "</body></html>\n"


class EmailChannel:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: list[str],
        *,
        username: str | None = None,
        password: str | None = None,
        security: Security = "starttls",
        name: str = "email",
        timeout: float = DEFAULT_TIMEOUT,
        tls_context: ssl.SSLContext | None = None,
        subject_template: str = "",
        body_template: str = "",
    ) -> None:
        if not recipients:
            raise ValueError("an e-mail channel needs at least one recipient")
        self.name = name
        self.host = host
        self.port = port
        self.sender = sender
        self.recipients = recipients
        self.security = security
        self._username = username
        self._password = password
        self._timeout = timeout
        self._subject_template = subject_template
        self._body_template = body_template
        # Built once: a TLS context loads the system's trust store, which is slow.
        self._tls = tls_context or ssl.create_default_context()

    def send(self, notice: Notice) -> str | None:
        message, note = templated_email_message(
            notice, self.sender, self.recipients, self._subject_template, self._body_template)
        self.deliver(message)
        return note

    def deliver(self, message: EmailMessage) -> None:
        """Send a finished message (a notice's, or a scheduled report with its attachment) to
        the channel's recipients; TransportError saying what to fix when it is not sent."""
        try:
            with self._connect() as smtp:
                if self._username:
                    smtp.login(self._username, self._password or "")
                refused = smtp.send_message(message, self.sender, self.recipients)
        except smtplib.SMTPAuthenticationError as error:
            raise TransportError(
                f"SMTP login refused ({error.smtp_code} {_text(error.smtp_error)}): "
                "check the user name and password",
                permanent=True,
            ) from error
        except smtplib.SMTPRecipientsRefused as error:
            refused = error.recipients
            raise TransportError(_refusals(refused), permanent=_all_permanent(refused)) from error
        except smtplib.SMTPResponseException as error:
            # 4xx is the server asking to come back later; 5xx is a refusal.
            raise TransportError(
                f"SMTP server answered {error.smtp_code} {_text(error.smtp_error)}",
                permanent=error.smtp_code >= 500,
            ) from error
        except smtplib.SMTPNotSupportedError as error:
            raise TransportError(
                f"SMTP server does not support this: {error} (check the security setting)",
                permanent=True,
            ) from error
        except ssl.SSLCertVerificationError as error:
            raise TransportError(
                f"SMTP server certificate rejected: {error.verify_message}", permanent=True
            ) from error
        except ssl.SSLError as error:
            raise TransportError(
                f"TLS with the SMTP server failed ({error.reason}): check the port and whether it "
                "expects STARTTLS or implicit TLS",
                permanent=True,
            ) from error
        except (smtplib.SMTPException, OSError) as error:
            raise connection_error(f"SMTP server {self.host}:{self.port}", error) from error
        if refused:
            # Delivered to the others; a retry would send them a second copy, so report and stop.
            raise TransportError(_refusals(refused), permanent=True)

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self._timeout, context=self._tls)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self._timeout)
        if self.security == "starttls":
            try:
                smtp.starttls(context=self._tls)
            except BaseException:
                smtp.close()
                raise
        return smtp


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "SMTP server refused " + "; ".join(
        f"{address} ({code} {_text(reply)})" for address, (code, reply) in refused.items()
    )


def _all_permanent(refused: dict[str, tuple[int, bytes]]) -> bool:
    return all(code >= 500 for code, _ in refused.values())
