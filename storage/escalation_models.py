"""Tables: escalation."""

from __future__ import annotations
