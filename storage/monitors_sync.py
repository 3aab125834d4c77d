"""Applying a validated monitors file to the database: every entry, or none."""

from __future__ import annotations

from typing import NamedTuple

from config.monitors_file import MonitorsFile
from storage.monitors import save_monitors_file


class Applied(NamedTuple):
    created: int
    updated: int


def apply_monitors_file(monitors_file: MonitorsFile) -> Applied:
    return Applied(*save_monitors_file(monitors_file))
