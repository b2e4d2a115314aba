"""Feedback: what a participant says about one round of a trial (docs/api.md,
"Feedback"; docs/evaluation.md says how the report counts it).

A round's answers are: did the meeting happen (``met``), had they known each
other before, how useful it was (1–5), would they do it again, what they
learnt or will do differently, and whether that may be quoted (anonymously).
Answering again replaces the earlier answers for that round, until the next
round is published; then that round's answers are closed.

``met`` is one fact with the "did you meet?" answer of the check-in mail and
the personal page: :func:`set_met` writes it to the member's place in the
round (:class:`~matcher.models.GroupMember`, which the solvers' history
reads) and to their feedback in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from matcher.errors import ServiceError
from matcher.models import Feedback, GroupMember, Membership, Round
from matcher.times import utc_now
from matcher.validation import long_text

__all__ = [
    "LEARNT_LIMIT",
    "Answers",
    "FeedbackError",
    "answers_json",
    "check_answers",
    "feedback_for",
    "forget_answers",
    "open_round",
    "record_feedback",
    "set_met",
]

#: The longest "what did you learn" answer, in characters (docs/api.md).
LEARNT_LIMIT = 2000
#: The optional answers and their kinds, as the API names them.
_FLAGS = ("knew_before", "again", "share")


class FeedbackError(ServiceError):
    """Feedback that cannot be recorded."""


@dataclass(frozen=True)
class Answers:
    """One participant's answers about one round, checked (``None``: not given)."""

    round: int
    met: bool
    knew_before: bool | None = None
    useful: int | None = None
    again: bool | None = None
    learnt: str = ""
    share: bool = False


def _flag(data: dict, field: str) -> bool | None:
    value = data.get(field)
    if value is not None and not isinstance(value, bool):
        raise FeedbackError(400, "invalid", f"{field} must be true or false", field)
    return value


def _learnt(value: object) -> str:
    """The free text: kept with its line breaks, refused with other control
    characters or too long."""
    return long_text(value, "learnt", required=False, limit=LEARNT_LIMIT, error=FeedbackError)


def check_answers(data: dict) -> Answers:
    """Answers from a request (docs/api.md), each refused (400) by its field."""
    number = data.get("round")
    if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 2**31 - 1:
        raise FeedbackError(400, "invalid", "round must be a round number (1 or more)", "round")
    met = data.get("met")
    if not isinstance(met, bool):
        raise FeedbackError(400, "invalid", "met must be true or false", "met")
    useful = data.get("useful")
    if useful is not None and (not isinstance(useful, int) or isinstance(useful, bool)
                               or not 1 <= useful <= 5):
        raise FeedbackError(400, "invalid", "useful must be a whole number from 1 to 5",
                            "useful")
    flags = {field: _flag(data, field) for field in _FLAGS}
    return Answers(round=number, met=met, knew_before=flags["knew_before"], useful=useful,
                   again=flags["again"], learnt=_learnt(data.get("learnt")),
                   share=bool(flags["share"]))


def _place(session: Session, membership: Membership, number: int
           ) -> tuple[Round, GroupMember]:
    """The round ``number`` of the member's trial and their place in it; 404 if
    there is no such round, 409 if they were in no group in it."""
    stored = session.scalar(select(Round).where(Round.trial_id == membership.trial_id,
                                                Round.number == number))
    if stored is None:
        raise FeedbackError(404, "not_found", f"there is no round {number}", "round")
    place = session.scalar(select(GroupMember).where(
        GroupMember.round_id == stored.id, GroupMember.person_id == membership.person_id))
    if place is None or place.group_id is None:
        raise FeedbackError(409, "no_meeting", f"you had no meeting in round {number}",
                            "round")
    return stored, place


def open_round(session: Session, trial_id: int) -> int:
    """The round whose feedback is open: the latest (0 before any round)."""
    return session.scalar(select(func.max(Round.number)).where(Round.trial_id == trial_id)) or 0


def _answer_of(session: Session, stored: Round, person_id: int) -> Feedback | None:
    return session.scalar(select(Feedback).where(Feedback.round_id == stored.id,
                                                 Feedback.person_id == person_id))


def set_met(session: Session, membership: Membership, number: int, met: bool) -> GroupMember:
    """Say whether the meeting of round ``number`` happened: the member's place
    and their feedback (made with only ``met`` if they had given none) agree.
    Raises as :func:`_place` does."""
    stored, place = _place(session, membership, number)
    place.met = met
    answer = _answer_of(session, stored, membership.person_id)
    if answer is None:
        session.add(Feedback(trial_id=membership.trial_id, round_id=stored.id,
                             person_id=membership.person_id, met=met, learnt="",
                             share=False, answered_at=utc_now()))
    else:
        answer.met = met
    session.flush()
    return place


def record_feedback(session: Session, membership: Membership, answers: Answers) -> Feedback:
    """Store ``answers`` for their round (replacing earlier ones), in the caller's
    transaction. Only the latest round's answers are open: once the next round
    is published, 409 ``closed``."""
    stored, place = _place(session, membership, answers.round)
    if answers.round != open_round(session, membership.trial_id):
        raise FeedbackError(409, "closed", f"round {answers.round}'s feedback closed when "
                            "the next round was published", "round")
    place.met = answers.met
    answer = _answer_of(session, stored, membership.person_id)
    if answer is None:
        answer = Feedback(trial_id=membership.trial_id, round_id=stored.id,
                          person_id=membership.person_id)
        session.add(answer)
    answer.met = answers.met
    answer.knew_before = answers.knew_before
    answer.useful = answers.useful
    answer.again = answers.again
    answer.learnt = answers.learnt
    answer.share = answers.share and bool(answers.learnt)
    answer.answered_at = utc_now()
    session.flush()
    return answer


def feedback_for(session: Session, membership: Membership, number: int) -> Feedback | None:
    """The member's own answers about round ``number``, if any."""
    stored = session.scalar(select(Round).where(Round.trial_id == membership.trial_id,
                                                Round.number == number))
    return None if stored is None else _answer_of(session, stored, membership.person_id)


def forget_answers(session: Session, membership: Membership) -> None:
    """A member leaves: their answers in this trial stay (they are counted) but
    are no longer linked to them."""
    session.execute(update(Feedback)
                    .where(Feedback.trial_id == membership.trial_id,
                           Feedback.person_id == membership.person_id)
                    .values(person_id=None))


def answers_json(answer: Feedback | None, number: int | None) -> dict[str, object]:
    """A member's answers as the API gives them back (``met`` ``None``: none yet)."""
    if answer is None:
        return {"round": number, "met": None, "knew_before": None, "useful": None,
                "again": None, "learnt": "", "share": False}
    return {"round": number, "met": answer.met, "knew_before": answer.knew_before,
            "useful": answer.useful, "again": answer.again, "learnt": answer.learnt,
            "share": answer.share}
