"""Inputs the JSON API met and must keep refusing cleanly, pinned down (each
was a 500 once, on SQLite or on PostgreSQL): ids beyond what the database
holds, URLs that route nowhere, JSON nested past Python's recursion limit,
text no column can store, join codes and café codes outside their alphabet,
weights that would overflow the solvers. Each answer is also checked against
the OpenAPI document; schemathesis drives every operation with generated
bodies (tests/web/test_schemathesis.py)."""

from __future__ import annotations

import pytest

from tests.support.openapi import PREFIX, check_response
from tests.support.world import auth


def check(method: str, template: str, reply) -> None:
    """A 4xx in the API's error shape, and a status the document lists."""
    assert 400 <= reply.status_code < 500, reply.get_data(as_text=True)[:500]
    body = reply.get_json()
    assert body["error"]["code"] and body["error"]["message"]
    path = template.replace("{trial_id}", "1").replace("{code}", "ABCDEF")
    check_response(method, PREFIX + path, reply)


@pytest.mark.parametrize("big", [
    2**31, 2**64,
])
@pytest.mark.parametrize("method, path", [
    ("GET", "/trials/{big}"), ("POST", "/trials/{big}/signups"),
    ("POST", "/trials/{big}/links"), ("POST", "/trials/{big}/rounds"),
])
def test_ids_beyond_the_database_are_not_found(client, organiser_token, method, path, big):
    valid = {"join_code": "ABCDEFGHJKMN", "name": "A", "email": "a@example.org",
             "department": "IT"}
    body = {"signups": valid, "links": {"join_code": valid["join_code"],
                                        "email": valid["email"]}}.get(path.split("/")[-1], {})
    reply = client.open(PREFIX + path.format(big=big), method=method, json=body,
                        headers=auth(organiser_token))
    assert reply.status_code == 404 and reply.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("method, path", [
    ("GET", "/trials/abc"), ("GET", "/trials/-1"), ("GET", "/nothing"),
    ("PUT", "/trials"), ("GET", "/cafes/a%2Fb/plan.csv"),
])
def test_unrouted_api_urls_answer_json(client, method, path):
    reply = client.open(PREFIX + path, method=method)
    assert 400 <= reply.status_code < 500
    assert reply.mimetype == "application/json"
    error = reply.get_json()["error"]
    assert error["code"] and error["message"]


@pytest.mark.parametrize("method, path, caller", [
    ("POST", "/trials", "organiser"), ("POST", "/trials/1/signups", "anyone"),
    ("POST", "/cafes/{code}/participants", "anyone"),
    ("POST", "/cafes/{code}/rounds/next", "organiser"),
])
def test_deeply_nested_json_is_a_bad_request(world_client, world, method, path, caller):
    deep = b"[" * 100_000 + b"]" * 100_000
    headers = auth(world.organiser) if caller == "organiser" else {}
    reply = world_client.open(PREFIX + path.format(code=next(iter(world.cafes))),
                              method=method, data=deep, content_type="application/json",
                              headers=headers)
    assert reply.status_code == 400
    check(method, path, reply)


# -- what fuzzing found, pinned down (each was a 500, on SQLite or on PostgreSQL) --------

#: Text no field takes: NUL (PostgreSQL cannot store it), another control
#: character, a lone surrogate (no UTF-8 for it: the driver fails).
UNSTORABLE = ["a\x00b", "bell\x07", "\ud800", "x\udfffy"]


def _trial(client, token):
    reply = client.post(f"{PREFIX}/trials", json={"name": "T",
                                                  "confirm_email": False}, headers=auth(token))
    return reply.get_json()


@pytest.mark.parametrize("text", UNSTORABLE)
@pytest.mark.parametrize("field", ["name", "email", "department", "organisation", "site",
                                   "role"])
def test_unstorable_text_in_a_signup_is_refused(client, organiser_token, field, text):
    trial = _trial(client, organiser_token)
    body = {"join_code": trial["join_code"], "name": "Ann", "email": "ann@example.org",
            "department": "IT"}
    body[field] = text if field != "email" else f"{text}@example.org"
    reply = client.post(f"{PREFIX}/trials/{trial['id']}/signups", json=body)
    assert reply.status_code == 400 and reply.get_json()["error"]["field"] == field
    check("POST", "/trials/{trial_id}/signups", reply)


@pytest.mark.parametrize("text", UNSTORABLE)
@pytest.mark.parametrize("field", ["name", "department", "organisation", "email"])
def test_unstorable_text_when_joining_a_cafe_is_refused(client, organiser_token, field, text):
    code = client.post(f"{PREFIX}/cafes", json={"name": "C", "rounds": 2},
                       headers=auth(organiser_token)).get_json()["code"]
    body = {"name": "Ann", "department": "IT"}
    body[field] = text if field != "email" else f"{text}@example.org"
    reply = client.post(f"{PREFIX}/cafes/{code}/participants", json=body)
    assert reply.status_code == 400 and reply.get_json()["error"]["field"] == field
    check("POST", "/cafes/{code}/participants", reply)


