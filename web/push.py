"""Socket.IO pushes: one serialiser per event, plain dicts, sent to rooms."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.models import Membership, Round, Trial
from matcher.trials import current_match, publish_round

__all__ = ["match_payload", "participant_room", "publish_and_push", "push_match"]


def participant_room(public_id: str) -> str:
    """The room of every connection (tab, device) of one participant."""
    return f"participant:{public_id}"


def match_payload(match: dict[str, object]) -> dict[str, object]:
    """SPEC §6 ``match``: the trial, the round and the partners (name,
    department, email), nothing else."""
    return {
        "trial": match["trial"],
        "round": match["round"],
        "partners": [
            {"name": p["name"], "department": p["department"], "email": p["email"]}
            for p in match["partners"]
        ],
        "sitting_out": match["sitting_out"],
    }


def push_match(socketio, membership: Membership, match: dict[str, object]) -> None:
    """Send ``match`` to that participant's connections only."""
    socketio.emit("match", match_payload(match), to=participant_room(membership.person.public_id))


def publish_and_push(socketio, db: Session, trial: Trial, *, seed: int | None,
                     time_limit: float) -> Round:
    """Publish the next round (committed), then push each member's match."""
    stored = publish_round(db, trial, seed=seed, time_limit=time_limit)
    db.commit()
    people = {m.person_id for m in stored.members}
    for membership in db.scalars(select(Membership).where(Membership.trial_id == trial.id)):
        if membership.person_id in people:
            push_match(socketio, membership, current_match(db, membership))
    return stored
