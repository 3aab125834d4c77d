"""The database handles that code above storage holds: it passes them back to storage functions
and never runs a statement on them itself."""

from sqlalchemy import Connection
from sqlalchemy.engine import Engine

__all__ = ["Connection", "Engine"]
