"""The JSON API of a café's harvest (docs/api.md, "Harvest"; docs/harvest.md):
notes, pledges and votes from participants; hiding and merging by the
organiser; the record, and the same as a Markdown, Word, PDF or CSV document."""

from __future__ import annotations

from flask import current_app, jsonify

from matcher.harvest import (
    harvest,
    hide_note,
    merge_note,
    note_entry,
    pledge_view,
    post_note,
    post_pledge,
    vote,
    votes_open,
    voting_notes,
)
from web.api import schemas
from web.api.base import blueprint, body, organiser_required
from web.api.cafes import calling_attendee, own_cafe
from web.api.spec import ORGANISER, PARTICIPANT, operation
from web.extensions import session, socketio
from web.push import push_note, push_note_change, push_screen
from web.reports import DOCUMENT_TYPES, harvest_download

__all__: list[str] = []

_FORMAT = "any(" + ", ".join(f"'{kind}'" for kind in DOCUMENT_TYPES) + "):kind"


@blueprint.post("/cafes/<code>/notes")
@operation("postNote", {201: schemas.NoteCreated}, (403, 404, 409), json=schemas.NoteIn,
           security=PARTICIPANT, tag="cafes")
def new_note(code: str):
    """Post a note of your table in the current round.

    It reaches your table's phones, the console and the big screen at once;
    the next group at your table sees it. 409 outside a running round."""
    attendee = calling_attendee(code)
    db = session()
    note = post_note(db, attendee, body().get("text"))
    db.commit()
    push_note(socketio, attendee.cafe, note)
    return jsonify({"note_id": note.id, "round": note.round_number,
                    "table": note.table_number}), 201


@blueprint.get("/cafes/<code>/notes")
@operation("votingNotes", {200: schemas.VotingNotes}, (403, 404), security=PARTICIPANT,
           tag="cafes")
def notes_to_vote_on(code: str):
    """Every note kept, to vote on once the café's last round is over (no authors)."""
    attendee = calling_attendee(code)
    return jsonify({"votes_open": votes_open(attendee.cafe),
                    "notes": voting_notes(session(), attendee)})


def _vote(code: str, note_id: int, on: bool):
    attendee = calling_attendee(code)
    db = session()
    result = vote(db, attendee, note_id, on=on)
    db.commit()
    push_screen(socketio, attendee.cafe)
    return jsonify(result)


@blueprint.post("/cafes/<code>/notes/<int:note_id>/vote")
@operation("voteForNote", {200: schemas.VoteResult}, (403, 404, 409), security=PARTICIPANT,
           tag="cafes")
def vote_for(code: str, note_id: int):
    """Vote for a note (one vote per note per person), after the café's last round."""
    return _vote(code, note_id, True)


@blueprint.delete("/cafes/<code>/notes/<int:note_id>/vote")
@operation("takeVoteBack", {200: schemas.VoteResult}, (403, 404, 409), security=PARTICIPANT,
           tag="cafes")
def take_vote_back(code: str, note_id: int):
    """Take your vote for a note back."""
    return _vote(code, note_id, False)


@blueprint.post("/cafes/<code>/pledges")
@operation("pledge", {201: schemas.PledgeOut}, (403, 404, 409), json=schemas.PledgeIn,
           security=PARTICIPANT, tag="cafes")
def new_pledge(code: str):
    """Pledge one action you will take (in the last round or after the end).

    It replaces your earlier pledge. If the café mails pledges back and you gave
    an email, it comes back to you after the days the organiser chose."""
    attendee = calling_attendee(code)
    db = session()
    made, message = post_pledge(db, attendee, body().get("text"),
                                sender=current_app.extensions["matcher.mailer"].sender)
    db.commit()
    if message is not None:
        current_app.extensions["matcher.jobs"].wake_at(message.due_at)
    return jsonify(pledge_view(db, made)), 201


@blueprint.post("/cafes/<code>/notes/<int:note_id>/hide")
@organiser_required
@operation("hideNote", {200: schemas.HarvestNote}, (403, 404), json=schemas.HideRequest,
           security=ORGANISER, tag="cafes")
def hide(code: str, note_id: int):
    """Hide a note from the record and the screens (`{"hidden": false}`: show it again)."""
    cafe = own_cafe(code)
    db = session()
    note = hide_note(db, cafe, note_id, body().get("hidden"))
    db.commit()
    push_note_change(socketio, cafe, note)
    return jsonify(note_entry(db, cafe, note.id))


@blueprint.post("/cafes/<code>/notes/<int:note_id>/merge")
@organiser_required
@operation("mergeNote", {200: schemas.HarvestNote}, (403, 404), json=schemas.MergeRequest,
           security=ORGANISER, tag="cafes")
def merge(code: str, note_id: int):
    """Merge a duplicate into another note: it leaves the record and its votes go
    there (`{"into": null}` takes it back)."""
    cafe = own_cafe(code)
    db = session()
    note = merge_note(db, cafe, note_id, body().get("into"))
    db.commit()
    push_note_change(socketio, cafe, note)
    return jsonify(note_entry(db, cafe, note.id))


@blueprint.get("/cafes/<code>/harvest")
@organiser_required
@operation("cafeHarvest", {200: schemas.Harvest}, (403, 404), security=ORGANISER,
           tag="cafes")
def cafe_harvest(code: str):
    """The café's harvest: every round's notes by table (most voted first; hidden
    and merged ones marked), the review formats' grid, and the pledges."""
    return jsonify(harvest(session(), own_cafe(code), hidden=True))


@blueprint.get(f"/cafes/<code>/harvest.<{_FORMAT}>")
@organiser_required
@operation("cafeHarvestDocument", {200: (None, "the lessons-learnt record as a document")},
           (403, 404), security=ORGANISER, tag="cafes")
def cafe_harvest_document(code: str, kind: str):
    """The lessons-learnt record: Markdown, Word (.docx), PDF or CSV, hidden and
    merged notes left out."""
    cafe = own_cafe(code)
    return harvest_download(harvest(session(), cafe), kind)
