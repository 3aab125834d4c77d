"""The REST API fuzzed against its own OpenAPI document (schemathesis), on the real server.

`streamlit run app.py` serves Upwatch on a free port over a SQLite file, with the admin token.
Every operation the served document lists (so routes added later are fuzzed too) gets generated
requests, valid and invalid ones; then call sequences follow the document's links, from a create
to the reads, changes and the delete of what it made. Every answer: no server error, and the
status, content type, headers and body the document describes; an operation that needs a token
refuses without it. After every refused request (4xx) the database holds exactly the rows it
held before (read from the file, read-only).

The server reaches nothing outside this machine: no probe engine runs, probes may connect to no
address, names resolve through a DNS port nothing listens on, and HTTP clients get a proxy
that refuses.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import FlakyStrategyDefinition, Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.errors import FailureGroup

from tests.conftest import free_port
from tests.server_process import ROOT, UpwatchServer, running_server
from web.openapi_links import with_links

TOKEN = "fuzz-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# What "matches the document" means: each answer alone (and an operation that needs a token,
# sent again without one or with a wrong one, refuses), and in sequences a created resource can
# be read and a deleted one cannot.
ANSWER_CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
                 "response_headers_conformance", "response_schema_conformance", "ignored_auth")
SEQUENCE_CHECKS = (*ANSWER_CHECKS, "use_after_free", "ensure_resource_availability")
# Generated requests per operation and mode, from a total that keeps the run near 20 s however
# many operations the document lists.
REQUESTS_IN_ALL = 400
EXAMPLES_PER_OPERATION = (4, 20)
SEQUENCE_RUNS, SEQUENCES_PER_RUN = 3, 10
# Sending a test notification reaches the channel's address, which here is generated text.
SENDS_OUT = r".*/test$"
# Bodies a create accepts, mixed into the generated ones (a fifth of them) where the document
# gives no examples: random text seldom makes a valid monitor, and the sequences start there.
EXAMPLE_BODIES: dict[str, list[dict[str, Any]]] = {
    "/api/v1/monitors": [{"name": "Heartbeat", "kind": "push"},
                         {"name": "Web", "url": "http://127.0.0.1:9/", "interval": 30}],
    "/api/v1/maintenance": [{"title": "Backups", "cron": "0 2 * * 0", "duration_minutes": 60}],
    "/api/v1/incidents": [{"title": "Slow answers", "message": "Looking into it"}],
    "/api/v1/incidents/{id}/updates": [{"status": "identified", "message": "Found it"}],
    "/api/v1/monitors/{slug}/clone": [{"name": "Copy"}],
    "/api/v1/channels": [{"name": "hooks", "kind": "webhook", "events": ["down", "up"],
                          "settings": {"url": "http://127.0.0.1:9/hook"}}],
    "/api/v1/tokens": [{"name": "ci", "scope": "read"}],
    "/api/v1/users": [{"username": "ada", "role": "viewer", "password": "a long passphrase"}],
}


def _quiet_environment(database: Path) -> dict[str, str]:
    refused = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    return {
        **{key: value for key, value in os.environ.items() if not key.startswith("UPWATCH_")},
        "UPWATCH_DATABASE_URL": f"sqlite:///{database}",
        "UPWATCH_ADMIN_PASSWORD": "correct horse",
        "UPWATCH_API_TOKEN": TOKEN,
        "UPWATCH_API_REQUESTS_PER_MINUTE": "1000000",
        "UPWATCH_ACK_REQUESTS_PER_MINUTE": "1000000",
        "UPWATCH_PROBES": "false",
        "UPWATCH_PROBE_DENY_NETS": "0.0.0.0/0,::/0",
        "UPWATCH_PROBE_RESOLVER": f"127.0.0.1:{free_port()}",
        "HTTP_PROXY": refused, "HTTPS_PROXY": refused, "ALL_PROXY": refused,
        "NO_PROXY": "",
    }


class DatabaseWatch:
    """The SQLite file's rows, read-only. SQLite's data_version tells when another connection
    committed, so the tables are read again only after a commit, not around every request."""

    def __init__(self, database: Path) -> None:
        self.connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True,
                                          isolation_level=None)
        self.version = -1
        self.rows: dict[str, list[tuple[Any, ...]]] = {}

    def _version(self) -> int:
        return int(self.connection.execute("PRAGMA data_version").fetchone()[0])

    def _read(self) -> dict[str, list[tuple[Any, ...]]]:
        tables = [name for (name,) in self.connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {table: sorted(self.connection.execute(f'SELECT * FROM "{table}"'), key=repr)
                for table in tables}

    def settle(self) -> None:
        """Take what the database holds now as the rows to compare with."""
        if (version := self._version()) != self.version:
            self.rows, self.version = self._read(), version

    def changed_tables(self) -> list[str]:
        """The tables whose rows differ from the last settled ones (and settle)."""
        before, version = self.rows, self.version
        self.settle()
        if self.version == version:
            return []
        return sorted(table for table in {*before, *self.rows}
                      if before.get(table) != self.rows.get(table))


@dataclass
class FuzzedApi:
    server: UpwatchServer
    database: DatabaseWatch
    schema: Any  # schemathesis' OpenApiSchema
    # One reproduction per operation and kind of failure, however often it was met.
    failures: dict[tuple[str, ...], str] = field(default_factory=dict)

    def call(self, case: Case, send: Callable[[], Any]) -> Any:
        """`send()`'s answer; a refusal that changed the database is a failure."""
        self.database.settle()
        response = send()
        if 400 <= response.status_code < 500 and (changed := self.database.changed_tables()):
            self.failures.setdefault(
                (case.operation.label, "refusal changed the database"),
                f"{case.operation.label}: {response.status_code} refused, yet the tables "
                f"{changed} changed\n{_reproduction(case)}")
        return response

    def validate(self, case: Case, response: Any, checks: tuple[str, ...], **kwargs: Any
                 ) -> None:
        try:
            chosen: list[Any] = CHECKS.get_by_names(list(checks))
            case.validate_response(response, checks=chosen, headers=AUTH, **kwargs)
        except FailureGroup as failed:  # every failed check, and the request as a curl command
            kinds = sorted({type(failure).__name__ for failure in failed.exceptions})
            self.failures.setdefault((case.operation.label, *kinds),
                                     f"{case.operation.label}: {failed}")


