"""The evaluation page of a trial (docs/evaluation.md): the report of
:mod:`matcher.evaluation` for all rounds or a period, its downloads, and
everything participants wrote (for the organiser alone, without names)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for

from matcher.evaluation import EvaluationError, evaluate, read_period, written_answers
from web.extensions import session
from web.organiser import own_trial, signed_in
from web.reports import DOCUMENT_TYPES, LABELS, report_context, report_download

__all__ = ["blueprint"]

blueprint = Blueprint("evaluation", __name__, url_prefix="/organiser")


def _period():
    """The period of the page's form (a date left empty: open)."""
    return read_period(request.args.get("from") or None, request.args.get("to") or None)


@blueprint.get("/trials/<int:trial_id>/evaluation")
@signed_in
def trial_page(trial_id: int):
    """The trial's evaluation, for all rounds or the period asked for."""
    trial = own_trial(trial_id)
    try:
        period = _period()
    except EvaluationError as exc:
        return render_template("organiser/evaluation.html", trial=trial, e=None,
                               error=f"{exc}."), 400
    e = evaluate(session(), trial, period)
    args = {k: v for k, v in (("from", request.args.get("from")),
                              ("to", request.args.get("to"))) if v}
    return render_template(
        "organiser/evaluation.html", trial=trial, error=None,
        learnt=written_answers(session(), trial, period),
        formats=list(LABELS.items()),
        download=lambda kind: url_for("evaluation.trial_download", trial_id=trial.id,
                                      kind=kind, **args),
        **report_context(e))


@blueprint.get("/trials/<int:trial_id>/evaluation.<kind>")
@signed_in
def trial_download(trial_id: int, kind: str):
    """The report as a PDF, Word, Markdown or CSV download."""
    if kind not in DOCUMENT_TYPES:
        abort(404)
    trial = own_trial(trial_id)
    try:
        period = _period()
    except EvaluationError:
        abort(400)
    return report_download(evaluate(session(), trial, period), kind)
