"""Mixing analytics pages: for a trial or a café of the signed-in
organiser, the charts of :mod:`matcher.analytics` drawn as SVG in the page,
each downloadable as an ``.svg`` file with its numbers as CSV (the JSON API's
analytics, in :mod:`web.api.analytics`, use :func:`download` for theirs).

Where bars and cells go, their colours and the sentences that describe each
chart are :mod:`web.charts`'.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, url_for

from matcher import analytics as mixing
from matcher.analytics import (
    CHARTS,
    DRAWN,
    Analytics,
    analytics_csv,
    chart_named,
)
from web.charts import chart_view
from web.organiser import own_cafe, own_trial, signed_in

__all__ = ["blueprint", "download"]

blueprint = Blueprint("analytics", __name__, url_prefix="/organiser")

#: Media types of the downloads.
MIMETYPES = {"svg": "image/svg+xml", "csv": "text/csv"}
#: A downloaded SVG is a document of its own: it may run nothing and load nothing.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


def _page(analytics: Analytics, back: str, link):
    """The analytics page; ``link(chart, kind)`` is the URL of one download."""
    charts = {name: chart_view(analytics, name) for name in CHARTS}
    return render_template("organiser/analytics.html", a=analytics, charts=charts,
                           drawn=DRAWN, back=back, download=link)


def download(analytics: Analytics, chart: str, kind: str, stem: str) -> Response:
    if kind == "csv":
        body = analytics_csv(analytics, chart)
        headers = {}
    else:
        body = render_template("organiser/analytics_chart.html", c=chart_view(analytics, chart),
                               a=analytics)
        headers = {"Content-Security-Policy": SVG_POLICY}
    headers["Content-Disposition"] = f'attachment; filename="{stem}-{chart}.{kind}"'
    return Response(body, mimetype=MIMETYPES[kind], headers=headers)


def _chart(chart: str, kind: str) -> str:
    """The chart the URL names (an earlier spelling too); 404 for anything else."""
    named = chart_named(chart)
    if kind not in MIMETYPES or named is None or (kind == "svg" and named not in DRAWN):
        abort(404)
    return named


@blueprint.get("/trials/<int:trial_id>/analytics")
@signed_in
def trial_page(trial_id: int):
    """How well a trial mixes the organisation: heatmap, ties, coverage, who has
    not yet mixed, participation."""
    trial = own_trial(trial_id)
    return _page(mixing.trial_analytics(trial), url_for("organiser.trial_page", trial_id=trial.id),
                 lambda chart, kind: url_for("analytics.trial_download", trial_id=trial.id,
                                             chart=chart, kind=kind))


@blueprint.get("/trials/<int:trial_id>/analytics/<chart>.<kind>")
@signed_in
def trial_download(trial_id: int, chart: str, kind: str):
    """One chart of a trial's analytics as an SVG file, or its numbers as CSV."""
    chart = _chart(chart, kind)
    trial = own_trial(trial_id)
    return download(mixing.trial_analytics(trial), chart, kind, f"trial-{trial.id}")


@blueprint.get("/cafes/<int:cafe_id>/analytics")
@signed_in
def cafe_page(cafe_id: int):
    """How well a café mixed its people across its rounds so far."""
    cafe = own_cafe(cafe_id)
    return _page(mixing.cafe_analytics(cafe), url_for("organiser.cafe_console", cafe_id=cafe.id),
                 lambda chart, kind: url_for("analytics.cafe_download", cafe_id=cafe.id,
                                             chart=chart, kind=kind))


@blueprint.get("/cafes/<int:cafe_id>/analytics/<chart>.<kind>")
@signed_in
def cafe_download(cafe_id: int, chart: str, kind: str):
    """One chart of a café's analytics as an SVG file, or its numbers as CSV."""
    chart = _chart(chart, kind)
    cafe = own_cafe(cafe_id)
    return download(mixing.cafe_analytics(cafe), chart, kind, f"cafe-{cafe.code}")
