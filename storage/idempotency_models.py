"""Tables: idempotency."""

from __future__ import annotations
