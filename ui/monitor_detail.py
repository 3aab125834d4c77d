"""Small texts of one monitor that its page's parts share: the push URL, the timing phases."""

from __future__ import annotations


def push_url(public_url: str, token: str) -> str:
    """Where a cron job or service sends its heartbeat."""
    return f"{public_url.rstrip('/')}/api/v1/push/{token}"


def phases_text(phases: dict[str, float]) -> str:
    return " · ".join(f"{name} {ms:.1f} ms" for name, ms in phases.items())
