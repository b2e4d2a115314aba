"""The API's OpenAPI document (web/api/spec.py) as the tests read it, through
schemathesis: the document itself, and a check that an answer is one the
document promises (its status listed for the operation, its body fitting the
schema of that status and media type)."""

from __future__ import annotations

from functools import cache
from typing import Any

import schemathesis
from flask import Flask
from schemathesis.specs.openapi.schemas import OpenApiSchema

from web.api import blueprint
from web.api.spec import document

__all__ = ["PREFIX", "check_response", "openapi", "schema"]

PREFIX = "/api/v1"


@cache
def openapi() -> dict[str, Any]:
    """The document, generated from the API's routes (on an app holding only them:
    the document is the same for every app)."""
    app = Flask("openapi")
    app.register_blueprint(blueprint)
    with app.app_context():
        return document()


@cache
def schema() -> OpenApiSchema:
    """The document, loaded by schemathesis."""
    return schemathesis.openapi.from_dict(openapi())


def check_response(method: str, path: str, response) -> None:
    """Fail unless ``response`` (a Flask test response to ``method path``) is
    documented: its status for this operation, and its body fitting the schema."""
    operation = schema().find_operation_by_path(method, path.split("?")[0])
    assert operation is not None, f"{method} {path}: no such operation"
    status = str(response.status_code)
    assert status in operation.definition.raw["responses"], (
        f"{method} {path}: {status} is not documented")
    operation.validate_response(response)
