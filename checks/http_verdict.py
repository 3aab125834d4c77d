"""Judging an HTTP response against the monitor's options: status, keyword, JSON assertion,
certificates and the degraded-above latency, in that order; the first failure is the reason."""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx

from checks.http_certificates import CertificateFacts, judge_certificates
from checks.tcp_probe import elapsed_ms
from domain.check_options import HttpOptions, JsonAssertion, show_json_value
from domain.result import Outcome


def judge_response(
    options: HttpOptions,
    response: httpx.Response,
    content: bytes,
    truncated: bool,
    certificates: Sequence[CertificateFacts],
    started: float,
) -> tuple[Outcome, str | None]:
    """The outcome and its reason; `content` is the body read (cut at the cap when
    `truncated`), `started` the perf_counter() instant the check began."""
    if not options.accepts_status(response.status_code):
        return "down", f"HTTP {response.status_code}"
    if options.keyword is not None:
        text = content.decode(response.charset_encoding or "utf-8", errors="replace")
        found = options.keyword in text
        if found and options.keyword_absent:
            return "down", f"keyword {options.keyword!r} found"
        if not found and not options.keyword_absent:
            where = " in the first 1 MiB" if truncated else ""
            return "down", f"keyword {options.keyword!r} not found{where}"
    if options.json_assertion is not None:
        failure = check_json(options.json_assertion, content, truncated)
        if failure:
            return "down", failure
    outcome, reason = judge_certificates(certificates, options)
    if outcome != "up":
        return outcome, reason
    threshold = options.degraded_above_ms
    latency = elapsed_ms(started)
    if threshold is not None and latency > threshold:
        return "degraded", f"slow response: {latency:.0f} ms (over {threshold:g} ms)"
    return "up", None


def check_json(assertion: JsonAssertion, content: bytes, truncated: bool = False) -> str | None:
    """None when the assertion holds, else the reason it does not."""
    try:
        document = json.loads(content)
    except ValueError:
        return "response is not JSON" + (" (first 1 MiB read)" if truncated else "")
    value: object = document
    for step in assertion.steps:
        in_list = isinstance(step, int) and isinstance(value, list) and step < len(value)
        in_object = isinstance(step, str) and isinstance(value, dict) and step in value
        if in_list or in_object:
            value = value[step]  # type: ignore[index]
        else:
            return f"JSON assertion failed: {assertion.describe()} (no value at {assertion.path})"
    if _holds(assertion.op, value, assertion.expected_value, assertion.expected):
        return None
    return f"JSON assertion failed: {assertion.describe()} (got {show_json_value(value)})"


def _holds(op: str, actual: object, expected: object, expected_text: str) -> bool:
    # `expected` was read as JSON where it parsed; a string field compared with `200` should
    # still match "200", so strings also compare with the text as typed.
    if op in ("==", "!="):
        equal = actual == expected or (isinstance(actual, str) and actual == expected_text)
        if isinstance(actual, bool) != isinstance(expected, bool) and not isinstance(actual, str):
            equal = False  # 1 == true in Python, not in JSON
        return equal if op == "==" else not equal
    if op in ("<", ">"):
        numbers = (int, float)
        if not isinstance(actual, numbers) or isinstance(actual, bool):
            return False
        if not isinstance(expected, numbers) or isinstance(expected, bool):
            return False
        return actual < expected if op == "<" else actual > expected
    if op == "contains":
        if isinstance(actual, str):
            return expected_text in actual or str(expected) in actual
        if isinstance(actual, list):
            return expected in actual or expected_text in actual
        if isinstance(actual, dict):
            return expected_text in actual
    return False


__all__ = ["check_json", "judge_response"]
