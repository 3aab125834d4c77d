"""Signed, expiring acknowledgement links and the /ack route."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from config.settings import get_settings
from domain.monitor_input import parse_monitor_input
from notifiers.ack import InvalidLink, MalformedLink, ack_token, verify_token
from notifiers.dispatcher import secret_key
from storage.db import get_engine
from storage.models import Incident
from storage.monitors import create_monitor
from storage.tables import table_of
from web.ack import ack_routes

INCIDENTS = table_of(Incident)


def test_a_token_names_its_incident_until_it_expires() -> None:
    token = ack_token("k", 42, now=1000)
    assert verify_token("k", token, now=1000 + 3600) == 42
    with pytest.raises(InvalidLink, match="expired"):
        verify_token("k", token, now=1000 + 25 * 3600)


def test_a_token_cannot_be_moved_to_another_incident_or_key() -> None:
    incident, expires, signature = ack_token("k", 42, now=1000).split(".")
    with pytest.raises(InvalidLink, match="not valid"):
        verify_token("k", f"43.{expires}.{signature}", now=1000)
    with pytest.raises(InvalidLink, match="not valid"):
        verify_token("other", f"{incident}.{expires}.{signature}", now=1000)
    with pytest.raises(InvalidLink, match="incomplete"):
        verify_token("k", "garbage", now=1000)


@pytest.mark.parametrize("token", ["1.2.é", "", "1.2", "1.2.3.4", "١.٢.abc", "1.2.ab\x00",
                                   " 1.2.ab", "1" * 5000 + ".2.ab", "1.2." + "a" * 65])
def test_a_token_not_shaped_like_a_link_is_malformed_not_a_crash(token: str) -> None:
    with pytest.raises(MalformedLink, match="incomplete or damaged"):
        verify_token("k", token, now=1000)


def test_a_malformed_link_is_a_400_and_a_forged_one_a_403() -> None:
    client = TestClient(Starlette(routes=ack_routes()))
    damaged = client.get("/ack", params={"t": "1.2.é"})
    assert damaged.status_code == 400 and "incomplete or damaged" in damaged.text
    assert client.post("/ack", data={"t": "1.2.é", "who": "x"}).status_code == 400
    assert client.get("/ack", params={"t": "1.2.abc"}).status_code == 403


def test_the_key_is_made_once_and_kept() -> None:
    first = secret_key(get_engine(), get_settings())
    assert len(first) >= 32 and secret_key(get_engine(), get_settings()) == first


def test_get_only_asks_and_post_acknowledges_once() -> None:
    monitor_id = create_monitor(parse_monitor_input({"name": "API", "url": "http://127.0.0.1:1/"})).id
    with get_engine().begin() as connection:
        incident_id = connection.execute(insert(INCIDENTS).values(
            monitor_id=monitor_id, title="API is <down>", started_at=datetime.now(UTC))
            .returning(INCIDENTS.c.id)).scalar_one()
    token = ack_token(secret_key(get_engine(), get_settings()), incident_id)
    client = TestClient(Starlette(routes=ack_routes()))
    page = client.get("/ack", params={"t": token})
    assert page.status_code == 200 and "API is &lt;down&gt;" in page.text
    with get_engine().connect() as connection:
        assert connection.execute(select(INCIDENTS.c.acknowledged_at)).scalar() is None
    done = client.post("/ack", data={"t": token, "who": "alice"})
    assert done.status_code == 200 and "acknowledged by alice" in done.text
    again = client.post("/ack", data={"t": token, "who": "bob"})
    assert "already acknowledged" in again.text
    with get_engine().connect() as connection:
        assert connection.execute(select(INCIDENTS.c.acknowledged_by)).scalar() == "alice"
    assert client.get("/ack", params={"t": token + "0"}).status_code == 403
