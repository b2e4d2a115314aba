"""The OpenAPI description at /api/v1/openapi.json: it names exactly the app's
API routes, it is well formed, and real answers fit it."""

import re

import pytest

from matcher.accounts import create_organiser
from tests.support.openapi_check import PREFIX, check_response, operation, resolve
from web.openapi import DESCRIPTION

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


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
    return routes


def described() -> set[tuple[str, str]]:
    return {(method, path) for path, item in DESCRIPTION["paths"].items()
            for method in item if method in METHODS}


def test_served_as_json(client):
    reply = client.get("/api/v1/openapi.json")
    assert reply.status_code == 200 and reply.mimetype == "application/json"
    body = reply.get_json()
    assert body["openapi"].startswith("3.1")
    assert body["paths"].keys() == DESCRIPTION["paths"].keys()
    assert body["servers"] == [{"url": "/api/v1"}]


def test_every_route_is_described_and_nothing_else(app):
    routes, paths = api_routes(app), described()
    assert routes - paths == set(), "routes missing from web/openapi.py"
    assert paths - routes == set(), "web/openapi.py describes routes the app does not have"


def test_well_formed():
    schemes = DESCRIPTION["components"]["securitySchemes"]
    assert {name: (s["type"], s["scheme"]) for name, s in schemes.items()} == {
        "organiserToken": ("http", "bearer"), "participantToken": ("http", "bearer")}
    ids = []

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                resolve(node)  # fails with a KeyError if it leads nowhere
            for value in node.values():
                refs(value)
        elif isinstance(node, list):
            for value in node:
                refs(value)

    refs(DESCRIPTION)
    for path, item in DESCRIPTION["paths"].items():
        in_path = set(re.findall(r"\{(\w+)\}", path))
        for method, op in item.items():
            ids.append(op["operationId"])
            assert {p["name"] for p in op.get("parameters", []) if p["in"] == "path"} == in_path
            for requirement in op["security"]:
                assert set(requirement) <= set(schemes)
            assert any(s.startswith("2") for s in op["responses"]), (method, path)
            assert "429" in op["responses"]
            if op["security"]:
                assert "401" in op["responses"], (method, path)
            if in_path:
                assert "404" in op["responses"], (method, path)
            if "requestBody" in op:
                assert {"400", "413"} <= set(op["responses"]), (method, path)
            for status, response in op["responses"].items():
                if status.startswith("4"):
                    schema = resolve(response)["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}
    assert len(ids) == len(set(ids))
    error = DESCRIPTION["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]
    assert "field" in error["properties"]["error"]["properties"]


def test_lookup_prefers_fixed_paths():
    assert operation("GET", "/api/v1/openapi.json")["operationId"] == "openapi"
    assert operation("GET", "/api/v1/trials/3/history.csv")["operationId"] == "trialHistory"
    assert operation("POST", "/api/v1/cafes/ABC/rounds/next")["operationId"] == "nextRound"


@pytest.fixture
def other_token(app):
    with app.extensions["matcher.sessions"]() as db:
        _, token = create_organiser(db, "other@example.org", "Other")
        db.commit()
    return token


def test_real_answers_fit_the_description(app, client, organiser_token, other_token):
    """Every endpoint, on its way to success and on the usual refusals: the
    status is documented for the operation and the JSON fits its schema."""
    app.config["ROUND_TIME_LIMIT"] = 2.0
    app.config["CAFE_TIME_LIMIT"] = 0.5
    org, other = auth(organiser_token), auth(other_token)

    def call(method, path, status=None, **kwargs):
        reply = client.open(PREFIX + path, method=method, **kwargs)
        check_response(method, PREFIX + path, reply)
        if status is not None:
            assert reply.status_code == status, (method, path, reply.get_data(as_text=True))
        return reply

    call("GET", "/openapi.json", 200)
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
    c = f"/cafes/{cafe['code']}"
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
