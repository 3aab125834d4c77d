"""The wheel as a user installs it: built from the sources, installed into a fresh virtualenv
outside the checkout, `upwatch serve` started from an empty directory.

The fresh venv reaches the already-installed dependencies through a .pth file and the wheel is
installed with --no-deps, so the test needs no network; only Upwatch itself comes from the wheel.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.server_process import UpwatchServer, running_server, wait_until

ROOT = Path(__file__).resolve().parent.parent
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", "data", "build", "dist", "test-artifacts", "*.egg-info", "__pycache__",
    ".*_cache", ".hypothesis", ".env",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy: setuptools' build/ folder would keep files deleted from the sources.
    sources = tmp_path_factory.mktemp("sources") / "upwatch"
    shutil.copytree(ROOT, sources, ignore=NOT_SOURCES)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(sources), "--no-deps",
                    "--no-build-isolation", "--no-index", "-q", "-w", str(dist)],
                   check=True, capture_output=True, timeout=300)
    return next(dist.glob("upwatch-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; returns its bin/ folder."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "upwatch-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return venv / "bin"


def _outside_the_checkout(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("UPWATCH_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "HOME": str(tmp)}


def test_the_wheel_holds_everything_the_app_runs(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("upwatch_app/app.py", "upwatch_app/router.py", "alembic.ini",
                   "upwatch_app/.streamlit/config.toml", "upwatch_app/pages/status.py",
                   "migrations/env.py", "migrations/script.py.mako",
                   "migrations/versions/0001_initial.py", "web/verdana_widths.json",
                   "ui/static/status_board.css", "ui/static/status_board.js"):
        assert needed in names, f"{needed} is missing from {wheel.name}"
    assert not [n for n in names if n.startswith(("tests/", "bench/", "data/"))]
    # The scripts and pages live under one name, not as top-level app, router and pages.
    assert not [n for n in names if n.startswith(("app.py", "router.py", "pages/", "setup.py",
                                                  ".streamlit/", "upwatch_app/setup.py"))]


def test_upwatch_version_names_the_installed_version(installed: Path, tmp_path: Path) -> None:
    shown = subprocess.run([str(installed / "upwatch"), "--version"], cwd=tmp_path, check=True,
                           capture_output=True, text=True, env=_outside_the_checkout(tmp_path))
    assert shown.stdout.strip() == "upwatch 0.1.0"


@pytest.fixture
def served(installed: Path, tmp_path: Path) -> Iterator[tuple[UpwatchServer, Path]]:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    port = free_port()
    command = [str(installed / "upwatch"), "serve", "--server.port", str(port),
               "--server.address", "127.0.0.1"]
    with running_server(command, port, run_dir, _outside_the_checkout(tmp_path),
                        tmp_path / "serve.log") as server:
        yield server, run_dir


def test_upwatch_serve_runs_the_installed_app_from_an_empty_directory(
    installed: Path, served: tuple[UpwatchServer, Path]
) -> None:
    server, run_dir = served
    url = server.url
    health = httpx.get(f"{url}/healthz", timeout=5)
    assert health.status_code == 200 and health.json()["database"] == "ok"
    page = httpx.get(f"{url}/status", timeout=5)
    assert page.status_code == 200
    assert "window.__streamlit={BACKEND_BASE_URL" in page.text  # the status page's own shell
    # The public answers come from the read model's first snapshot (503 until it is built).
    status = wait_until(lambda: (r := httpx.get(f"{url}/api/v1/status", timeout=5))
                        .status_code == 200 and r, 30, "the status JSON")
    assert status.json()["components"] == []
    # The default data directory, ./data, under the directory it was started in.
    assert (run_dir / "data" / "upwatch.db").exists()
    app_script = subprocess.run(
        [str(installed / "python"), "-c", "from composition.cli import APP_SCRIPT; "
                                          "print(APP_SCRIPT)"],
        cwd=run_dir, check=True, capture_output=True, text=True,
        env=_outside_the_checkout(run_dir)).stdout.strip()
    assert Path(app_script).is_relative_to(installed.parent), app_script
    assert Path(app_script).parent.name == "upwatch_app", app_script
    _renders_the_status_page(url)

    # docker stop / systemctl stop: SIGTERM, the background parts stopped, exit status 0.
    server.stop(signal.SIGTERM, timeout_s=30)
    assert server.process.returncode == 0, server.log()
    assert "probe engine stopped" in server.log()


def _renders_the_status_page(url: str) -> None:
    """The installed router finds its pages (upwatch_app/pages) and the status page draws."""
    from tests.browser import READY, chromium_page

    with chromium_page() as page:
        page.goto(f"{url}/status")
        page.wait_for_selector(READY)
        assert page.get_by_role("link", name="Operator sign-in").count() == 1
        assert page.locator('[data-testid="stException"]').count() == 0


def test_upwatch_data_dir_places_the_default_database(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    from config.settings import Settings

    monkeypatch.delenv("UPWATCH_DATABASE_URL")
    assert Settings().database_url == "sqlite:///data/upwatch.db"
    monkeypatch.setenv("UPWATCH_DATA_DIR", str(tmp_path / "state"))
    assert Settings().database_url == f"sqlite:///{tmp_path}/state/upwatch.db"
    monkeypatch.setenv("UPWATCH_DATABASE_URL", "postgresql+psycopg://db/upwatch")
    assert Settings().database_url == "postgresql+psycopg://db/upwatch"
