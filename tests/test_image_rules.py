"""The container image's rules, read from the Dockerfile, .dockerignore and deploy/compose.yaml
(no container engine runs here): no secret or data in the build context, the wheel installed in
a second stage, a non-root user, /data as the volume, a health check, signals reaching Upwatch."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [(word.upper(), rest.strip()) for word, _, rest in
            (line.partition(" ") for line in lines if line and not line.startswith("#"))]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def _ignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip().lstrip("/") for line in lines if line.strip()
            and not line.startswith("#")]


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's matching: `*` and `?` stay within one folder, `**` spans any number."""
    pieces = re.split(r"(\*\*/|\*\*|\*|\?)", pattern)
    wildcards = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcards.get(piece, re.escape(piece)) for piece in pieces))


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern that matches the path or one of its parent folders
    decides; `!` patterns bring a path back."""
    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        keep = pattern.startswith("!")
        regex = _pattern_regex(pattern[1:] if keep else pattern)
        if any(regex.fullmatch(candidate) for candidate in candidates):
            ignored = not keep
    return ignored


@pytest.mark.parametrize("path", [
    ".git/config", ".env", ".env.production", "data/upwatch.db", "data/secret.key",
    "data/upwatch.db-wal", ".venv/bin/python", "storage/__pycache__/db.cpython-311.pyc",
    ".pytest_cache/v/cache", ".mypy_cache/3.11/x.json", ".ruff_cache/x", ".hypothesis/x",
    "test-artifacts/server.log", "upwatch.egg-info/PKG-INFO", "build/lib/app.py",
    ".streamlit/secrets.toml", "tests/test_api.py",
])
def test_the_build_context_leaves_out(path: str) -> None:
    assert _ignored(path, _ignore_patterns())


@pytest.mark.parametrize("path", [
    "app.py", "router.py", "setup.py", "pyproject.toml", "README.md", "alembic.ini",
    ".streamlit/config.toml", "pages/status.py", "migrations/env.py",
    "migrations/versions/0001_initial.py", "ui/static/status_board.js", "web/verdana_widths.json",
])
def test_the_build_context_keeps_what_the_wheel_is_built_from(path: str) -> None:
    assert not _ignored(path, _ignore_patterns())


def test_no_file_of_the_checkout_that_holds_secrets_or_data_is_sent() -> None:
    patterns = _ignore_patterns()
    sent: list[str] = []
    for folder, dirs, files in os.walk(ROOT):
        relative = Path(folder).relative_to(ROOT).as_posix()
        prefix = "" if relative == "." else relative + "/"
        dirs[:] = [d for d in dirs if not _ignored(prefix + d, patterns)]
        sent.extend(prefix + f for f in files if not _ignored(prefix + f, patterns))
    risky = [p for p in sent if re.search(r"(^|/)(\.env|secret\.key|secrets\.toml)$|\.db$", p)]
    assert not risky


def test_the_image_installs_the_wheel_in_a_second_stage() -> None:
    instructions = _instructions()
    assert sum(word == "FROM" for word, _ in instructions) >= 2
    final = _final_stage()
    runs = " ".join(rest for word, rest in final if word == "RUN")
    assert "pip install" in runs and "--no-index" in runs and " -e " not in runs
    # Only what the build stage made reaches the final one: never the sources.
    assert not [rest for word, rest in final if word in ("COPY", "ADD")
                and "--from=" not in rest]


def test_the_image_runs_as_a_user_that_is_not_root() -> None:
    users = [rest for word, rest in _final_stage() if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_the_data_directory_is_the_volume() -> None:
    final = _final_stage()
    env = " ".join(rest for word, rest in final if word == "ENV")
    assert re.search(r"\bUPWATCH_DATA_DIR=/data\b", env)
    volumes = [rest for word, rest in final if word == "VOLUME"]
    assert volumes and "/data" in json.loads(volumes[-1])


def test_the_health_check_asks_healthz() -> None:
    checks = [rest for word, rest in _final_stage() if word == "HEALTHCHECK"]
    assert checks and "/healthz" in checks[-1] and "CMD" in checks[-1]


def test_upwatch_runs_as_pid_1_so_sigterm_reaches_it() -> None:
    final = dict(_final_stage())
    # Exec form (a JSON list): no shell in between to swallow docker stop's SIGTERM.
    entrypoint, command = json.loads(final["ENTRYPOINT"]), json.loads(final["CMD"])
    assert entrypoint == ["upwatch"]
    assert command[0] == "serve" and "--server.address=0.0.0.0" in command


def test_the_compose_file_runs_postgresql_a_web_process_and_two_workers() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    web, worker = services["web"], services["worker"]
    assert web["command"][0] == "serve" and web["environment"]["UPWATCH_PROBES"] == "false"
    assert worker["command"] == ["worker"] and worker["deploy"]["replicas"] == 2
    for service in (web, worker):
        assert service["environment"]["UPWATCH_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "UPWATCH_SECRET_KEY" in service["environment"]
