"""The JSON API of a trial's evaluation (docs/api.md, "Evaluation"; what each
figure means: docs/evaluation.md), and the same report as a PDF, Word,
Markdown or CSV document."""

from __future__ import annotations

from flask import jsonify, request

from matcher.evaluation import evaluate, read_period
from web.api import schemas
from web.api.base import blueprint, organiser_required
from web.api.spec import ORGANISER, operation
from web.api.trials import own_trial
from web.extensions import session
from web.reports import DOCUMENT_TYPES, report_download

__all__: list[str] = []

_FORMAT = "any(" + ", ".join(f"'{kind}'" for kind in DOCUMENT_TYPES) + "):kind"


def _evaluation(trial_id: int):
    trial = own_trial(trial_id)
    return evaluate(session(), trial, read_period(request.args.get("from"),
                                                  request.args.get("to")))


@blueprint.get("/trials/<int:trial_id>/evaluation")
@organiser_required
@operation("trialEvaluation", {200: schemas.Evaluation}, (403, 404), security=ORGANISER,
           tag="analytics")
def trial_evaluation(trial_id: int):
    """The trial's evaluation over all its rounds, or a period (``from``, ``to``).

    Participation and response rate, the shares who met, had known their
    partner, would do it again, the mean usefulness (each with its number of
    answers), the cross-department ties made, the quotes people agreed to
    share (without names), each round, and the network before and after."""
    return jsonify(_evaluation(trial_id).as_dict())


@blueprint.get(f"/trials/<int:trial_id>/evaluation.<{_FORMAT}>")
@organiser_required
@operation("trialEvaluationDocument", {200: (None, "the report as a document")}, (403, 404),
           security=ORGANISER, tag="analytics")
def trial_evaluation_document(trial_id: int, kind: str):
    """The evaluation as a document to send on: PDF, Word (.docx), Markdown or
    CSV (the figures), each with how the figures were computed."""
    return report_download(_evaluation(trial_id), kind)
