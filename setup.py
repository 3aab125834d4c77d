"""Two files the installed app reads beside app.py, which are no package's data.

storage/migrate.py reads alembic.ini next to the packages, and Streamlit reads
.streamlit/config.toml next to the script it runs: in a checkout that is the checkout's root, in
a wheel the root of site-packages. Everything else is declared in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

FILES_BESIDE_APP = ("alembic.ini", ".streamlit/config.toml")


class BuildWithFilesBesideApp(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install runs from the checkout, where the files already are
        for name in FILES_BESIDE_APP:
            target = Path(self.build_lib) / name
            self.mkpath(str(target.parent))
            self.copy_file(name, str(target))


setup(cmdclass={"build_py": BuildWithFilesBesideApp})
