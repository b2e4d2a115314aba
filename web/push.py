"""Socket.IO pushes: one serialiser per event, plain dicts, sent to rooms."""

from __future__ import annotations

from matcher.models import Membership

__all__ = ["match_payload", "participant_room", "push_match"]


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
