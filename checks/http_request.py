"""What an HTTP check sends: the client every probe shares, the URLs it accepts, and the
headers a monitor's options add to each request."""

from __future__ import annotations

import base64
import functools
import ssl
import typing

import httpx

from checks.http_transport import ProbeTransport
from checks.tcp_probe import ProbeFailure
from checks.tls_probe import default_trust
from checks.trust import TrustContext
from domain.check_options import HttpOptions

USER_AGENT = "Upwatch/0.1 (uptime monitor)"


def make_probe_client(
    verify: bool = True, *, ssl_context: ssl.SSLContext | None = None,
    trust: TrustContext | None = None,
) -> httpx.AsyncClient:
    """The client probes share: no keep-alive, no cookie memory, no proxy from the environment.

    A fresh connection per check is what lets connect and TLS time be measured, and it avoids
    the pool contention that made a kept-alive shared client cost 3-4x the CPU. Its transport
    (`ProbeTransport`) skips httpcore (pool, anyio, h11): one connection per request, the
    response parsed by httptools, the phases timed. The SSL context is built once per process
    and trust setting (see `checks.trust`): `trust`'s, or `ssl_context`, or the default one.
    """
    if ssl_context is None:
        trust = trust or default_trust(verify)
        ssl_context = trust.context
    return _ProbeClient(
        trust,
        transport=ProbeTransport(ssl_context, trust),
        timeout=None,  # probe_http enforces one total deadline instead
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
    )


class _NoCookies(httpx.Cookies):
    """A cookie store that never stores: one monitor's Set-Cookie must not reach another
    monitor's requests. Refusing here, rather than through a cookie policy, also skips
    the cookie parsing httpx runs on every response (an eighth of a plain check's CPU)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _ProbeClient(httpx.AsyncClient):
    def __init__(self, trust: TrustContext | None, **options: typing.Any) -> None:
        super().__init__(**options)
        self.trust = trust  # whom its connections trust: tells which store trusted a chain
        # Set directly: the `cookies` setter would copy the store into a plain one.
        self._cookies = _NoCookies()


# Parsing a URL is a tenth of a plain check's CPU, and a monitor's URL rarely changes: parsed
# URLs (immutable) are kept for the next run. Failures raise, so they are not kept.
@functools.lru_cache(maxsize=16_384)
def probeable_url(url: str) -> httpx.URL:
    """`url` parsed, or a ProbeFailure saying why it cannot be checked."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ProbeFailure(f"invalid URL ({exc})") from None
    if parsed.scheme not in ("http", "https"):
        raise ProbeFailure("unsupported URL scheme: use http:// or https://")
    if not parsed.host:
        raise ProbeFailure("invalid URL (no host name)")
    return parsed


def auth_headers(options: HttpOptions) -> dict[str, str]:
    """The Authorization header of the monitor's bearer token or basic credentials, if any."""
    if options.bearer_token is not None:
        return {"Authorization": f"Bearer {options.bearer_token.get_secret_value()}"}
    if options.basic_auth_user:
        password = (
            options.basic_auth_password.get_secret_value() if options.basic_auth_password else ""
        )
        token = base64.b64encode(f"{options.basic_auth_user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}
    return {}


__all__ = ["USER_AGENT", "auth_headers", "make_probe_client", "probeable_url"]
