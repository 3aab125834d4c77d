"""Two files the installed app reads, which are no package's data.

storage/migrate.py reads alembic.ini next to the packages (the checkout's root, or the root of
site-packages), and Streamlit reads .streamlit/config.toml next to the script it runs (the
checkout's root, or upwatch_app/ in a wheel, where pyproject.toml puts app.py, router.py and
pages/). Everything else is declared in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

# Where each file goes in the wheel.
FILES_BESIDE_APP = {"alembic.ini": "alembic.ini",
                    ".streamlit/config.toml": "upwatch_app/.streamlit/config.toml"}


class BuildWithFilesBesideApp(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install runs from the checkout, where the files already are
        for name, place in FILES_BESIDE_APP.items():
            target = Path(self.build_lib) / place
            self.mkpath(str(target.parent))
            self.copy_file(name, str(target))


setup(cmdclass={"build_py": BuildWithFilesBesideApp})
