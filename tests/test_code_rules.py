"""The code's own rules, kept by tools: lint, types and the direction of imports.

The pure rooms (domain, analytics, alerting) are type-checked strictly; the rest with mypy's
defaults. Each tool's whole output is shown when it finds something.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STRICT_ROOMS = ["domain", "analytics", "alerting"]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    tool = BIN / command[0]
    if not tool.exists() and shutil.which(command[0]) is None:
        pytest.fail(f"{command[0]} is not installed: pip install -e '.[test]'")
    executable = str(tool) if tool.exists() else command[0]
    return subprocess.run([executable, *command[1:]], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _assert_clean(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_finds_nothing() -> None:
    _assert_clean(_run("ruff", "check", "."))


def test_mypy_finds_no_type_error() -> None:
    _assert_clean(_run("mypy"))


def test_the_pure_rooms_pass_strict_mypy() -> None:
    _assert_clean(_run("mypy", "--strict", *STRICT_ROOMS))


def test_imports_run_one_way_without_circles() -> None:
    _assert_clean(_run("lint-imports"))