@pytest.mark.parametrize("text", UNSTORABLE)
def test_unstorable_text_in_settings_is_refused(client, organiser_token, text):
    org = auth(organiser_token)
    assert client.post(f"{PREFIX}/trials", json={"name": text}, headers=org).status_code == 400
    trial = _trial(client, organiser_token)
    reply = client.patch(f"{PREFIX}/trials/{trial['id']}", json={"description": text},
                         headers=org)
    assert reply.status_code == 400 and reply.get_json()["error"]["field"] == "description"
    for key in ("questions", "hosts"):
        reply = client.post(f"{PREFIX}/cafes", headers=org,
                            json={"name": "C", "rounds": 2, key: [text]})
        assert reply.status_code == 400 and reply.get_json()["error"]["field"] == key


@pytest.mark.parametrize("join_code", ["\ud800", "é" * 12, "\x00"])
def test_a_join_code_that_is_not_ascii_is_just_wrong(client, organiser_token, join_code):
    trial = _trial(client, organiser_token)
    for path, body in (("signups", {"name": "A", "email": "a@example.org",
                                    "department": "IT"}),
                       ("links", {"email": "a@example.org"})):
        reply = client.post(f"{PREFIX}/trials/{trial['id']}/{path}",
                            json=body | {"join_code": join_code})
        assert reply.status_code == 403, reply.get_json()


def test_an_email_that_grows_in_lower_case_is_measured_after(client, organiser_token):
    # "İ".lower() is two characters: 306 become 606, more than an email column holds.
    email = "İ" * 300 + "@example.org"
    trial = _trial(client, organiser_token)
    reply = client.post(f"{PREFIX}/trials/{trial['id']}/signups", json={
        "join_code": trial["join_code"], "name": "A", "email": email, "department": "IT"})
    assert reply.status_code == 400 and reply.get_json()["error"]["field"] == "email"
    code = client.post(f"{PREFIX}/cafes", json={"name": "C", "rounds": 2},
                       headers=auth(organiser_token)).get_json()["code"]
    reply = client.post(f"{PREFIX}/cafes/{code}/participants",
                        json={"name": "A", "department": "IT", "email": email})
    assert reply.status_code == 400 and reply.get_json()["error"]["field"] == "email"


def test_an_import_with_unstorable_cells_names_them(client, organiser_token):
    trial = _trial(client, organiser_token)
    people = ("name,email,department,site\n"
              "Ann,ann@example.org,IT,\x00\n"
              f"Bob,{'İ' * 300}@example.org,HR,\n"
              "Cy\x07,cy@example.org,HR,\n")
    reply = client.post(f"{PREFIX}/trials/{trial['id']}/participants", data=people,
                        content_type="text/csv", headers=auth(organiser_token))
    assert reply.status_code == 400
    check("POST", "/trials/{trial_id}/participants", reply)
    found = {(p["row"], p["column"]) for p in reply.get_json()["error"]["problems"]}
    assert found == {(2, "site"), (3, "email"), (4, "name")}


@pytest.mark.parametrize("code", ["AB%00CD", "%C3%A9%C3%A9", "ABCDEF%00"])
def test_cafe_codes_and_screen_keys_outside_their_alphabet_are_not_found(client, code):
    reply = client.post(f"{PREFIX}/cafes/{code}/participants",
                        json={"name": "A", "department": "IT"})
    assert reply.status_code == 404
    assert client.get(f"/cafe/{code}").status_code == 404
    assert client.get(f"/screen/{code}").status_code == 404
    assert client.get(f"/cafe?code={code}").status_code == 404


def test_weights_above_the_limit_are_refused(client, organiser_token):
    """A weight of 10**30 was stored, and every round after it was a 500 (the
    solvers' 64-bit objective overflowed)."""
    org = auth(organiser_token)
    for weight in (1001, 10**30):
        reply = client.post(f"{PREFIX}/trials", json={"name": "T", "weights": {
            "department": weight}}, headers=org)
        assert reply.status_code == 400
        assert reply.get_json()["error"]["field"] == "weights.department"
        reply = client.post(f"{PREFIX}/cafes", json={"name": "C", "rounds": 2, "weights": {
            "site": weight}}, headers=org)
        assert reply.status_code == 400 and reply.get_json()["error"]["field"] == "weights.site"
    trial = _trial(client, organiser_token)
    reply = client.patch(f"{PREFIX}/trials/{trial['id']}",
                         json={"weights": {"role": 10**30}}, headers=org)
    assert reply.status_code == 400
    reply = client.patch(f"{PREFIX}/trials/{trial['id']}", headers=org, json={"weights": {
        "department": 1000, "organisation": 1000, "site": 1000, "role": 1000}})
    assert reply.status_code == 200
    for k in range(5):
        client.post(f"{PREFIX}/trials/{trial['id']}/signups", json={
            "join_code": trial["join_code"], "name": f"P{k}", "email": f"p{k}@example.org",
            "department": f"D{k % 3}", "site": f"S{k % 2}"})
    reply = client.post(f"{PREFIX}/trials/{trial['id']}/rounds", json={"publish": True},
                        headers=org)
    assert reply.status_code == 201
