"""OpenAPI links between the operations on one resource, derived from the document itself.

An answer that is a resource (its schema the `$ref` the resource's `GET .../{param}` answers
with) links to every operation under that resource's path, the parameter taken from the answer's
body: `POST /monitors` -> `GET|PATCH|DELETE /monitors/{slug}`, `GET /monitors/{slug}/results.{fmt}`,
and every route added later under it. Clients (and the API's fuzz test) follow them from a create
to the reads, changes and the delete of what it made.
"""

from __future__ import annotations

import re
from typing import Any

_ITEM = re.compile(r"(?P<base>.*)/\{(?P<param>\w+)\}")
_METHODS = ("get", "put", "post", "delete", "patch")
_NOT_IN_NAMES = re.compile(r"[^A-Za-z0-9._-]+")


def _pointer(path: str) -> str:
    """`#/paths/~1api~1v1~1monitors~1{slug}` (JSON Pointer escapes, RFC 6901)."""
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1")


def _link_name(method: str, path: str) -> str:
    """`patch_api_v1_monitors_slug`: a link's name follows the rule of component names."""
    return _NOT_IN_NAMES.sub("_", f"{method}{path}".replace("{", "").replace("}", "")).strip("_")


def _answer_ref(answer: dict[str, Any]) -> str | None:
    schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref")
    return ref if isinstance(ref, str) else None


def _resources(paths: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Schema `$ref` -> (the resource's path, its parameter), from each `GET .../{param}`."""
    found: dict[str, tuple[str, str]] = {}
    for path, item in paths.items():
        match = _ITEM.fullmatch(path)
        read = item.get("get", {}).get("responses", {}).get("200")
        ref = _answer_ref(read) if match and read else None
        if match and ref:
            found.setdefault(ref, (path, match["param"]))
    return found


def _targets(paths: dict[str, Any], resource: str) -> list[tuple[str, str]]:
    """Every (path, method) at `resource` or under it."""
    return [(path, method) for path, item in paths.items()
            if path == resource or path.startswith((f"{resource}/", f"{resource}."))
            for method in _METHODS if method in item]


def with_links(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """`paths` with each resource answer linked to the operations on that resource. Links
    already written are kept; answers shared between operations are copied, not changed."""
    resources = _resources(paths)
    linked: dict[str, Any] = {}
    for path, item in paths.items():
        linked[path] = item = dict(item)
        for method in _METHODS:
            if method not in item:
                continue
            item[method] = operation = dict(item[method])
            operation["responses"] = answers = dict(operation["responses"])
            for status, answer in answers.items():
                ref = _answer_ref(answer) if status.startswith("2") else None
                if ref is None or ref not in resources:
                    continue
                resource, param = resources[ref]
                name = ref.rsplit("/", 1)[-1]
                if param not in schemas.get(name, {}).get("properties", {}):
                    continue
                links = {_link_name(verb, target): {
                    "operationRef": f"{_pointer(target)}/{verb}",
                    "parameters": {param: f"$response.body#/{param}"}}
                    for target, verb in _targets(paths, resource)
                    if (target, verb) != (path, method)}
                answers[status] = {**answer, "links": {**links, **answer.get("links", {})}}
    return linked
