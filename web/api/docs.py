"""The API describes itself: its OpenAPI document and a page to read it."""

from __future__ import annotations

from flask import jsonify, render_template

from web.api.base import blueprint
from web.api.spec import document

__all__: list[str] = []


@blueprint.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 document of this API (public)."""
    return jsonify(document())


@blueprint.get("/docs")
def docs_page():
    """The API's reference, read from its OpenAPI document (public)."""
    return render_template("api_docs.html")
