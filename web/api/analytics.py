"""The JSON API of mixing analytics (docs/api.md): a trial's or a café's, and the
numbers behind each chart as CSV."""

from __future__ import annotations

from dataclasses import asdict

from flask import jsonify

from matcher import analytics as mixing
from matcher.analytics import CHART_ALIASES, CHARTS, Analytics, chart_named
from web.analytics import download
from web.api import schemas
from web.api.base import blueprint, organiser_required
from web.api.cafes import own_cafe
from web.api.spec import ORGANISER, operation
from web.api.trials import own_trial

__all__ = ["analytics_json"]

#: The charts, as a route's choice (anything else: 404); earlier spellings too.
_CHART = "any(" + ", ".join(f"'{chart}'" for chart in (*CHARTS, *CHART_ALIASES)) + "):chart"
_CSV = (None, "the numbers behind the chart (names and departments, safe for spreadsheets)")


def analytics_json(analytics: Analytics) -> dict[str, object]:
    """The analytics as the API answers them (names and departments only)."""
    h, c = analytics.heatmap, analytics.coverage
    return {
        "kind": analytics.kind,
        "name": analytics.name,
        "heatmap": {"departments": [asdict(d) for d in h.departments],
                    "meetings": [list(row) for row in h.meetings],
                    "total": h.total, "cross_department": h.cross_department},
        "ties": [asdict(t) for t in analytics.ties],
        "coverage": asdict(c) | {"met_outside_share": c.met_outside_share,
                                 "department_pairs_share": c.department_pairs_share},
        "not_yet_mixed": [asdict(p) for p in analytics.not_yet_mixed],
        "participation": asdict(analytics.participation),
    }


@blueprint.get("/trials/<int:trial_id>/analytics")
@organiser_required
@operation("trialAnalytics", {200: schemas.Analytics}, (403, 404), security=ORGANISER,
           tag="analytics")
def trial_analytics(trial_id: int):
    """How well the trial mixes the organisation.

    Meetings between departments, new ties per round, coverage, who has not
    yet mixed, participation."""
    return jsonify(analytics_json(mixing.trial_analytics(own_trial(trial_id))))


@blueprint.get(f"/trials/<int:trial_id>/analytics/<{_CHART}>.csv")
@organiser_required
@operation("trialAnalyticsCsv", {200: _CSV}, (403, 404), security=ORGANISER, tag="analytics")
def trial_analytics_csv(trial_id: int, chart: str):
    """The numbers behind one chart of the trial's analytics, as CSV."""
    trial = own_trial(trial_id)
    return download(mixing.trial_analytics(trial), chart_named(chart), "csv",
                    f"trial-{trial.id}")


@blueprint.get("/cafes/<code>/analytics")
@organiser_required
@operation("cafeAnalytics", {200: schemas.Analytics}, (403, 404), security=ORGANISER,
           tag="analytics")
def cafe_analytics(code: str):
    """How well the café mixed its people across its played rounds."""
    return jsonify(analytics_json(mixing.cafe_analytics(own_cafe(code))))


@blueprint.get(f"/cafes/<code>/analytics/<{_CHART}>.csv")
@organiser_required
@operation("cafeAnalyticsCsv", {200: _CSV}, (403, 404), security=ORGANISER, tag="analytics")
def cafe_analytics_csv(code: str, chart: str):
    """The numbers behind one chart of the café's analytics, as CSV."""
    cafe = own_cafe(code)
    return download(mixing.cafe_analytics(cafe), chart_named(chart), "csv",
                    f"cafe-{cafe.code}")
