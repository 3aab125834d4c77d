"""Dependencies between monitors (pure): a child depends on parents (the database, the load
balancer); while a parent is down, a failing child is "blocked by" it and pages nobody.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from domain.slugs import is_slug

MAX_DEPENDENCIES = 10


def clean_dependencies(slugs: Iterable[str]) -> list[str]:
    """The parents' slugs, stripped, lower-cased, repeats dropped; ValueError for one that is
    not a monitor's address or for too many."""
    kept: dict[str, None] = {}
    for raw in slugs:
        slug = str(raw).strip().lower()
        if not slug:
            continue
        if not is_slug(slug):
            raise ValueError(f"'{slug[:60]}' is not a monitor's address (its slug, e.g. 'db')")
        kept[slug] = None
    if len(kept) > MAX_DEPENDENCIES:
        raise ValueError(f"depend on at most {MAX_DEPENDENCIES} monitors")
    return list(kept)


def dependency_problem(slug: str | None, parents: Sequence[str], known: Mapping[str, Sequence[str]]
                       ) -> str | None:
    """Why `slug` (None: a new monitor) cannot depend on `parents`, given every other monitor's
    parents in `known`; None when it can."""
    for parent in parents:
        if parent == slug:
            return "a monitor cannot depend on itself"
        if parent not in known:
            return f"no monitor has the address '{parent}' (list a parent before its children)"
    if slug is None:
        return None  # nothing depends on a monitor not created yet: no circle possible
    graph = {**known, slug: list(parents)}
    path = _path_back(graph, slug)
    if path:
        return "that makes a circle: " + " → ".join(path)
    return None


def _path_back(graph: Mapping[str, Sequence[str]], start: str) -> list[str] | None:
    """A path start → ... → start through the parents, if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for parent in graph.get(node, ()):
            if parent == start:
                return [*path, start]
            if parent not in seen:
                seen.add(parent)
                stack.append((parent, [*path, parent]))
    return None


def blocking_parent(parents: Sequence[str], is_down: Callable[[str], bool]) -> str | None:
    """The first parent that is down (so a failing child is blocked by it), else None."""
    return next((parent for parent in parents if is_down(parent)), None)
