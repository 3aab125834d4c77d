"""Declared dependencies are the imported ones (deptry): nothing imported rides on another
package's requirements, nothing declared goes unused."""

from __future__ import annotations

from tests.test_code_rules import _assert_clean, _run

# Used by name at run time, never imported: Streamlit's st.login loads Authlib, SQLAlchemy loads
# psycopg for a postgresql+psycopg:// URL.
LOADED_BY_NAME = "Authlib|psycopg"


def test_declared_dependencies_are_the_imported_ones() -> None:
    _assert_clean(_run(
        "deptry", ".", "--no-ansi",
        # The test extra is for tests/ (left out, as deptry does by default) and bench/ (not
        # shipped); the product must not import from it.
        "--pep621-dev-dependency-groups", "test", "--extend-exclude", "bench",
        "--per-rule-ignores", f"DEP002={LOADED_BY_NAME}",
    ))
