"""The links between a resource's operations come from the document itself, and a row id past
the id column's range reaches the route as an id no row has."""

from __future__ import annotations

import copy

from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from web.openapi import openapi_document
from web.openapi_links import with_links
from web.row_ids import MAX_ROW_ID, row_path


def test_a_create_links_to_every_operation_on_what_it_made() -> None:
    document = copy.deepcopy(openapi_document())
    before = copy.deepcopy(document)
    paths = with_links(document["paths"], document["components"]["schemas"])
    created = paths["/api/v1/monitors"]["post"]["responses"]["201"]["links"]
    assert {link["operationRef"] for link in created.values()} >= {
        "#/paths/~1api~1v1~1monitors~1{slug}/get",
        "#/paths/~1api~1v1~1monitors~1{slug}/patch",
        "#/paths/~1api~1v1~1monitors~1{slug}/delete",
        "#/paths/~1api~1v1~1monitors~1{slug}~1results.{fmt}/get"}
    assert {str(link["parameters"]) for link in created.values()} == {
        "{'slug': '$response.body#/slug'}"}
    one = paths["/api/v1/incidents/{id}"]["get"]["responses"]["200"]["links"]
    assert "post_api_v1_incidents_id_resolve" in one
    assert "get_api_v1_incidents_id" not in one  # never to itself
    assert "links" not in paths["/api/v1/monitors"]["get"]["responses"]["200"]  # a list
    assert document == before  # shared answers were copied, not changed
    validate({**document, "paths": paths})


def test_links_the_document_already_has_are_kept() -> None:
    document = copy.deepcopy(openapi_document())
    answer = document["paths"]["/api/v1/monitors"]["post"]["responses"]["201"]
    answer["links"] = {"get_api_v1_monitors_slug": {"operationId": "mine"}}
    paths = with_links(document["paths"], document["components"]["schemas"])
    links = paths["/api/v1/monitors"]["post"]["responses"]["201"]["links"]
    assert links["get_api_v1_monitors_slug"] == {"operationId": "mine"}
    assert with_links(paths, document["components"]["schemas"]) == paths


def test_an_id_past_the_columns_range_is_an_id_no_row_has() -> None:
    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(repr(request.path_params["id"]))

    client = TestClient(Starlette(routes=[Route(row_path("/things"), echo)]))
    assert client.get("/things/12").text == "12"
    assert client.get(f"/things/{MAX_ROW_ID}").text == str(MAX_ROW_ID)
    assert client.get(f"/things/{MAX_ROW_ID + 1}").text == "0"
    assert client.get("/things/" + "9" * 40).text == "0"
    assert client.get("/things/-1").status_code == 404
