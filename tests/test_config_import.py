"""The Configuration page: a pasted upwatch.yaml shows the dry run's changes, Apply makes them
(audited as the signed-in user), a wrong file shows its problems with lines and columns and
changes nothing, the export is offered for download, and only admins reach it."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from config.document_positions import with_positions
from domain.roles import ADMIN, EDITOR, VIEWER
from storage.audit import audit_page
from storage.monitors import get_monitor, list_monitors
from storage.users import add_user
from tests.pages_support import signed_in_as
from ui.config_import import TEXT_KEY

PASSWORD = "a long passphrase"
DOCUMENT = """\
monitors:
  - name: API
    url: http://127.0.0.1:9/health
    interval: 30
  - name: Heartbeat
    kind: push
maintenance:
  - title: Backups
    cron: "0 2 * * 0"
    duration_minutes: 60
    monitor: api
"""
WRONG = """\
monitors:
  - name: API
    url: ftp://127.0.0.1/
  - name: DB
    url: http://127.0.0.1:9/
    colour: red
"""


def _as(role: str, name: str = "ada") -> AppTest:
    add_user(name, role, PASSWORD, actor="admin")
    return signed_in_as("configuration.py", name)


def _show_changes(at: AppTest, text: str) -> AppTest:
    at.text_area(key=TEXT_KEY).input(text).run()
    next(b for b in at.button if b.label == "Show changes").click().run()
    assert not at.exception, at.exception
    return at


def test_a_pasted_file_shows_its_changes_then_applies_them_as_the_user() -> None:
    at = _show_changes(_as(ADMIN), DOCUMENT)
    (diff,) = [block.value for block in at.code]
    assert {"+ monitor api", "+ monitor heartbeat", '+ maintenance "Backups"'} <= set(
        diff.splitlines())
    assert list_monitors() == []  # shown, not yet applied
    apply = next(b for b in at.button if b.label.startswith("Apply"))
    assert apply.label == "Apply 3 changes"
    apply.click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Applied: changed 3 objects."]
    assert {m.slug for m in list_monitors()} == {"api", "heartbeat"}
    api = get_monitor("api")
    assert api is not None and api.interval == 30
    assert {entry.actor for entry in audit_page()
            if entry.subject_kind in ("monitor", "maintenance")} == {"ada"}
    # The same file again changes nothing; the export downloads what is there now.
    again = _show_changes(at, DOCUMENT + "\n")
    assert [i.value for i in again.info] == ["Upwatch already matches this file."]
    (download,) = again.get("download_button")
    assert download.proto.label == "Export upwatch.yaml" and download.proto.url


def test_a_wrong_file_shows_each_problem_with_its_line_and_column_and_changes_nothing() -> None:
    at = _show_changes(_as(ADMIN), WRONG)
    assert at.error[0].value.startswith("This file was not applied, nothing changed")
    (problems,) = [block.value.splitlines() for block in at.code]
    assert problems[0].startswith("line 3, column 5: monitors[0].url: 'ftp' URLs are not")
    assert problems[1:] == ["line 6, column 5: monitors[1].colour: unknown field"]
    assert not [b for b in at.button if b.label.startswith("Apply")]
    assert list_monitors() == []
    broken = _show_changes(at, "monitors: [a: b: c]")
    assert "line 1, column 16" in broken.code[0].value


def test_viewers_and_editors_cannot_reach_it() -> None:
    for role, name in ((VIEWER, "vera"), (EDITOR, "ed")):
        at = _as(role, name)
        assert "for admins only" in at.warning[0].value
        assert not at.text_area and not at.get("download_button")


def test_positions_name_the_key_or_the_deepest_part_of_its_path_in_the_file() -> None:
    text = "monitors:\n  - name: API\n    url: x\nrouting:\n  api: []\n"
    assert with_positions(text, [
        "monitors[0].url: bad", "monitors[0].interval: missing", "routing.api: no",
        "escalation: gone", "not valid YAML at line 9, column 1: ...",
    ]) == [
        "line 3, column 5: monitors[0].url: bad",
        "line 2, column 5: monitors[0].interval: missing",
        "line 5, column 3: routing.api: no",
        "line 1, column 1: escalation: gone",
        "not valid YAML at line 9, column 1: ...",
    ]
