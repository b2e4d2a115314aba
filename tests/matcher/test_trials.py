"""Coffee-trial services against a real database (migrated with Alembic): SQLite or
PostgreSQL, as tests/conftest.py says."""

import csv

import pytest
from sqlalchemy import func, select

from matcher import db, pair
from matcher.models import GroupMember, Organiser, Person
from matcher.trials import (
    TrialError,
    create_trial,
    current_match,
    leave,
    owned_trial,
    publish_round,
    record_met,
    set_paused,
    signup,
)

DEPARTMENTS = ["Nursing", "Nursing", "Nursing", "Pharmacy", "Estates", "Finance", "IT", "HR"]


@pytest.fixture
def session(database_url):
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    with db.make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def trial(session):
    organiser = Organiser(email="org@example.org", name="Org")
    session.add(organiser)
    return create_trial(session, organiser, "Spring coffee", confirm_email=False)


def join(session, trial, k, **extra):
    fields = {"name": f"Person {k}", "email": f"p{k}@example.org",
              "department": DEPARTMENTS[k % len(DEPARTMENTS)], "site": ["York", "Leeds"][k % 2]}
    return signup(session, trial, trial.join_code, fields | extra)


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"email": "a@example.org", "department": "IT"}, "name"),
        ({"name": "A", "department": "IT"}, "email"),
        ({"name": "A", "email": "not-an-email", "department": "IT"}, "email"),
        ({"name": "A", "email": "a@example.org"}, "department"),
        ({"name": "A" * 201, "email": "a@example.org", "department": "IT"}, "name"),
        ({"name": "A", "email": "a@example.org", "department": "IT", "mode": "zoom"}, "mode"),
    ],
)
def test_signup_names_the_bad_field(session, trial, fields, field):
    with pytest.raises(TrialError) as caught:
        signup(session, trial, trial.join_code, fields)
    assert (caught.value.status, caught.value.field) == (400, field)


def test_signup_needs_the_join_code(session, trial):
    with pytest.raises(TrialError) as caught:
        signup(session, trial, "guess", {"name": "A", "email": "a@example.org",
                                         "department": "IT"})
    assert caught.value.status == 403


def test_same_email_twice_is_a_conflict_and_one_person_across_trials(session, trial):
    join(session, trial, 1)
    with pytest.raises(TrialError) as caught:
        join(session, trial, 1, name="Someone Else")
    assert caught.value.status == 409
    other = create_trial(session, trial.organiser, "Autumn coffee", confirm_email=False)
    join(session, other, 1)
    assert session.scalar(select(func.count()).select_from(Person)) == 1


def test_create_trial_checks_its_fields(session, trial):
    for kwargs, field in (({"group_size": 1}, "group_size"), ({"odd": "drop"}, "odd"),
                          ({"weights": {"department": -1}}, "weights")):
        with pytest.raises(TrialError) as caught:
            create_trial(session, trial.organiser, "X", **kwargs)
        assert caught.value.field == field
    with pytest.raises(TrialError) as caught:
        create_trial(session, trial.organiser, "  ")
    assert caught.value.field == "name"


def test_rounds_place_every_active_member_and_avoid_repeats(session, trial):
    members = [join(session, trial, k).membership for k in range(8)]
    set_paused(session, members[7], True)
    seen = set()
    for number in (1, 2, 3):
        stored = publish_round(session, trial, seed=number)
        assert stored.number == number
        placed = [m.person_id for m in stored.members]
        assert sorted(placed) == sorted(m.person_id for m in members[:7])
        for group in stored.groups:
            ids = sorted(m.person_id for m in group.members)
            for i, a in enumerate(ids):
                for b in ids[i + 1:]:
                    assert (a, b) not in seen
                    seen.add((a, b))
        assert stored.metrics["repeats"] == 0


def test_a_meeting_that_did_not_happen_does_not_count(session, trial):
    first, second = (join(session, trial, k).membership for k in range(2))
    publish_round(session, trial, seed=1)
    record_met(session, first, False)
    record_met(session, second, False)
    assert publish_round(session, trial, seed=2).metrics["repeats"] == 0
    record_met(session, first, True)
    assert publish_round(session, trial, seed=3).metrics["repeats"] == 1


def test_current_match_shows_partners_only(session, trial):
    members = [join(session, trial, k).membership for k in range(4)]
    assert current_match(session, members[0]) is None
    publish_round(session, trial, seed=1)
    match = current_match(session, members[0])
    assert match["round"] == 1 and len(match["partners"]) == 1
    partner = match["partners"][0]
    assert set(partner) == {"name", "department", "email"}
    assert partner["email"] != "p0@example.org"


def test_leaving_deletes_the_persons_data(session, trial):
    members = [join(session, trial, k).membership for k in range(4)]
    publish_round(session, trial, seed=1)
    person_id = members[0].person_id
    leave(session, members[0])
    session.flush()
    assert session.get(Person, person_id) is None
    rows = session.scalars(select(GroupMember).where(GroupMember.person_id == person_id)).all()
    assert rows == []
    assert len(publish_round(session, trial, seed=2).members) == 3


def test_published_round_equals_the_command_line(session, trial, tmp_path, capsys):
    """One engine, two doors: the same people, history and seed give the same round."""
    members = [join(session, trial, k).membership for k in range(9)]
    for number in (1, 2):
        publish_round(session, trial, seed=number)
    people = tmp_path / "people.csv"
    with people.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["id", "name", "email", "department", "site", "mode"])
        for m in members:
            p = m.person
            writer.writerow([p.public_id, p.name, p.email, p.department, p.site, p.mode])
    history = tmp_path / "history.csv"
    with history.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["round", "group", "person_id"])
        for stored in trial.rounds:
            for row in sorted(stored.members, key=lambda r: (r.group.number if r.group else 0)):
                writer.writerow([stored.number, row.group.number if row.group else "",
                                 row.person.public_id])
    status = pair.main([str(people), "--history", str(history), "--seed", "7",
                        "--format", "json"])
    assert status == 0
    import json

    from_cli = json.loads(capsys.readouterr().out)["rounds"][0]
    stored = publish_round(session, trial, seed=7)
    from_app = [sorted(m.person.public_id for m in g.members) for g in stored.groups]
    assert [sorted(g["members"]) for g in from_cli["groups"]] == from_app


def test_only_its_organiser_owns_a_trial(session, trial):
    other = Organiser(email="other@example.org", name="Other")
    session.add(other)
    session.flush()
    assert owned_trial(session, trial.organiser, trial.id) is trial
    for organiser, trial_id, status in ((other, trial.id, 403),
                                        (trial.organiser, trial.id + 1, 404)):
        with pytest.raises(TrialError) as refused:
            owned_trial(session, organiser, trial_id)
        assert refused.value.status == status
