"""A café's harvest page for its organiser (docs/harvest.md): every round's notes
by table with their votes, the review formats' grid, the pledges; hiding and
merging notes; the lessons-learnt record's downloads."""

from __future__ import annotations

import re

from flask import Blueprint, abort, redirect, render_template, request, url_for

from matcher.cafes import CafeError
from matcher.harvest import harvest, hide_note, kept, merge_note
from web.extensions import session, socketio
from web.organiser import own_cafe, signed_in
from web.push import push_note_change
from web.reports import DOCUMENT_TYPES, RECORD_LABELS, harvest_download

__all__ = ["blueprint"]

blueprint = Blueprint("harvest", __name__, url_prefix="/organiser")

def _page(cafe, error: str | None = None, status: int = 200):
    everything = harvest(session(), cafe, hidden=True)
    return render_template("organiser/harvest.html", cafe=cafe, error=error,
                           all_notes=everything, record=kept(everything),
                           formats=list(RECORD_LABELS.items())), status


@blueprint.get("/cafes/<int:cafe_id>/harvest")
@signed_in
def cafe_page(cafe_id: int):
    """The café's harvest, with the organiser's hide and merge buttons."""
    return _page(own_cafe(cafe_id))


def _change(cafe_id: int, change, note_id: int):
    cafe = own_cafe(cafe_id)
    db = session()
    try:
        note = change(db, cafe)
    except CafeError as exc:
        db.rollback()
        return _page(cafe, str(exc), exc.status)
    db.commit()
    push_note_change(socketio, cafe, note)
    return redirect(url_for("harvest.cafe_page", cafe_id=cafe.id) + f"#note-{note_id}", 303)


@blueprint.post("/cafes/<int:cafe_id>/notes/<int:note_id>/hide")
@signed_in
def hide(cafe_id: int, note_id: int):
    """Hide a note from the record (``hidden=no``: show it again)."""
    hidden = request.form.get("hidden", "yes") != "no"
    return _change(cafe_id, lambda db, cafe: hide_note(db, cafe, note_id, hidden), note_id)


@blueprint.post("/cafes/<int:cafe_id>/notes/<int:note_id>/merge")
@signed_in
def merge(cafe_id: int, note_id: int):
    """Merge a duplicate into the note chosen (``into`` empty: take it back)."""
    into = request.form.get("into", "").strip().lstrip("#")
    # A note number as people type it; anything else goes to the service as it
    # is, which names the field (400).
    into_id: object = int(into) if re.fullmatch(r"[0-9]{1,10}", into) else (into or None)
    return _change(cafe_id, lambda db, cafe: merge_note(db, cafe, note_id, into_id),
                   note_id)


@blueprint.get("/cafes/<int:cafe_id>/harvest.<kind>")
@signed_in
def download(cafe_id: int, kind: str):
    """The lessons-learnt record as a PDF, Word, Markdown or CSV download."""
    if kind not in DOCUMENT_TYPES:
        abort(404)
    return harvest_download(harvest(session(), own_cafe(cafe_id)), kind)
