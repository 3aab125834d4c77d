"""The default store: OpenSSL's paths as SSL_CERT_FILE and SSL_CERT_DIR set them, and certifi's
bundle only when the system has no store at all."""

from __future__ import annotations

from pathlib import Path

import certifi
import pytest

from checks.trust import TrustSetting, trust_context
from checks.trust_stores import CERTIFI, default_store


def test_without_a_system_store_certifi_is_the_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "empty"))

    store = default_store()

    assert (store.use_certifi, store.cafile, store.label) == (True, certifi.where(), CERTIFI)
    assert trust_context(TrustSetting(), store).context.get_ca_certs()  # certifi's roots


def test_ssl_cert_file_names_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(Path(certifi.where()).read_bytes())
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))

    store = default_store()

    assert (store.use_certifi, store.cafile, store.label) == (False, str(bundle), "SSL_CERT_FILE")
