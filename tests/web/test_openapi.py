"""The OpenAPI document at /api/v1/openapi.json, generated from the views and
their pydantic bodies: valid OpenAPI 3.1 (openapi-spec-validator), naming
exactly the app's API operations, each with who may call it and every status
it answers with; its limits are the services' own; real answers fit it; and
/api/v1/docs reads it with nothing loaded from another site."""

import re

import pytest
from openapi_spec_validator import validate

from matcher.accounts import create_organiser
from matcher.cafes import MAX_TABLES
from matcher.trials import MAX_GROUP_SIZE, MAX_WEIGHT
from matcher.validation import DEFAULT_GROUP_SIZE, MAX_EMAIL_LENGTH, MAX_NAME_LENGTH
from solvers.model import ODD_POLICIES
from tests.support.openapi import PREFIX, check_response, openapi

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
#: The routes that describe the API rather than being part of it.
ABOUT = {("get", "/openapi.json"), ("get", "/docs")}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def api_routes(app) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every route of the api blueprint."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] != "api":
            continue
        assert rule.rule.startswith(PREFIX)
        path = re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", rule.rule.removeprefix(PREFIX))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((method.lower(), path))
    return routes - ABOUT


def described() -> set[tuple[str, str]]:
    return {(method, path.removeprefix(PREFIX)) for path, item in openapi()["paths"].items()
            for method in item if method in METHODS}


def schemas():
    return openapi()["components"]["schemas"]


def test_served_as_valid_openapi_3_1(client):
    reply = client.get("/api/v1/openapi.json")
    assert reply.status_code == 200 and reply.mimetype == "application/json"
    served = reply.get_json()
    assert served["openapi"].startswith("3.1")
    validate(served)
    assert served == openapi()


def test_every_route_is_described_and_nothing_else(app):
    routes, paths = api_routes(app), described()
    assert routes - paths == set(), "routes without an operation (web.api.spec.operation)"
    assert paths - routes == set(), "operations the app does not route"


def test_every_operation_says_who_may_call_it_and_what_it_answers():
    document = openapi()
    schemes = document["components"]["securitySchemes"]
    assert {name: (s["type"], s["scheme"]) for name, s in schemes.items()} == {
        "organiserToken": ("http", "bearer"), "participantToken": ("http", "bearer")}
    ids = []
    for path, item in document["paths"].items():
        in_path = set(re.findall(r"\{(\w+)\}", path))
        for method, op in item.items():
            where = (method, path)
            ids.append(op["operationId"])
            assert op["summary"] and not op["summary"].endswith(">"), where
            assert {p["name"] for p in op.get("parameters", []) if p["in"] == "path"} == in_path
            assert all(p["description"] for p in op.get("parameters", [])), where
            assert "security" in op, where
            for requirement in op["security"]:
                assert set(requirement) <= set(schemes)
            assert any(s.startswith("2") for s in op["responses"]), where
            assert "429" in op["responses"], where
            if op["security"]:
                assert "401" in op["responses"], where
            if in_path:
                assert "404" in op["responses"], where
            if "requestBody" in op:
                assert {"400", "413"} <= set(op["responses"]), where
            for status, response in op["responses"].items():
                if status.startswith("4"):
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"}, where
    assert len(ids) == len(set(ids))
    error = schemas()["Error"]
    assert error["required"] == ["error"]
    assert schemas()["ErrorDetail"]["required"] == ["code", "message"]
    assert "field" in schemas()["ErrorDetail"]["properties"]


def test_the_limits_are_the_services_own():
    s = schemas()
    assert s["Signup"]["properties"]["name"]["maxLength"] == MAX_NAME_LENGTH
    assert s["Signup"]["properties"]["email"]["maxLength"] == MAX_EMAIL_LENGTH
    assert s["Signup"]["properties"]["email"]["format"] == "email"
    size = s["NewTrial"]["properties"]["group_size"]
    assert (size["maximum"], size["default"]) == (MAX_GROUP_SIZE, DEFAULT_GROUP_SIZE)
    assert s["NewTrial"]["properties"]["odd"]["enum"] == list(ODD_POLICIES)
    assert s["Weights"]["properties"]["department"]["maximum"] == MAX_WEIGHT
    assert s["Weights"]["additionalProperties"] is False
    assert s["CafeSettings"]["properties"]["tables"]["maximum"] == MAX_TABLES


def test_a_field_that_may_be_left_out_is_not_null_unless_it_may_be():
    """``x: T = None`` in web/api/schemas.py: optional, never null."""
    s = schemas()
    assert "anyOf" not in s["TrialSettings"]["properties"]["name"]
    assert "anyOf" not in s["CafeSettings"]["properties"]["hosts"]
    assert {"type": "null"} in s["RoundRequest"]["properties"]["seed"]["anyOf"]


def test_the_docs_page_reads_the_document_from_this_site(client):
    reply = client.get("/api/v1/docs")
    assert reply.status_code == 200 and reply.mimetype == "text/html"
    page = reply.get_data(as_text=True)
    assert 'data-document="/api/v1/openapi.json"' in page
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/") or s.startswith("data:") for s in sources)
    for source in sources:
        if source.startswith("/static/"):
            assert client.get(source).status_code == 200, source


@pytest.fixture
def other_token(app):
    with app.extensions["matcher.sessions"]() as db:
        _, token = create_organiser(db, "other@example.org", "Other")
        db.commit()
    return token


