"""Copy-ready Markdown and HTML for each badge of a monitor."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote

BADGE_KINDS: tuple[tuple[str, str, str], ...] = (
    # (title, path after /badge/{slug}/, query)
    ("Status", "status", ""),
    ("Uptime (30 days)", "uptime", "?window=30d"),
    ("Uptime (1 year)", "uptime", "?window=1y"),
    ("Latency p95 (24 hours)", "latency", "?q=p95&window=24h"),
    ("Certificate days left", "cert", ""),
)


@dataclass(frozen=True, slots=True)
class Snippet:
    title: str
    image_url: str
    json_url: str
    markdown: str
    html: str


def _markdown_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def badge_snippets(base_url: str, slug: str, name: str, https: bool) -> list[Snippet]:
    """Snippets for every badge of a monitor; the certificate badge only for TLS targets.
    Links point at the public status page."""
    base = base_url.rstrip("/")
    page = f"{base}/status"
    found = []
    for title, kind, query in BADGE_KINDS:
        if kind == "cert" and not https:
            continue
        path = f"{base}/badge/{quote(slug)}/{kind}"
        image, data = f"{path}.svg{query}", f"{path}.json{query}"
        alt = f"{name}: {title.lower()}"
        found.append(Snippet(
            title, image, data,
            markdown=f"[![{_markdown_text(alt)}]({image})]({page})",
            html=f'<a href="{escape(page)}"><img src="{escape(image)}" alt="{escape(alt)}"></a>',
        ))
    return found


def overall_snippet(base_url: str) -> Snippet:
    base = base_url.rstrip("/")
    image = f"{base}/badge/status.svg"
    page = f"{base}/status"
    return Snippet("Whole status page", image, f"{base}/badge/status.json",
                   markdown=f"[![Status]({image})]({page})",
                   html=f'<a href="{escape(page)}"><img src="{escape(image)}" alt="Status"></a>')
