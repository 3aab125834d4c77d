"""The notification template language: which fields a template may use, what it may do, and
rendering it with every field value escaped for the place the text goes.

Templates are Jinja2 run in `ImmutableSandboxedEnvironment`, narrowed further so that no
template can take long or grow large, whatever its author writes:
- only output, `{% if %}`, fields, constants, operators, whitelisted filters and tests: no loops,
  no `{% set %}`, no macros, calls, attribute access, includes or imports. Without loops or
  assignment, a template's running time and its output follow its own length;
- `*`, `%` and `+` are checked as they run (no string repeated past the output limit, no
  `"%s" % ...` formatting), `**` is refused;
- the output is read in pieces and stopped past `MAX_OUTPUT_CHARS`.

Field values are escaped by `finalize`, which Jinja applies to every `{{ ... }}` and never to the
author's own text: a monitor named `<!channel>` cannot ping a Slack channel, while an author may
still write `<!channel>` in the template itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_TEMPLATE_CHARS = 4000
MAX_OUTPUT_CHARS = 10_000

# What a template may use; the dashboard shows this list beside every template field.
TEMPLATE_FIELDS: dict[str, str] = {
    "kind": "down, up, degraded, certificate, maintenance_start, maintenance_end, flapping, "
            "reminder, acknowledged, test, rule_firing or rule_resolved",
    "label": "what happened, in capitals: DOWN, UP, STILL DOWN...",
    "headline": "a sentence naming the monitor and what happened: 'API is down'",
    "monitor_name": "the monitor's name",
    "monitor_slug": "the monitor's URL-safe name",
    "state": "the monitor's new state: up, down, degraded...",
    "reason": "why, as the probe said it ('HTTP 503'); empty when there is none",
    "since": "when the new state began: 2024-05-01 14:02:00 UTC",
    "since_time": "the same, time only: 14:02 UTC",
    "downtime": "on recovery, how long it was down ('1h 5m'); empty otherwise",
    "downtime_seconds": "the same in seconds (a number); empty otherwise",
    "dashboard_url": "the monitor's page in Upwatch",
    "status_url": "the public status page",
    "ack_url": "the link that acknowledges the outage; empty when there is none",
    "runbook_url": "the monitor's runbook; empty when it has none",
    "severity": "the incident's (else the monitor's) severity: critical, high, medium or low",
    "priority": "the same as P1 (critical) .. P4 (low)",
}

# The config keys that hold templates, per channel kind (empty: the built-in text).
TEMPLATE_KEYS: dict[str, tuple[str, ...]] = {
    "slack_webhook": ("text_template",),
    "slack_bot": ("text_template",),
    "sms": ("text_template",),
    "email": ("subject_template", "body_template"),
    "webhook": ("text_template",),
    "pagerduty": ("summary_template",),
}
ALL_TEMPLATE_KEYS = frozenset(key for keys in TEMPLATE_KEYS.values() for key in keys)

ALLOWED_FILTERS = frozenset({
    "abs", "capitalize", "count", "d", "default", "first", "float", "int", "last", "length",
    "lower", "replace", "round", "string", "title", "trim", "truncate", "upper", "urlencode",
    "wordcount",
})

# Node types a template may hold, with the reason the others are refused.
_ALLOWED_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.Name, nodes.Const,
    nodes.CondExpr, nodes.And, nodes.Or, nodes.Not, nodes.Neg, nodes.Pos, nodes.Compare,
    nodes.Operand, nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod,
    nodes.Concat, nodes.Filter, nodes.Test, nodes.Getitem, nodes.Slice, nodes.Keyword,
)
_REFUSED_WHY: tuple[tuple[type[nodes.Node], str], ...] = (
    (nodes.For, "loops ({% for %}) are not available in notification templates"),
    (nodes.Assign, "{% set %} is not available in notification templates"),
    (nodes.AssignBlock, "{% set %} is not available in notification templates"),
    (nodes.Getattr, "attribute access (a.b) is not available: use the fields as they are"),
    (nodes.Call, "calling functions or methods is not available: use filters (| upper)"),
    (nodes.Pow, "** is not available in notification templates"),
)

Escape = Callable[[str], str]


class TemplateRefused(ValueError):
    """A template that may not be saved or run; the message names the line and what to fix."""


def plain(text: str) -> str:
    """No escaping: plain text (SMS, webhook JSON, e-mail's text part)."""
    return text


def _bounded_replace(value: object, old: object, new: object, count: int | None = None) -> str:
    text, old_text, new_text = str(value), str(old), str(new)
    hits = text.count(old_text) if count is None else min(text.count(old_text), max(count, 0))
    if len(text) + hits * (len(new_text) - len(old_text)) > MAX_OUTPUT_CHARS:
        raise SecurityError(f"the text would be longer than {MAX_OUTPUT_CHARS} characters")
    return text.replace(old_text, new_text, -1 if count is None else count)


def _sized(value: object) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


class _NoticeSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "%", "+", "**"})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return False  # fields are plain values: nothing of theirs is worth reaching

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("** is not available in notification templates")
        if operator == "%" and isinstance(left, str):
            raise SecurityError("% formatting is not available: use ~ to join text")
        if operator == "*" and isinstance(left, int | str) and isinstance(right, int | str):
            # A string repeated: refused before it is built, not after.
            text, times = (left, right) if isinstance(left, str) else (right, left)
            if isinstance(text, str) and isinstance(times, int) and (
                    len(text) * times > MAX_OUTPUT_CHARS):
                raise SecurityError(f"the text would be longer than {MAX_OUTPUT_CHARS} characters")
        result = super().call_binop(context, operator, left, right)
        if _sized(result) > MAX_OUTPUT_CHARS:
            raise SecurityError(f"the text would be longer than {MAX_OUTPUT_CHARS} characters")
        return result

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        raise SecurityError("calling functions or methods is not available")


