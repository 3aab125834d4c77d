"""Applying a validated monitors file to the database."""

from __future__ import annotations

from typing import NamedTuple

from config.monitors_file import MonitorsFile
from storage.monitors import create_monitor, list_monitors, update_monitor


class Applied(NamedTuple):
    created: int
    updated: int


def apply_monitors_file(monitors_file: MonitorsFile) -> Applied:
    by_name = {m.name: m for m in list_monitors()}
    created = updated = 0
    for spec, entry in monitors_file.entries:
        existing = by_name.get(spec.name)
        if existing is None:
            create_monitor(spec)
            created += 1
        else:
            update_monitor(existing.slug, entry)
            updated += 1
    return Applied(created, updated)
