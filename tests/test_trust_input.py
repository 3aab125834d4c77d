"""Trust options at input: PEM refused with what to fix, the client key sealed at rest and never
shown back, the same options from the form, the API body and the monitors file."""

from __future__ import annotations

import pytest
import trustme
from sqlalchemy import select

from domain.monitor_input import SECRET_MASK, masked_options, parse_monitor_input
from storage.db import get_engine
from storage.models import Monitor
from storage.monitors import create_monitor, get_monitor
from storage.secret_box import SEALED
from storage.tables import table_of
from ui.monitor_fields import ADD_PREFIX, default_form_state, form_values, option_key


def by_field(problem: dict) -> dict[str, str]:
    """An API problem's `errors` list as field -> message."""
    return {error["field"]: error["message"] for error in problem["errors"]}

CA = trustme.CA()
IDENTITY = CA.issue_cert("probe@upwatch.test")
CA_PEM = CA.cert_pem.bytes().decode().strip()  # options are stored stripped
CERT_PEM = IDENTITY.cert_chain_pems[0].bytes().decode()
KEY_PEM = IDENTITY.private_key_pem.bytes().decode().strip()
OTHER_KEY_PEM = CA.issue_cert("other@upwatch.test").private_key_pem.bytes().decode()
GOOD = {"name": "Intranet", "url": "https://intranet.test/health"}


def _refusal(options: dict, kind: str = "http") -> dict[str, str]:
    url = GOOD["url"] if kind == "http" else "intranet.test:443"
    with pytest.raises(Exception) as refused:
        parse_monitor_input({**GOOD, "kind": kind, "url": url, "options": options})
    return refused.value.errors  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize(
    ("options", "field", "fragment"),
    [
        ({"ca_bundle": "not a certificate"}, "options.ca_bundle", "must be PEM"),
        ({"ca_bundle": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
         "options.ca_bundle", "cannot be read"),
        ({"ca_bundle": CERT_PEM}, "options.ca_bundle", "not a certificate authority"),
        ({"client_certificate": CERT_PEM}, "options.client_key", "give the private key"),
        ({"client_key": KEY_PEM}, "options.client_certificate", "certificate that goes with"),
        ({"client_certificate": CERT_PEM, "client_key": OTHER_KEY_PEM}, "options.client_key",
         "does not belong"),
        ({"client_certificate": CERT_PEM, "client_key": "-----BEGIN PRIVATE KEY-----\nx\n"
          "-----END PRIVATE KEY-----\n"}, "options.client_key", "cannot be read"),
        ({"client_certificate": CERT_PEM + KEY_PEM, "client_key": KEY_PEM},
         "options.client_certificate", "holds a private key"),
        ({"ip_version": "ipv5"}, "options.ip_version", "any, ipv4, ipv6"),
    ],
)
@pytest.mark.parametrize("kind", ["http", "tls"])
def test_bad_trust_options_are_refused_saying_what_to_fix(
    options: dict, field: str, fragment: str, kind: str
) -> None:
    errors = _refusal(options, kind)
    assert fragment in errors[field], errors


def test_good_trust_options_are_kept_and_unset_ones_not_stored() -> None:
    spec = parse_monitor_input({**GOOD, "options": {
        "ca_bundle": CA_PEM, "client_certificate": CERT_PEM, "client_key": KEY_PEM,
        "ip_version": 6}})
    assert spec.options["ca_bundle"] == CA_PEM and spec.options["ip_version"] == "ipv6"
    plain = parse_monitor_input(GOOD).options
    assert not {"ca_bundle", "client_certificate", "client_key", "ip_version"} & set(plain)
    assert parse_monitor_input({**GOOD, "kind": "tcp", "url": "db.test:5432", "options": {
        "ip_version": "IPv4"}}).options["ip_version"] == "ipv4"


def test_the_client_key_is_sealed_at_rest_and_masked_when_shown() -> None:
    spec = parse_monitor_input({**GOOD, "options": {
        "ca_bundle": CA_PEM, "client_certificate": CERT_PEM, "client_key": KEY_PEM}})
    monitor = create_monitor(spec)
    with get_engine().connect() as connection:
        raw = connection.exec_driver_sql("SELECT options FROM monitor").scalar_one()
        stored = connection.execute(select(table_of(Monitor).c.options)).scalar_one()
    assert "PRIVATE KEY" not in str(raw) and f'"{SEALED}"' in str(raw)
    assert "BEGIN CERTIFICATE" in str(raw)  # certificates are public: not sealed
    assert stored["client_key"] == KEY_PEM  # read back plain by the app
    read = get_monitor(monitor.slug)
    assert read is not None
    assert masked_options(read.options, "http")["client_key"] == SECRET_MASK


def test_the_form_sends_the_trust_options_of_its_kind() -> None:
    state = default_form_state(ADD_PREFIX)
    state.update({f"{ADD_PREFIX}name": "Intranet", f"{ADD_PREFIX}url": GOOD["url"],
                  option_key(ADD_PREFIX, "ca_bundle"): CA_PEM,
                  option_key(ADD_PREFIX, "ip_version"): "ipv4"})
    spec = parse_monitor_input(form_values(state, ADD_PREFIX))
    assert spec.options["ca_bundle"] == CA_PEM and spec.options["ip_version"] == "ipv4"
    state[f"{ADD_PREFIX}kind"] = "tcp"
    state[f"{ADD_PREFIX}url"] = "db.test:5432"
    assert "ca_bundle" not in form_values(state, ADD_PREFIX)["options"]


def test_the_rest_api_takes_trust_options_like_any_other_and_masks_the_key() -> None:
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from composition.web_process import Runtime, build_routes

    auth = {"Authorization": "Bearer s3cret-token"}
    body = {**GOOD, "options": {"ca_bundle": CA_PEM, "client_certificate": CERT_PEM,
                                "client_key": KEY_PEM, "ip_version": "ipv6"}}
    with TestClient(Starlette(routes=build_routes(Runtime()))) as client:
        created = client.post("/api/v1/monitors", json=body, headers=auth)
        refused = client.post("/api/v1/monitors", headers=auth, json={
            **GOOD, "name": "Bad", "options": {"ca_bundle": "nope"}})
        shown = client.get(f"/api/v1/monitors/{created.json()['slug']}", headers=auth)

    assert created.status_code == 201, created.text
    assert refused.status_code == 422
    assert "must be PEM" in by_field(refused.json())["options.ca_bundle"]
    assert KEY_PEM not in shown.text and "PRIVATE KEY" not in shown.text
    assert shown.json()["options"]["ip_version"] == "ipv6"
