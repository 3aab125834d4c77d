"""From a monitor's check spec to the probe of its kind, with options parsed once per edit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from checks.dns_probe import probe_dns
from checks.http_probe import probe_http
from checks.http_request import make_probe_client
from checks.tcp_probe import probe_tcp
from checks.tls_probe import probe_tls
from checks.trust import TrustContext, TrustSetting, trust_context
from checks.trust_stores import default_store
from domain.check_options import DnsOptions, HttpOptions, TcpOptions, TlsOptions
from domain.monitor_input import split_host_port
from domain.result import ProbeResult
from storage.schedule import CheckSpec

MAX_CLIENTS = 256


@dataclass
class ProbeClients:
    """HTTP clients shared by every check on one event loop, one per trust setting (most
    monitors share the default one) over the default store as it was when first needed."""

    _clients: dict[TrustSetting, httpx.AsyncClient] = field(default_factory=dict)

    def trust(self, setting: TrustSetting) -> TrustContext:
        return trust_context(setting, default_store())

    def http(self, setting: TrustSetting | bool) -> httpx.AsyncClient:
        if isinstance(setting, bool):
            setting = TrustSetting(verify=setting)
        client = self._clients.get(setting)
        if client is None:
            if len(self._clients) >= MAX_CLIENTS:
                # Settings edited away leave clients behind; a probe client holds no
                # connection, so the oldest is simply let go.
                self._clients.pop(next(iter(self._clients)))
            client = self._clients[setting] = make_probe_client(trust=self.trust(setting))
        return client

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


Check = Callable[[ProbeClients], Awaitable[ProbeResult]]


def prepare_check(kind: str, url: str, timeout: float, options: dict) -> Check:
    """A ready-to-run check; raises ValueError for options or a target that do not validate.

    Parsing happens here, once, so a check that runs every minute pays only for probing.
    """
    if kind == "http":
        http_options = HttpOptions.model_validate(options)
        http_trust = TrustSetting.of(http_options, http_options.verify_tls)
        return lambda clients: probe_http(
            url, timeout, clients.http(http_trust), http_options
        )
    if kind == "tls":
        host, port = split_host_port(url, default_port=443)
        tls_options = TlsOptions.model_validate(options)
        tls_trust = TrustSetting.of(tls_options)
        return lambda clients: probe_tls(
            host, port, timeout, tls_options, trust=clients.trust(tls_trust))
    if kind == "tcp":
        host, port = split_host_port(url)
        tcp_options = TcpOptions.model_validate(options)
        return lambda _clients: probe_tcp(host, port, timeout, tcp_options)
    if kind == "dns":
        dns_options = DnsOptions.model_validate(options)
        return lambda _clients: probe_dns(url, timeout, dns_options)
    raise ValueError(f"'{kind}' monitors are not probed")


def check_for(spec: CheckSpec) -> Check:
    """The spec's check; a spec that no longer validates gives a check reporting why."""
    try:
        return prepare_check(spec.kind, spec.url, spec.timeout, spec.options)
    except (ValueError, TypeError) as exc:  # stored before a rule tightened: say so, don't crash
        reason = f"monitor settings are invalid: {exc}"

        async def refuse(_clients: ProbeClients) -> ProbeResult:
            return ProbeResult("down", reason=reason[:300])

        return refuse


async def run_check_once(kind: str, url: str, timeout: float, options: dict) -> ProbeResult:
    """One check outside the engine (the form's "Test now"), with its own clients."""
    clients = ProbeClients()
    try:
        return await prepare_check(kind, url, timeout, options)(clients)
    finally:
        await clients.aclose()


def check_now(kind: str, url: str, timeout: float, options: dict) -> ProbeResult:
    """Blocking form of run_check_once, for a page script (which has no loop of its own)."""
    return asyncio.run(run_check_once(kind, url, timeout, options))
