"""The TLS client contexts of probes: one per distinct trust setting, built once and reused.

Building a context costs milliseconds of CPU (reading the stores); a check costs far less. So
a context is kept per distinct setting (verify or not, the monitor's CA bundle, its client
certificate and key) and the default store in force, and every monitor with the same setting
shares it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import ssl
import tempfile
from dataclasses import dataclass, field, replace

from checks.trust_stores import DefaultStore, TrustedBy, default_context, trusted_by
from domain.check_options import TrustOptions


@dataclass(frozen=True, slots=True)
class TrustSetting:
    """What a TLS connection of one monitor trusts and presents; hashable, a cache key."""

    verify: bool = True
    ca_bundle: str | None = None
    client_certificate: str | None = None
    client_key: str | None = field(default=None, repr=False)  # a secret: never in a repr

    @classmethod
    def of(cls, options: TrustOptions, verify: bool = True) -> TrustSetting:
        key = options.client_key.get_secret_value() if options.client_key else None
        return cls(verify, options.ca_bundle, options.client_certificate, key)

    def unverified(self) -> TrustSetting:
        """The same identity without verification: to read a certificate that failed."""
        return replace(self, verify=False)


@dataclass(frozen=True, slots=True, eq=False)
class TrustContext:
    """A built context, and how to tell which store trusted a chain it verified."""

    context: ssl.SSLContext
    stores: TrustedBy
    setting: TrustSetting = field(repr=False)


def _load_client_identity(context: ssl.SSLContext, certificate: str, key: str) -> None:
    # OpenSSL reads a certificate and key only from files: they are written to a directory only
    # this process can read, loaded, and removed at once.
    with tempfile.TemporaryDirectory(prefix="upwatch-identity-") as directory:
        path = os.path.join(directory, "identity.pem")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(key.strip() + "\n" + certificate.strip() + "\n")
        try:
            context.load_cert_chain(path)
        finally:
            with contextlib.suppress(OSError):
                os.remove(path)


@functools.lru_cache(maxsize=64)  # each holds the system store: a few distinct settings
def trust_context(setting: TrustSetting, store: DefaultStore) -> TrustContext:
    """The context of `setting` over the default `store`; built once per pair."""
    context = default_context(store)
    if setting.ca_bundle:
        context.load_verify_locations(cadata=setting.ca_bundle)
    if setting.client_certificate and setting.client_key:
        _load_client_identity(context, setting.client_certificate, setting.client_key)
    if not setting.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return TrustContext(context, trusted_by(store, setting.ca_bundle), setting)


__all__ = ["TrustContext", "TrustSetting", "trust_context"]