def _reproduction(case: Case) -> str:
    try:
        return case.as_curl_command(headers=AUTH)
    except Exception:  # a request the command line cannot spell
        return repr(case)


@pytest.fixture(scope="module")
def fuzzed_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzedApi]:
    folder = tmp_path_factory.mktemp("fuzz")
    database = folder / "upwatch.db"
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py",
               "--server.port", str(port), "--server.address", "127.0.0.1"]
    with running_server(command, port, ROOT, _quiet_environment(database),
                        folder / "server.log") as server:
        document = httpx.get(f"{server.url}/api/v1/openapi.json", timeout=10).json()
        document["paths"] = with_links(document["paths"], document["components"]["schemas"])
        _with_example_bodies(document["paths"])
        schema = schemathesis.openapi.from_dict(document).exclude(path_regex=SENDS_OUT)
        schema.config.update(base_url=server.url)
        load_all_checks()
        watch = DatabaseWatch(database)
        try:
            yield FuzzedApi(server, watch, schema)
        finally:
            watch.connection.close()


def _with_example_bodies(paths: dict[str, Any]) -> None:
    for path, bodies in EXAMPLE_BODIES.items():
        create = paths.get(path, {}).get("post", {})
        content = create.get("requestBody", {}).get("content", {}).get("application/json")
        if content is not None and "examples" not in content and "example" not in content:
            content["examples"] = {f"example{n}": {"value": body}
                                   for n, body in enumerate(bodies, 1)}


def _operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def _fuzz(api: FuzzedApi, operation: Any, mode: GenerationMode, examples: int) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def requests(case: Case) -> None:
        response = api.call(case, lambda: case.call(headers=AUTH))
        api.validate(case, response, ANSWER_CHECKS)

    # Some operations have no invalid request to make (no body, only parameters any text fits).
    with suppress(Unsatisfiable):
        requests()


def test_every_operation_answers_as_documented_and_refusals_change_nothing(
    fuzzed_api: FuzzedApi,
) -> None:
    operations = _operations(fuzzed_api.schema)
    assert {"POST /api/v1/monitors", "DELETE /api/v1/monitors/{slug}"} <= {
        operation.label for operation in operations}
    low, high = EXAMPLES_PER_OPERATION
    examples = max(low, min(high, REQUESTS_IN_ALL // (2 * len(operations))))
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(fuzzed_api, operation, mode, examples)
    assert not fuzzed_api.failures, "\n\n".join(fuzzed_api.failures.values())


def test_call_sequences_along_the_links_answer_as_documented(fuzzed_api: FuzzedApi) -> None:
    api = fuzzed_api
    api.failures.clear()
    machine = api.schema.as_state_machine()
    followed: Counter[str] = Counter()

    class Sequences(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"headers": AUTH}

        def call(self, case: Case, **kwargs: Any) -> Any:
            response = api.call(case, lambda: case.call(**kwargs))
            followed[f"{case.operation.label} {response.status_code}"] += 1
            return response

        def validate_response(self, response: Any, case: Case, additional_checks: Any = None,
                              **kwargs: Any) -> None:
            api.validate(case, response, SEQUENCE_CHECKS, transport_kwargs=kwargs,
                         recorder=self.recorder)

    for run in range(SEQUENCE_RUNS):  # seeded, so each run makes the same requests again
        seeded: Any = seed(run)(type(f"Sequences{run}", (Sequences,), {}))
        # A sequence draws from answers that may differ when Hypothesis replays it (the server
        # keeps what earlier sequences made): that ends the run, and the next starts afresh.
        with suppress(FlakyStrategyDefinition):
            seeded.run(settings=settings(
                max_examples=SEQUENCES_PER_RUN, stateful_step_count=8, database=None,
                deadline=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck)))
    # The links were followed: an operation on a resource a sequence made answered with success.
    assert any("{" in step and step.endswith(("200", "201", "204")) for step in followed), followed
    assert not api.failures, "\n\n".join(api.failures.values())
