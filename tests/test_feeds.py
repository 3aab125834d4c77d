"""GET /feed.atom and /feed.rss: incidents with their updates, valid XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from storage.incidents import create_incident, post_update
from tests.status_support import monitor, public_client

ATOM = "{http://www.w3.org/2005/Atom}"


def test_atom_has_an_entry_per_incident_with_its_updates() -> None:
    api = monitor("Api")
    first = create_incident("Login fails", "investigating", "Users cannot <log in>",
                            monitor_id=api.id)
    post_update(first, "resolved", "Fixed & deployed")
    create_incident("Slow search", "monitoring", "Watching it")
    client, _ = public_client()
    answer = client.get("/feed.atom")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(answer.content)
    entries = root.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert titles == ["Slow search (Monitoring)", "Login fails (Resolved)"]
    content = entries[1].findtext(f"{ATOM}content")
    assert "Fixed &amp; deployed" in content and "Users cannot &lt;log in&gt;" in content
    again = client.get("/feed.atom", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304


def test_rss_lists_the_same_incidents() -> None:
    create_incident("Login fails", "investigating", "Looking into it")
    client, _ = public_client()
    answer = client.get("/feed.rss")
    assert answer.headers["content-type"].startswith("application/rss+xml")
    channel = ET.fromstring(answer.content).find("channel")
    assert channel is not None and channel.findtext("title") == "Service status"
    assert [i.findtext("title") for i in channel.findall("item")] == [
        "Login fails (Investigating)"]
