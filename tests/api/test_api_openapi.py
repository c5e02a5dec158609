"""The OpenAPI document (/api/v3/openapi.json) and the API reference page (/api/docs).

The document must be valid OpenAPI 3.1, list every registered object, route and action
(generated from the registry, so a new resource appears without editing it), and its
object schemas must describe what the API really answers.
"""
from __future__ import annotations

import json
import re

import jsonschema_rs

from support.api_client import body
from support.api_client import seed_objects
from portal.api import openapi
from portal.api.docs import WALKTHROUGH
from portal.api.openapi_schemas import OBJECT_SCHEMAS
from portal.api.query import Field, as_int
from portal.api.registry import RESOURCES, Resource, register
from portal.models import Customer
from schemathesis.specs.openapi.definitions import OPENAPI_31

URL = "/api/v3/openapi.json"


def _document(client) -> dict:
    response = client.get(URL)
    assert response.status_code == 200 and response.mimetype == "application/json"
    return json.loads(response.data)


def _validator(document: dict, name: str):
    """A JSON Schema validator of one component, its $refs resolved within the document."""
    return jsonschema_rs.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]})


def test_the_document_is_public_and_valid_openapi_3_1(client):
    document = _document(client)  # no Authorization header
    errors = [e.message for e in jsonschema_rs.Draft202012Validator(OPENAPI_31).iter_errors(document)]
    assert errors == []
    assert document["openapi"] == "3.1.0" and document["servers"] == [{"url": "/api/v3"}]
    assert document["components"]["securitySchemes"]["basicAuth"] == {
        **document["components"]["securitySchemes"]["basicAuth"], "type": "http", "scheme": "basic"}
    assert document["security"] == [{"basicAuth": []}]
    text = json.dumps(document)
    refs = set(re.findall(r'"#/components/(schemas|responses)/([A-Za-z]+)"', text))
    assert refs and all(name in document["components"][kind] for kind, name in refs)
    for name in document["components"]["schemas"]:
        _validator(document, name)  # each compiles: well-formed, every $ref resolves


def test_every_resource_route_and_action_is_described(client):
    paths = _document(client)["paths"]
    for name, resource in RESOURCES.items():
        one = f"/{name}/{{{resource.id_field}}}"
        assert set(paths[f"/{name}"]) == {"get", "post"}
        assert set(paths[f"/{name}/_count"]) == {"get"}
        assert {"get", "put", "delete"} <= set(paths[one])
        listing = paths[f"/{name}"]["get"]["parameters"]
        assert [p["name"] for p in listing] == ["where", "order", "offset", "limit"]
        assert listing[0]["x-fields"] == list(resource.fields)
        for action in resource.actions:
            assert set(paths[f"{one}/_action/{action}"]) == {"post"}
        if resource.actions:
            legacy = paths[one]["post"]["parameters"][1]
            assert legacy["name"] == "action" and legacy["schema"]["enum"] == list(resource.actions)
        for action in resource.collection_actions:
            assert set(paths[f"/{name}/_action/{action}"]) == {"post"}
    assert "post" in paths["/_bulk"]
    csv = paths["/usage/_action/import"]["post"]
    assert "text/csv" in csv["requestBody"]["content"] and csv["parameters"][0]["name"] == "dry_run"


def test_unsupported_operations_are_documented_as_405(client, api):
    paths = _document(client)["paths"]
    for path, method in (("/transaction/{transaction_id}", "delete"), ("/transaction/{transaction_id}", "put"),
                         ("/usage/{usage_id}", "delete"), ("/package/{package_id}", "delete")):
        operation = paths[path][method]
        assert operation["x-unsupported"] and "405" in operation["responses"]
        url = "/api/v3" + path.replace("{transaction_id}", "1").replace("{usage_id}", "1") \
            .replace("{package_id}", "1")
        assert api.request(method.upper(), url, json={}).status_code == 405
    assert paths["/usage"]["post"]["operationId"] == "create_usage"  # its own view, not 405
    assert {"200", "201", "409"} <= set(paths["/usage"]["post"]["responses"])


def test_errors_and_envelope_are_described(client):
    document = _document(client)
    responses = document["components"]["responses"]
    assert {name for name, _ in openapi.ERRORS.values()} == set(responses)
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "status", "message", "details", "response"]
    get_customer = document["paths"]["/customer/{customer_id}"]["get"]["responses"]
    assert {"200", "401", "404", "429"} <= set(get_customer)
    created = document["paths"]["/customer"]["post"]["responses"]
    assert {"201", "400", "401", "409", "429"} <= set(created)
    assert "Location" in created["201"]["headers"]
    money = document["components"]["schemas"]["DecimalInput"]["oneOf"]
    assert [s["type"] for s in money] == ["number", "string"]


def test_a_new_resource_and_action_appear_without_editing_the_document(app, db):
    register(Resource(name="widget", model=Customer, id_field="widget_id",
                      fields={"widget_id": Field(Customer.id, as_int)}, serialize=lambda c: {},
                      create=lambda data: None, actions={"polish": lambda o, d: True},
                      collection_actions={"recount": lambda: None}))
    try:
        with app.test_request_context():
            paths = openapi.build_document()["paths"]
    finally:
        del RESOURCES["widget"]
    assert {"get", "post"} == set(paths["/widget"])
    assert paths["/widget/{widget_id}"]["put"]["x-unsupported"]
    assert "post" in paths["/widget/{widget_id}/_action/polish"]
    assert "post" in paths["/widget/_action/recount"]


def test_object_schemas_describe_what_the_api_answers(client, api):
    """Every field a GET answers is documented, with the right type (schemathesis checks
    types on random requests too; this names undocumented fields)."""
    ids = seed_objects(api)
    document = _document(client)
    for name, resource in RESOURCES.items():
        schema_name = OBJECT_SCHEMAS[name][0]
        answer = json.loads(api.get(f"/api/v3/{name}/{ids[resource.id_field]}").data)["response"]
        properties = document["components"]["schemas"][schema_name]["properties"]
        assert set(answer) - set(properties) == set(), f"{name}: fields missing in {schema_name}"
        errors = [e.message for e in _validator(document, schema_name).iter_errors(answer)]
        assert errors == [], name


def test_the_docs_page_is_public_and_complete(client):
    response = client.get("/api/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for name, resource in RESOURCES.items():
        assert f'id="obj-{name}"' in page and f"/api/v3/{name}/{{{resource.id_field}}}" in page
        for action in resource.actions:
            assert f"/_action/{action}" in page
    for text in ("HTTP Basic", "NOTEQUALS", "ISNOT:NULL", "/api/v3/_bulk", "VoIP", "&#34;details&#34;",
                 "429", "405", "409", 'id="schema-CustomerCreate"', "text/csv"):
        assert text in page, text
    assert "<script>" not in page  # the CSP allows no inline script


def test_the_walkthrough_on_the_docs_page_works(api):
    """Each step of the VoIP example answers what the page says."""
    for title, method, url, payload, answer in WALKTHROUGH:
        response = api.request(method, url, json=payload)
        assert response.status_code == int(answer.split()[0]), (title, body(response))
        for claim in re.findall(r'"(?:id|date|total|sum_base|sum_usage|stored)": [^,}]+', answer):
            assert claim in response.get_data(as_text=True), (title, claim)
