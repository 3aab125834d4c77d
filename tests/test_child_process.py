"""Children (the probe engine, the read-model builder) start without re-running the parent's
main script: in the product that script is Streamlit's command line, whose imports would load
all of Streamlit into every child."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PARENT = """
import heavy_marker  # what the main script imports, as Streamlit's command line does
from processes.child_process import PipedChild
import child_target

answers = []
child = PipedChild.spawn("probe", child_target.report, (), lambda pipe: answers.append(pipe.recv()))
child.process.join(30)
child.reader.join(5)
import __main__
print(answers, __main__.__file__ == __file__)
"""

TARGET = """
import sys

import pytest

def report(pipe):
    pipe.send({"heavy_marker": "heavy_marker" in sys.modules,
               "main": sys.modules["__main__"].__name__})
"""


def test_a_child_does_not_import_what_the_parents_main_script_imports(tmp_path: Path) -> None:
    (tmp_path / "heavy_marker.py").write_text("LOADED = True\n")
    (tmp_path / "child_target.py").write_text(TARGET)
    script = tmp_path / "parent_main.py"
    script.write_text(PARENT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    # The child answers, without the marker, and the parent's main module is itself again.
    assert done.stdout.strip() == "[{'heavy_marker': False, 'main': '__main__'}] True", (
        done.stdout, done.stderr)


NAMED_TARGET = """
from pathlib import Path

def report(pipe):
    pipe.send(Path("/proc/self/comm").read_text().strip())
"""

NAMED_PARENT = """
from processes.child_process import PipedChild
import child_target

answers = []
child = PipedChild.spawn("upwatch-read-model", child_target.report, (),
                         lambda pipe: answers.append(pipe.recv()))
child.process.join(30)
child.reader.join(5)
print(answers)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process names are Linux's")
def test_a_child_shows_its_name_in_ps_and_proc(tmp_path: Path) -> None:
    """ps, top and the whole-product bench tell the children apart by name, not "python3"."""
    (tmp_path / "child_target.py").write_text(NAMED_TARGET)
    script = tmp_path / "parent_main.py"
    script.write_text(NAMED_PARENT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.strip() == "['upwatch-read-mo']", (done.stdout, done.stderr)  # 15 bytes
