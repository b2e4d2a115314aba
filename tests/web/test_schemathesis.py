"""Every operation of the JSON API against its generated OpenAPI document, by
schemathesis: bodies that fit the document and bodies that do not (wrong
types, missing fields, out-of-range numbers, unknown keys), as the caller the
operation is for, on the trial or café it is about (so inputs get past the
token and reach the services), on a real database (SQLite, or PostgreSQL with
``MATCHER_TEST_DATABASE=postgresql``).

schemathesis checks each answer: never a 5xx; the status one the document lists
for the operation; the body fitting that status's schema and media type; bodies
the document calls invalid refused with a 4xx; and without the token, 401.

Deterministic (``derandomize``) and bounded (``MAX_EXAMPLES`` per operation).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.support.hypothesis import examples
from tests.support.world import World, auth

#: Examples per operation (API_EXAMPLES=500 for a longer hunt; CI keeps the default).
MAX_EXAMPLES = int(os.environ.get("API_EXAMPLES") or examples(10))


@pytest.fixture
def api(world_app):
    """The document as the app on a fresh copy of the world serves it."""
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world_app)
    loaded.config.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
        max_examples=MAX_EXAMPLES, deterministic=True, allow_x00=True)
    return loaded


schema = schemathesis.pytest.from_fixture("api")


def _place(here: World, case) -> dict[str, str]:
    """The world's own trial or café in the path, and the headers with the token
    of the caller the operation is for (given to schemathesis as the caller's
    own, so that it also tries the operation without them); neither where this
    case was made wrong on purpose."""
    meta = case.meta
    if meta is None or not meta.is_negative_at(ParameterLocation.PATH):
        path = case.operation.path
        code = next(iter(here.cafes))
        people = here.cafes[code] if "{code}" in path else here.trial_people
        values = {"trial_id": here.trial["id"], "code": code,
                  "participant_id": people[1][1]}
        case.path_parameters = {name: values.get(name, value)
                                for name, value in (case.path_parameters or {}).items()}
    else:
        people = here.trial_people
    if meta is not None and meta.is_negative_at(ParameterLocation.HEADER):
        return {}
    security = case.operation.definition.raw.get("security") or []
    names = {name for requirement in security for name in requirement}
    if "organiserToken" in names:
        return auth(here.organiser)
    if "participantToken" in names:
        code = next(iter(here.cafes))
        token = (here.cafes[code] if "{code}" in case.operation.path else people)[0][0]
        return auth(token)
    return {}


#: Left out: "schema-valid data is accepted". The services hold rules a JSON
#: Schema cannot say (printable text only; tables or table_size, not both; a
#: whole number written 5, not 5.0), and refuse such bodies with a 400 naming
#: the field, as they should.
EXCLUDED = [positive_data_acceptance]


def _keeps_its_contract(case, world) -> None:
    case.call_and_validate(headers=_place(world, case), excluded_checks=EXCLUDED)


# One test per group of operations (the document's tags), so that the workers share them.
SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck))


@schema.include(tag="trials").parametrize()
@SETTINGS
def test_trial_operations_keep_their_contract(case, world):
    _keeps_its_contract(case, world)


@schema.include(tag="participants").parametrize()
@SETTINGS
def test_participant_operations_keep_their_contract(case, world):
    _keeps_its_contract(case, world)


@schema.include(tag="cafes").parametrize()
@SETTINGS
def test_cafe_operations_keep_their_contract(case, world):
    _keeps_its_contract(case, world)


@schema.include(tag="analytics").parametrize()
@SETTINGS
def test_analytics_operations_keep_their_contract(case, world):
    _keeps_its_contract(case, world)


def test_every_operation_is_in_a_group():
    from tests.support.openapi import openapi

    tags = {op["tags"][0] for item in openapi()["paths"].values() for op in item.values()}
    assert tags == {"trials", "participants", "cafes", "analytics"}