def test_real_answers_fit_the_description(app, client, organiser_token, other_token):
    """Every endpoint, on its way to success and on the usual refusals: the
    status is documented for the operation and the answer fits its schema."""
    app.config["ROUND_TIME_LIMIT"] = 2.0
    app.config["CAFE_TIME_LIMIT"] = 0.5
    org, other = auth(organiser_token), auth(other_token)

    def call(method, path, status=None, **kwargs):
        reply = client.open(PREFIX + path, method=method, **kwargs)
        check_response(method, PREFIX + path, reply)
        if status is not None:
            assert reply.status_code == status, (method, path, reply.get_data(as_text=True))
        return reply

    trial = call("POST", "/trials", 201, json={"name": "Coffee"}, headers=org).get_json()
    call("POST", "/trials", 401, json={"name": "Coffee"})
    call("POST", "/trials", 400, json={"name": ""}, headers=org)
    call("POST", "/trials", 400, data="[", content_type="application/json", headers=org)
    t = f"/trials/{trial['id']}"
    call("GET", t, 200, headers=org)
    call("GET", t, 403, headers=other)
    call("GET", "/trials/999", 404, headers=org)
    call("PATCH", t, 200, json={"group_size": 2, "weights": {"department": 5}}, headers=org)
    call("PATCH", t, 400, json={"colour": "red"}, headers=org)
    # Confirmed sign-ups (on for a new trial): pending, then confirmed by the mailed token.
    pending = {"join_code": trial["join_code"], "name": "Pat", "email": "pat@example.org",
               "department": "A"}
    call("POST", f"{t}/signups", 202, json=pending)
    call("POST", "/confirmations", 404, json={"token": "not-a-token"})
    call("POST", "/confirmations", 400, json={})
    call("PATCH", t, 200, json={"confirm_email": False}, headers=org)
    tokens = []
    for k in range(4):
        body = {"join_code": trial["join_code"], "name": f"P{k}", "email": f"p{k}@example.org",
                "department": ["A", "B"][k % 2]}
        tokens.append(call("POST", f"{t}/signups", 201, json=body).get_json()["token"])
    call("POST", f"{t}/signups", 409, json=body)
    call("POST", f"{t}/signups", 403, json=body | {"join_code": "nope"})
    imported = call("POST", f"{t}/participants", 201, headers=org, content_type="text/csv",
                    data="name,email,department\nQ,q@example.org,C\n").get_json()
    call("POST", f"{t}/participants", 400, headers=org, content_type="text/csv",
         data="name,email\nQ,q@example.org\n")
    pid = imported["added"][0]["participant_id"]
    call("POST", f"{t}/participants/{pid}/link", 202, headers=org)
    call("POST", f"{t}/participants/nobody/link", 404, headers=org)
    call("POST", f"{t}/links", 202, json={"join_code": trial["join_code"],
                                         "email": "p3@example.org"})
    call("POST", f"{t}/rounds", 200, json={"publish": False, "seed": 1}, headers=org)
    call("POST", f"{t}/rounds", 201, json={"publish": True, "seed": 1}, headers=org)
    call("POST", f"{t}/rounds", 400, json={"publish": "yes"}, headers=org)
    for kind in ("csv", "json", "graphml"):
        call("GET", f"{t}/history.{kind}", 200, headers=org)
    call("GET", f"{t}/history.xls", 404, headers=org)
    me = auth(tokens[0])
    call("GET", "/me", 200, headers=me)
    call("GET", "/me", 401)
    call("POST", "/me/met", 200, json={"met": True}, headers=me)
    call("POST", "/me/met", 400, json={"met": "yes"}, headers=me)
    call("POST", "/me/pause", 200, headers=me)
    call("POST", "/me/resume", 200, headers=me)
    call("DELETE", "/me", 200, headers=me)
    call("DELETE", "/me", 401, headers=me)

    cafe = call("POST", "/cafes", 201, headers=org,
                json={"name": "Café", "tables": 2, "rounds": 2}).get_json()
    call("POST", "/cafes", 400, headers=org, json={"name": "Café"})
    c = f"/cafes/{cafe['join_code']}"
    people = [call("POST", f"{c}/participants", 201,
                   json={"name": f"C{k}", "department": ["A", "B"][k % 2]}).get_json()
              for k in range(5)]
    call("POST", "/cafes/NOCAFE/participants", 404, json={"name": "X", "department": "Y"})
    call("POST", f"{c}/participants/{people[0]['participant_id']}/host", 200,
         json={"table": 1}, headers=org)
    call("POST", f"{c}/participants/{people[1]['participant_id']}/host", 409,
         json={"table": 1}, headers=org)
    call("POST", f"{c}/time", 409, json={"minutes": 5}, headers=org)
    call("POST", f"{c}/rounds/next", 200, json={"seed": 1}, headers=org)
    call("POST", f"{c}/rounds/next", 403, headers=other)
    call("POST", f"{c}/time", 200, json={"minutes": 5}, headers=org)
    call("POST", f"{c}/time", 400, json={"minutes": "5"}, headers=org)
    call("GET", c, 200, headers=org)
    call("GET", f"{c}/plan.csv", 200, headers=org)
    call("POST", f"{c}/leave", 200, headers=auth(people[4]["token"]))
    call("POST", f"{c}/leave", 401)
    call("POST", f"{c}/end", 200, headers=org)
    call("POST", f"{c}/end", 409, headers=org)
    call("POST", f"{c}/participants", 409, json={"name": "Late", "department": "A"})
