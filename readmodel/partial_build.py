"""A part of the snapshot built without the items whose text breaks it.

One incident title a serialiser refused (a control character lxml will not put in XML) used to
fail the whole rebuild: every public answer froze on the old snapshot and, after a restart,
answered 503 until someone edited the database. Now a part that fails is built again without
the components, incidents and maintenance windows that fail it, and what was left out is logged.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TypeVar

from storage.status import PublicStatus

log = logging.getLogger(__name__)

Part = TypeVar("Part")


def _builds(build: Callable[[PublicStatus], object], status: PublicStatus) -> bool:
    try:
        build(status)
    except Exception:
        return False
    return True


def _that_build(build: Callable[[PublicStatus], object], status: PublicStatus) -> PublicStatus:
    """The status with only the items that build: each component on its own, then each
    incident and maintenance window with those components (a part may show them together,
    as the board shows an incident's title on its component's days)."""
    bare = dataclasses.replace(status, components=(), incidents=(), maintenance=())
    components = tuple(c for c in status.components
                       if _builds(build, dataclasses.replace(bare, components=(c,))))
    kept = dataclasses.replace(bare, components=components)
    incidents = tuple(i for i in status.incidents
                      if _builds(build, dataclasses.replace(kept, incidents=(i,))))
    maintenance = tuple(m for m in status.maintenance
                        if _builds(build, dataclasses.replace(kept, maintenance=(m,))))
    return dataclasses.replace(kept, incidents=incidents, maintenance=maintenance)


def without_failing_items(name: str, build: Callable[[PublicStatus], Part],
                          status: PublicStatus) -> Part:
    """`build(status)`, or, when that fails, `build` of the status without the items that fail
    it. Raises only when the part fails without any of them too."""
    try:
        return build(status)
    except Exception:
        log.exception("could not build the %s of the status snapshot: building it again "
                      "without the items that fail it", name)
    kept = _that_build(build, status)
    left_out = {
        "components": sorted({c.slug for c in status.components}
                             - {c.slug for c in kept.components}),
        "incidents": sorted({i.id for i in status.incidents} - {i.id for i in kept.incidents}),
        "maintenance windows": len(status.maintenance) - len(kept.maintenance),
    }
    log.error("the %s of the status snapshot leaves out %s", name, left_out)
    return build(kept)
