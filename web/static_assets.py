"""Streamlit's own static files (its JavaScript, style sheets and fonts), sent from memory.

A first visit to the status page fetches ~75 of them (2 MB of JavaScript). Streamlit's handler
answers each through its middleware stack and Starlette's `StaticFiles`, which looks the file up
and reads it on worker threads: ~90 ms of the server's CPU per visit with a cold cache (measured
on the badge benchmark's server), on a machine whose cores the visitors' first loads keep busy.
Here each file is read once, and every later request for it is answered with the same bytes and
the same headers Streamlit gives it (type, length, ETag, Last-Modified, and the year-long
immutable caching of its hashed bundles).

Only exact file names under Streamlit's static folder, for GET and HEAD without a Range header;
anything else (a range, an unknown name, a path with a dot segment) goes to Streamlit as before.
"""

from __future__ import annotations

import hashlib
import re
from email.utils import formatdate
from mimetypes import guess_type
from pathlib import Path

import anyio.to_thread
import streamlit
from starlette.types import Receive, Scope, Send

from readmodel.prepared import PreparedResponse

STATIC_DIR = Path(streamlit.__file__).parent / "static"
PREFIX = "/static/"
# Streamlit's asset folders; each name is a plain file name (no dot segments, no separators).
_ASSET_PATH = re.compile(r"/static/(?:js|css|media)/[A-Za-z0-9_@~+-][A-Za-z0-9_.@~+-]*")
# What Streamlit sends with its hashed bundles (STATIC_ASSET_CACHE_MAX_AGE_SECONDS).
CACHE_CONTROL = "public, immutable, max-age=31536000"
MAX_CACHED_BYTES = 64 * 1024 * 1024  # more than the whole folder holds
# Names looked up and not found: the folder is the installed package's, it does not change while
# the server runs. Bounded, since anyone can ask for any name.
MAX_MISSING_NAMES = 4096


def is_asset_request(scope: Scope) -> bool:
    """Whether this request is one for a file of the folder that StaticAssets can answer: a GET
    or HEAD of an exact file name, without a Range header."""
    if scope["method"] not in ("GET", "HEAD") or _ASSET_PATH.fullmatch(scope["path"]) is None:
        return False
    return not any(name == b"range" for name, _ in scope["headers"])


class StaticAssets:
    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self._directory = directory
        self._answers: dict[str, PreparedResponse] = {}
        self._cached_bytes = 0
        self._missing: set[str] = set()

    def serves(self, scope: Scope) -> bool:
        """Whether this request is one for a file of the folder that this can answer."""
        return is_asset_request(scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Send the file, and return True; False when there is no such file (Streamlit answers
        that request instead)."""
        path = scope["path"]
        answer = self._answers.get(path)
        if answer is None:
            if path in self._missing:
                return False
            answer = await anyio.to_thread.run_sync(self._load, path)
            if answer is None:
                return False
        await answer(scope, receive, send)
        return True

    def _load(self, path: str) -> PreparedResponse | None:
        file = self._directory / path.removeprefix("/")
        try:
            stat = file.stat()
            if not file.is_file():
                raise FileNotFoundError(path)
            body = file.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            if len(self._missing) < MAX_MISSING_NAMES:
                self._missing.add(path)
            return None
        except OSError:  # another error (out of file descriptors, say) may not last
            return None
        media_type = guess_type(file.name)[0] or "text/plain"
        if media_type.startswith("text/"):
            media_type += "; charset=utf-8"
        # The ETag Starlette's FileResponse gives the same file, so a browser's cached copy
        # from before still revalidates.
        tag = hashlib.md5(f"{stat.st_mtime}-{stat.st_size}".encode(), usedforsecurity=False)
        answer = PreparedResponse(
            body, media_type, CACHE_CONTROL, f'"{tag.hexdigest()}"',
            extra_headers=(("last-modified", formatdate(stat.st_mtime, usegmt=True)),
                           ("accept-ranges", "bytes")))
        if self._cached_bytes + len(body) <= MAX_CACHED_BYTES:
            self._answers[path] = answer
            self._cached_bytes += len(body)
        return answer
