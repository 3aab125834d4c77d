"""Where Upwatch's own pages live: every link to them (notifications, pages) is built here.

A site path ("/monitor?slug=api", LOGIN_PATH) is relative to where the app is served. Served
under a base path (`--server.baseUrlPath upwatch`), what a browser is sent (a link, a
redirect) is the site path under the base (`under_base`); links in notifications are built from
the public URL, which then ends with the base path (https://example.com/upwatch).
"""

from __future__ import annotations

from urllib.parse import quote


def _base(public_url: str) -> str:
    return public_url.rstrip("/")


def monitor_path(slug: str) -> str:
    """The monitor detail page, relative to the site: `/monitor?slug=<slug, URL-quoted>`."""
    return f"/monitor?slug={quote(slug, safe='')}"


def monitor_url(public_url: str, slug: str) -> str:
    return _base(public_url) + monitor_path(slug)


def incidents_url(public_url: str) -> str:
    """The admins' list of incidents."""
    return f"{_base(public_url)}/incidents"


def incident_path(incident_id: int) -> str:
    """One incident alone on the incidents page, relative to the site."""
    return f"/incidents?id={int(incident_id)}"


def incident_url(public_url: str, incident_id: int) -> str:
    return _base(public_url) + incident_path(incident_id)


def status_url(public_url: str) -> str:
    return f"{_base(public_url)}/status"


def home_url(public_url: str) -> str:
    return f"{_base(public_url)}/"


def ack_url(public_url: str, token: str) -> str:
    """The acknowledgement page (web/ack.py serves `/ack`) for one signed token."""
    return f"{_base(public_url)}/ack?t={quote(token, safe='')}"


LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
MAX_NEXT_CHARS = 2000


def safe_next(target: str | None) -> str:
    """`target` when it is a path on this site ("/incidents?id=3"), else "/": no other host
    ("//evil.example", "https://evil.example", "/\\evil.example"), no control characters or
    spaces (browsers drop tabs and newlines, which would turn "/\\t/x" into "//x")."""
    if (not target or len(target) > MAX_NEXT_CHARS or not target.startswith("/")
            or target.startswith("//") or "\\" in target
            or any(ch.isspace() or not ch.isprintable() for ch in target)):
        return "/"
    return target


def login_path(next_path: str) -> str:
    """The sign-in page, returning to `next_path` (a path on this site) afterwards."""
    return f"{LOGIN_PATH}?next={quote(safe_next(next_path), safe='')}"


def base_path_of(option: str | None) -> str:
    """Streamlit's `server.baseUrlPath` ("upwatch", "/upwatch/", "a/b") as a path prefix
    ("/upwatch", "/a/b"); "" when the app is served at the root. Segments are read as Streamlit
    reads them (surrounding slashes dropped)."""
    stripped = (option or "").strip("/")
    return f"/{stripped}" if stripped else ""


def under_base(base: str, path: str) -> str:
    """The path a browser needs for the site path `path` ("/login?next=%2F") when the app is
    served under `base` (from `base_path_of`)."""
    return base + path if path.startswith("/") else path


def below_base(base: str, path: str) -> str:
    """The site path of a path the browser shows ("/upwatch/incidents" -> "/incidents"); a path
    outside `base` is returned as it is."""
    if not base or not (path == base or path.startswith(base + "/")):
        return path
    return path[len(base):] or "/"
