"""Tables: rule."""

from __future__ import annotations