@lru_cache(maxsize=8)
def _environment(escape: Escape) -> _NoticeSandbox:
    def finalize(value: object) -> str:
        # Every {{ ... }}, never the author's own text: this is where field values are escaped.
        return "" if value is None else escape(value if isinstance(value, str) else str(value))

    environment = _NoticeSandbox(undefined=StrictUndefined, finalize=finalize, autoescape=False,
                                 keep_trailing_newline=True)
    environment.globals.clear()
    environment.filters = {name: environment.filters[name] for name in ALLOWED_FILTERS}
    environment.filters["replace"] = _bounded_replace
    return environment


def _refusal(node: nodes.Node) -> str | None:
    for node_type, why in _REFUSED_WHY:
        if isinstance(node, node_type):
            return why
    if not isinstance(node, _ALLOWED_NODES):
        return f"{{% {type(node).__name__.lower()} %}} is not available in notification templates"
    if isinstance(node, nodes.Name) and node.name not in TEMPLATE_FIELDS:
        return f"unknown field {node.name!r} (the fields are: {', '.join(TEMPLATE_FIELDS)})"
    if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
        return (f"unknown filter {node.name!r} (the filters are: "
                f"{', '.join(sorted(ALLOWED_FILTERS))})")
    if isinstance(node, nodes.Getitem) and not (
            isinstance(node.arg, nodes.Slice)
            or (isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, int))):
        return "only positions and slices may be taken from a field: reason[:40]"
    return None


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


@lru_cache(maxsize=256)
def _compiled(source: str, escape: Escape) -> Any:
    """The template, checked; TemplateRefused says which line is wrong and why."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateRefused(f"the template is longer than {MAX_TEMPLATE_CHARS} characters")
    environment = _environment(escape)
    try:
        tree = environment.parse(source)
        for node in _walk(tree):
            why = _refusal(node)
            if why is not None:
                raise TemplateRefused(f"line {node.lineno}: {why}")
        return environment.from_string(tree)
    except TemplateSyntaxError as error:
        raise TemplateRefused(f"line {error.lineno}: {error.message}") from None
    except RecursionError:
        raise TemplateRefused("the template is nested too deeply") from None


def check_template(source: str) -> None:
    """Raise TemplateRefused when `source` could never be rendered (syntax, unknown field, a
    construct that is not available)."""
    _compiled(source, plain)


def template_settings(config: Mapping[str, object]) -> dict[str, str]:
    """The templates among a channel's settings (all an environment channel's row holds)."""
    return {key: str(value) for key, value in config.items()
            if key in ALL_TEMPLATE_KEYS and value}


def template_errors(kind: str, config: Mapping[str, object]) -> dict[str, str]:
    """config key -> what is wrong with the template there, for the templates of `kind`."""
    errors: dict[str, str] = {}
    for key in TEMPLATE_KEYS.get(kind, ()):
        source = str(config.get(key) or "")
        if not source.strip():
            continue
        try:
            check_template(source)
        except TemplateRefused as refused:
            errors[key] = str(refused)
    return errors


def render(source: str, values: Mapping[str, object], escape: Escape = plain) -> str:
    """`source` rendered with `values` escaped by `escape`.

    Raises TemplateRefused for a template that cannot run, and any other exception a rendering
    may meet (a field that is empty where arithmetic needs a number...): callers fall back.
    """
    template = _compiled(source, escape)
    pieces: list[str] = []
    size = 0
    stream = template.generate(dict(values))
    try:
        for piece in stream:
            size += len(piece)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateRefused(f"the text is longer than {MAX_OUTPUT_CHARS} characters")
            pieces.append(piece)
    except SecurityError as refused:
        raise TemplateRefused(str(refused)) from None
    finally:
        stream.close()
    return "".join(pieces)
