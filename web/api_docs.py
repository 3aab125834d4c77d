"""The API's documentation as a page, at GET /api/v1/docs: every operation of the OpenAPI
document (method, path, summary, parameters, request body, answers) and every schema.

Rendered here from the document itself, so it cannot drift from it, and served as one HTML
answer: no script, no font, nothing fetched from anywhere (its own Content-Security-Policy
says so), every text of the document escaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Container
from functools import cache
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from web.openapi import openapi_document

METHODS = ("get", "post", "put", "patch", "delete")
# The page needs its inline style only.
POLICY = ("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
          "base-uri 'none'; form-action 'none'")
_REF = re.compile(r"&quot;#/components/schemas/([\w.-]+)&quot;")
STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;
color:#1f2328}
h2{border-bottom:1px solid #d0d7de;padding-bottom:.3rem;margin-top:2.5rem}
section{border:1px solid #d0d7de;border-radius:6px;padding:.2rem 1rem;margin:1rem 0}
.method{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}
.get{color:#0969da}.post{color:#1a7f37}.patch{color:#9a6700}.delete{color:#cf222e}
code,pre{font-family:ui-monospace,monospace;font-size:13px}
pre{background:#f6f8fa;padding:.6rem;border-radius:6px;overflow:auto}
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:.2rem .5rem;
text-align:left;vertical-align:top}
"""


def _schema(schema: Any, known: Container[str]) -> str:
    """A schema as indented JSON, each $ref to a `known` schema a link to it."""
    def link(ref: re.Match[str]) -> str:
        name = ref.group(1)
        return f'<a href="#schema-{name}">{name}</a>' if name in known else ref.group(0)

    return "<pre>" + _REF.sub(link, escape(json.dumps(schema, indent=2, ensure_ascii=False))
                              ) + "</pre>"


def _anchor(method: str, path: str) -> str:
    return method + re.sub(r"[^\w]+", "-", path).strip("-")


def _parameters(parameters: list[dict[str, Any]]) -> str:
    if not parameters:
        return ""
    rows = "".join(
        f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
        f"<td>{'yes' if p.get('required') else 'no'}</td>"
        f"<td><code>{escape(json.dumps(p.get('schema', {})))}</code></td>"
        f"<td>{escape(p.get('description', ''))}</td></tr>" for p in parameters)
    return ("<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th>"
            f"<th>schema</th><th>description</th></tr>{rows}</table>")


def _content(content: dict[str, Any], known: Container[str]) -> str:
    return "".join(f"<p><code>{escape(media)}</code></p>"
                   f"{_schema(body.get('schema', {}), known)}" for media, body in content.items())


def _operation(path: str, method: str, operation: dict[str, Any],
               shared: list[dict[str, Any]], known: Container[str]) -> str:
    parts = [f'<section id="{_anchor(method, path)}"><h3><span class="method {method}">'
             f"{method}</span> <code>{escape(path)}</code></h3>",
             f"<p>{escape(operation.get('description') or operation.get('summary', ''))}</p>",
             _parameters([*shared, *operation.get("parameters", [])])]
    if body := operation.get("requestBody"):
        parts.append("<h4>Request body</h4>" + _content(body.get("content", {}), known))
    parts.append("<h4>Answers</h4>")
    for status, answer in operation.get("responses", {}).items():
        parts.append(f"<p><strong>{escape(status)}</strong> "
                     f"{escape(answer.get('description', ''))}</p>")
        if status.startswith("2"):
            parts.append(_content(answer.get("content", {}), known))
    return "".join(parts) + "</section>"


@cache
def docs_page() -> str:
    document = openapi_document()
    info = document["info"]
    known = document["components"]["schemas"].keys()
    index, operations = [], []
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                summary = item[method].get("summary", "")
                index.append(f'<li><a href="#{_anchor(method, path)}"><span class="method '
                             f'{method}">{method}</span> <code>{escape(path)}</code></a> '
                             f"{escape(summary)}</li>")
                operations.append(_operation(path, method, item[method],
                                             item.get("parameters", []), known))
    schemas = "".join(f'<h3 id="schema-{escape(name)}">{escape(name)}</h3>{_schema(schema, known)}'
                      for name, schema in document["components"]["schemas"].items())
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>'
            f"{escape(info['title'])}</title><style>{STYLE}</style></head><body>"
            f"<h1>{escape(info['title'])} {escape(str(info['version']))}</h1>"
            f"<p>{escape(info.get('description', ''))}</p>"
            '<p>As a document: <a href="openapi.json">openapi.json</a> (OpenAPI '
            f"{escape(document['openapi'])}).</p>"
            f"<h2>Operations</h2><ul>{''.join(index)}</ul>{''.join(operations)}"
            f"<h2>Schemas</h2>{schemas}</body></html>")


def docs_routes() -> list[Route]:
    async def page(request: Request) -> Response:
        return HTMLResponse(docs_page(), headers={"Content-Security-Policy": POLICY})

    return [Route("/api/v1/docs", page, methods=["GET"])]
