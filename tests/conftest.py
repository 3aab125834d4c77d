"""Shared fixtures: every test gets its own SQLite file and settings."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import streamlit as st
from hypothesis import HealthCheck, settings

from checks.http_request import make_probe_client
from checks.tls_probe import make_ssl_context
from config.settings import get_settings
from storage.db import get_engine
from tests.targets import FaultTarget, serve_fault_target

# Shared, noisy machines: judge properties, not how fast examples are drawn.
settings.register_profile(
    "upwatch", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.load_profile("upwatch")

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def require_or_skip(available: bool, reason: str) -> None:
    """Optional system parts: skip on a laptop without them, fail in CI where they must exist."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    db_file = tmp_path / "upwatch.db"
    for key in list(os.environ):
        if key.startswith("UPWATCH_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("UPWATCH_DATABASE_URL", f"sqlite:///{db_file}")
    monkeypatch.setenv("UPWATCH_ADMIN_PASSWORD", "correct horse")
    monkeypatch.setenv("UPWATCH_API_TOKEN", "s3cret-token")
    # Tests send bursts no client would; the limits have their own test (test_rate_limits).
    monkeypatch.setenv("UPWATCH_API_REQUESTS_PER_MINUTE", "1000000")
    monkeypatch.setenv("UPWATCH_ACK_REQUESTS_PER_MINUTE", "1000000")
    monkeypatch.chdir(tmp_path)  # keeps a developer's .env out of the tests
    get_settings.cache_clear()
    get_engine.cache_clear()
    # Pages cache what they read for a few seconds; each test has a database of its own.
    st.cache_data.clear()
    st.cache_resource.clear()
    yield db_file
    get_settings.cache_clear()
    get_engine.cache_clear()


# -- probe tests: the misbehaving target, and a probe client that trusts its test CA -----------


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def target() -> Iterator[FaultTarget]:
    with serve_fault_target() as running:
        yield running


@pytest.fixture
async def client(target: FaultTarget) -> AsyncIterator[httpx.AsyncClient]:
    async with make_probe_client(ssl_context=make_ssl_context(cafile=target.ca_file)) as shared:
        yield shared
