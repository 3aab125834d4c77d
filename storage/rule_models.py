"""Tables: each alert rule's state (firing or not) and the rule side of each rule event.

The engine evaluates a monitor's rules (domain/window_rules) after each of its results; a rule
that starts or stops holding writes a `rule_state` row and a state_change of kind "rule" with
its `rule_event`, in the transaction that records the result (storage/rule_watch.py): the
state_change is the outbox, so a transition is never lost or sent twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel


class RuleState(SQLModel, table=True):
    """A rule of a monitor that is firing; no row: it is not (or was never evaluated)."""

    __tablename__ = "rule_state"

    monitor_id: int = Field(primary_key=True, foreign_key="monitor.id", ondelete="CASCADE")
    rule_key: str = Field(primary_key=True, max_length=64)  # WindowRule.key
    firing_since: datetime = Field(sa_type=DateTime(timezone=True))
    severity: str = Field(max_length=16)


class RuleEvent(SQLModel, table=True):
    """What a state_change of kind "rule" is about: the rule, its severity, and the value seen."""

    __tablename__ = "rule_event"

    change_id: int = Field(primary_key=True, foreign_key="state_change.id", ondelete="CASCADE")
    rule_key: str = Field(max_length=64)
    severity: str = Field(max_length=16)
    firing: bool  # True: the rule started to hold; False: it stopped
    value: float | None = None  # the percentile, rate, uptime or days left that decided it
