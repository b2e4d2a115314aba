"""Knowledge-café services against a real database (SQLite or PostgreSQL, migrated with Alembic):
create, join, hosts, rounds with re-planning, add time, end; and café tables as
part of the one who-met-whom record shared with coffee trials."""

from datetime import UTC, datetime, timedelta
from itertools import combinations

import pytest

from matcher import db
from matcher.cafes import (
    CODE_ALPHABET,
    CafeError,
    add_time,
    attendee_for_token,
    cafe_by_code,
    cafe_state,
    create_cafe,
    current_seat,
    end_cafe,
    join_cafe,
    leave_cafe,
    next_round,
    owned_cafe,
    plan_view,
    round_seats,
    screen_view,
    set_host,
)
from matcher.models import Organiser
from matcher.trials import create_trial, publish_round, signup
from tests.support.app import CAFE_STEPS


@pytest.fixture
def session(databases):
    """A session on a fresh database, a copy of one migrated once (tests/conftest.py)."""
    engine = db.make_engine(databases.new("test", migrated=True))
    with db.make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def organiser(session):
    organiser = Organiser(email="org@example.org", name="Org")
    session.add(organiser)
    session.flush()
    return organiser


def cafe_of(session, organiser, **fields):
    return create_cafe(session, organiser, {"name": "Friday café", "rounds": 3} | fields)


def join(session, cafe, k, **extra):
    fields = {"name": f"Person {k}", "department": ["Nursing", "IT", "HR", "Estates"][k % 4]}
    return join_cafe(session, cafe, fields | extra)


def play(session, cafe, seed=1, steps=CAFE_STEPS):
    """The next round, its search bounded by work (a small café needs far less)."""
    return next_round(session, cafe, seed=seed, time_limit=30, steps=steps)


def tables_of(stored):
    """A stored round's tables as lists of public ids, table 1 first."""
    assert [g.number for g in stored.groups] == list(range(1, len(stored.groups) + 1))
    return [sorted(m.person.public_id for m in g.members) for g in stored.groups]


def check_valid(tables, present, table_count):
    """Every present person at exactly one table; table sizes differ by at most one."""
    seated = [p for table in tables for p in table]
    assert sorted(seated) == sorted(present)
    assert len(tables) == table_count
    sizes = [len(t) for t in tables]
    assert max(sizes) - min(sizes) <= 1, sizes


def pairs_of(tables):
    return {frozenset(p) for table in tables for p in combinations(table, 2)}


def ids(attendees):
    return sorted(a.person.public_id for a in attendees)


# -- create -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"tables": 3, "table_size": 4}, "tables"),
        ({"tables": 0}, "tables"),
        ({"tables": "3"}, "tables"),
        ({"table_size": 1}, "table_size"),
        ({"rounds": 0}, "rounds"),
        ({"rounds": 21}, "rounds"),
        ({"rounds": None}, "rounds"),
        ({"rounds": True}, "rounds"),
        ({"rounds": 2.5}, "rounds"),
        ({"rounds": 2, "questions": ["a", "b", "c"]}, "questions"),
        ({"questions": "one question"}, "questions"),
        ({"questions": ["fine", 7]}, "questions"),
        ({"round_minutes": 0}, "round_minutes"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"weights": {"colour": 3}}, "weights"),
    ],
)
def test_create_cafe_names_the_bad_field(session, organiser, fields, field):
    with pytest.raises(CafeError) as caught:
        cafe_of(session, organiser, **fields)
    assert (caught.value.status, caught.value.field) == (400, field)


def test_create_cafe_defaults_and_code(session, organiser):
    cafe = create_cafe(session, organiser, {"name": "Café", "rounds": 2,
                                            "questions": ["Why?", "How?"]})
    assert cafe.tables is None and cafe.table_size == 5
    assert (cafe.status, cafe.current_round, cafe.round_minutes) == ("lobby", 0, 15)
    assert cafe.questions == ["Why?", "How?"]
    assert len(cafe.code) == 6 and set(cafe.code) <= set(CODE_ALPHABET)
    assert cafe.screen_key and cafe.screen_key != cafe.code
    assert cafe_by_code(session, " " + cafe.code.lower()[:3] + " " + cafe.code[3:].lower()) is cafe
    assert cafe_by_code(session, "") is None
    fixed = cafe_of(session, organiser, tables=4, rounds=20)
    assert (fixed.tables, fixed.table_size, fixed.rounds) == (4, None, 20)
    assert fixed.code != cafe.code
    fewer = cafe_of(session, organiser, rounds=3, questions=["Only one"])
    assert fewer.questions == ["Only one"]


# -- join -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"department": "IT"}, "name"),
        ({"name": "  ", "department": "IT"}, "name"),
        ({"name": "A"}, "department"),
        ({"name": "A", "department": "IT", "email": "not-an-email"}, "email"),
        ({"name": "A", "department": "IT", "email": "bob@"}, "email"),
        ({"name": "A", "department": "IT", "host": "yes"}, "host"),
        ({"name": "A", "department": "IT", "host": 4}, "host"),  # 3 tables
        ({"name": "A", "department": "IT", "host": 0}, "host"),
    ],
)
def test_join_names_the_bad_field(session, organiser, fields, field):
    cafe = cafe_of(session, organiser, tables=3)
    with pytest.raises(CafeError) as caught:
        join_cafe(session, cafe, fields)
    assert (caught.value.status, caught.value.field) == (400, field)


def test_join_gives_a_token_and_counts_who_is_present(session, organiser):
    cafe = cafe_of(session, organiser, tables=2)
    assert cafe_state(cafe)["present"] == 0
    joined = [join(session, cafe, k) for k in range(3)]
    assert cafe_state(cafe) == {"join_code": cafe.code, "cafe": cafe.code, "round": 0, "rounds": 3,
                                "status": "lobby", "ends_at": None, "present": 3}
    assert len({j.token for j in joined}) == 3
    assert attendee_for_token(session, joined[1].token) is joined[1].attendee
    assert attendee_for_token(session, "wrong") is None
    assert attendee_for_token(session, "") is None
    leave_cafe(session, joined[0].attendee)
    assert cafe_state(cafe)["present"] == 2


def test_join_again_with_the_same_email_brings_the_person_back(session, organiser):
    cafe = cafe_of(session, organiser, tables=2)
    first = join(session, cafe, 1, email="Ann@Example.org")
    leave_cafe(session, first.attendee)
    again = join(session, cafe, 1, email="ann@example.org", name="Ann B")
    assert again.attendee is first.attendee and again.attendee.present
    assert again.attendee.name == "Ann B"
    assert attendee_for_token(session, again.token) is again.attendee
    assert cafe_state(cafe)["present"] == 1


def test_a_finished_cafe_cannot_be_joined(session, organiser):
    cafe = cafe_of(session, organiser, tables=2)
    end_cafe(session, cafe)
    with pytest.raises(CafeError) as caught:
        join(session, cafe, 1)
    assert caught.value.status == 409


# -- hosts ------------------------------------------------------------------------------


def test_host_true_takes_the_lowest_free_table(session, organiser):
    cafe = cafe_of(session, organiser, tables=3)
    second = join(session, cafe, 1, host=2).attendee
    first = join(session, cafe, 2, host=True).attendee
    third = join(session, cafe, 3, host=True).attendee
    assert (first.host_table, second.host_table, third.host_table) == (1, 2, 3)
    with pytest.raises(CafeError) as caught:
        join(session, cafe, 4, host=True)
    assert caught.value.status == 409
    guest = join(session, cafe, 5, host=False).attendee
    assert guest.host_table is None


def test_two_hosts_for_one_table_is_a_conflict(session, organiser):
    cafe = cafe_of(session, organiser, tables=3)
    join(session, cafe, 1, host=2)
    with pytest.raises(CafeError) as caught:
        join(session, cafe, 2, host=2)
    assert (caught.value.status, caught.value.field) == (409, "host")
    other = join(session, cafe, 3).attendee
    with pytest.raises(CafeError) as caught:
        set_host(session, cafe, other, 2)
    assert caught.value.status == 409
    with pytest.raises(CafeError) as caught:
        set_host(session, cafe, other, 9)
    assert caught.value.status == 400
    set_host(session, cafe, other, 3)
    assert other.host_table == 3
    set_host(session, cafe, other, None, host=False)
    assert other.host_table is None


def test_a_host_keeps_the_same_table_every_round(session, organiser):
    cafe = cafe_of(session, organiser, tables=3, rounds=3)
    people = [join(session, cafe, k).attendee for k in range(10)]
    hosts = {people[0].person.public_id: 2, people[1].person.public_id: 3}
    set_host(session, cafe, people[0], 2)
    set_host(session, cafe, people[1], 3)
    for number in (1, 2, 3):
        stored = play(session, cafe, number)
        tables = tables_of(stored)
        check_valid(tables, ids(people), 3)
        for public_id, table in hosts.items():
            assert public_id in tables[table - 1]
        seats = round_seats(cafe)
        assert {p for p, s in seats.items() if s["table_role"] == "host"} == set(hosts)
        for public_id, table in hosts.items():
            assert seats[public_id]["table"] == table


def test_a_host_named_after_the_start_keeps_their_table_from_then_on(session, organiser):
    cafe = cafe_of(session, organiser, tables=3, rounds=3)
    people = [join(session, cafe, k).attendee for k in range(9)]
    play(session, cafe, 1)
    set_host(session, cafe, people[4], None)
    assert people[4].host_table == 1
    for number in (2, 3):
        tables = tables_of(play(session, cafe, number))
        check_valid(tables, ids(people), 3)
        assert people[4].person.public_id in tables[0]


# -- rounds -----------------------------------------------------------------------------


def test_the_first_round_starts_the_cafe(session, organiser):
    cafe = cafe_of(session, organiser, tables=3, rounds=3, round_minutes=10,
                   questions=["What surprised you?"])
    people = [join(session, cafe, k).attendee for k in range(11)]
    assert round_seats(cafe) == {} and current_seat(people[0]) is None
    before = datetime.now(UTC)
    stored = play(session, cafe, 1)
    assert stored.number == 1 and stored.cafe is cafe and stored.trial_id is None
    assert (cafe.status, cafe.current_round, cafe.table_count) == ("running", 1, 3)
    ends_at = cafe.ends_at if cafe.ends_at.tzinfo else cafe.ends_at.replace(tzinfo=UTC)
    assert before + timedelta(minutes=10) <= ends_at <= datetime.now(UTC) + timedelta(minutes=10)
    check_valid(tables_of(stored), ids(people), 3)
    state = cafe_state(cafe)
    assert (state["status"], state["round"], state["present"]) == ("running", 1, 11)
    assert state["ends_at"].endswith("Z")
    seat = current_seat(people[0])
    assert set(seat) == {"join_code", "cafe", "round", "table", "table_role", "companions",
                         "question", "ends_at", "earlier_notes", "notes"}
    assert (seat["earlier_notes"], seat["notes"]) == ([], [])
    assert seat["cafe"] == seat["join_code"]  # its first name, for older clients
    assert (seat["join_code"], seat["round"], seat["question"]) == (cafe.code, 1,
                                                              "What surprised you?")
    table = tables_of(stored)[seat["table"] - 1]
    assert people[0].person.public_id in table
    assert len(seat["companions"]) == len(table) - 1
    for companion in seat["companions"]:
        assert set(companion) == {"name", "department"}
    assert "Person 0" not in [c["name"] for c in seat["companions"]]


def test_table_size_decides_the_number_of_tables(session, organiser):
    cafe = cafe_of(session, organiser, table_size=4, rounds=2)
    people = [join(session, cafe, k).attendee for k in range(11)]
    stored = play(session, cafe, 2)
    check_valid(tables_of(stored), ids(people), 3)  # ceil(11 / 4)
    assert sorted(len(t) for t in tables_of(stored)) == [3, 4, 4]


def test_too_few_people_is_a_conflict(session, organiser):
    cafe = cafe_of(session, organiser, tables=3)
    join(session, cafe, 1)
    join(session, cafe, 2)
    with pytest.raises(CafeError) as caught:
        next_round(session, cafe)
    assert caught.value.status == 409
    assert cafe.status == "lobby" and cafe.current_round == 0


def test_nobody_shares_a_table_twice_when_it_can_be_avoided(session, organiser):
    cafe = cafe_of(session, organiser, tables=3, rounds=3)
    people = [join(session, cafe, k).attendee for k in range(9)]
    met = set()
    for number in (1, 2, 3):
        stored = play(session, cafe, 7)
        assert stored.number == number == cafe.current_round
        tables = tables_of(stored)
        check_valid(tables, ids(people), 3)
        assert all(len(t) == 3 for t in tables)
        assert not pairs_of(tables) & met, f"a pair met again in round {number}"
        met |= pairs_of(tables)
    assert len(met) == 27
    with pytest.raises(CafeError) as caught:
        next_round(session, cafe)
    assert caught.value.status == 409
    assert cafe.current_round == 3 and len(cafe.played) == 3


def test_a_late_arrival_is_seated_from_the_next_round(session, organiser):
    cafe = cafe_of(session, organiser, tables=3, rounds=3)
    people = [join(session, cafe, k).attendee for k in range(9)]
    first = tables_of(play(session, cafe, 1))
    late = join(session, cafe, 9).attendee
    assert current_seat(late) is None
    assert late.person.public_id not in round_seats(cafe)
    assert current_seat(people[0]) is not None
    second = play(session, cafe, 1)
    check_valid(tables_of(second), ids(people + [late]), 3)
    assert current_seat(late)["round"] == 2
    assert tables_of(cafe.played[0]) == first  # round 1 as it was played


def test_someone_who_leaves_is_not_seated_again(session, organiser):
    cafe = cafe_of(session, organiser, tables=3, rounds=3)
    people = [join(session, cafe, k).attendee for k in range(10)]
    set_host(session, cafe, people[0], 1)
    first = tables_of(play(session, cafe, 3))
    leave_cafe(session, people[0])  # the host of table 1
    leave_cafe(session, people[5])
    assert people[0].host_table is None
    staying = people[1:5] + people[6:]
    for number in (2, 3):
        stored = play(session, cafe, number)
        assert stored.number == number
        check_valid(tables_of(stored), ids(staying), 3)
        assert current_seat(people[5]) is None
    assert tables_of(cafe.played[0]) == first
    assert people[0].person.public_id in [p for t in first for p in t]


def test_replanning_keeps_the_played_rounds(session, organiser):
    cafe = cafe_of(session, organiser, tables=2, rounds=4)
    people = [join(session, cafe, k).attendee for k in range(8)]
    played = [tables_of(play(session, cafe, 4)) for _ in range(2)]
    upcoming = [r for r in plan_view(cafe)["rounds"] if not r["played"]]
    assert [r["round"] for r in upcoming] == [3, 4]
    late = [join(session, cafe, k).attendee for k in (8, 9)]
    leave_cafe(session, people[2])
    third = tables_of(play(session, cafe, 4))
    check_valid(third, ids([a for a in people + late if a.present]), 2)
    assert [tables_of(r) for r in cafe.played[:2]] == played
    view = plan_view(cafe)
    assert [r["round"] for r in view["rounds"]] == [1, 2, 3, 4]
    assert [r["played"] for r in view["rounds"]] == [True, True, True, False]
    for number, tables in enumerate(played, 1):
        shown = [sorted(a.person.public_id for a in t["members"])
                 for t in view["rounds"][number - 1]["tables"]]
        assert shown == tables
    last = [sorted(a.person.public_id for a in t["members"]) for t in view["rounds"][3]["tables"]]
    check_valid(last, ids([a for a in people + late if a.present]), 2)


def test_an_unchanged_room_plays_the_planned_rounds(session, organiser):
    cafe = cafe_of(session, organiser, tables=3, rounds=3)
    for k in range(12):
        join(session, cafe, k)
    play(session, cafe, 5)
    planned = [[sorted(a.person.public_id for a in t["members"]) for t in r["tables"]]
               for r in plan_view(cafe)["rounds"][1:]]
    played = [tables_of(play(session, cafe, 99)) for _ in range(2)]
    assert played == planned


def test_a_big_cafe_starts_with_its_first_round_alone(session, organiser):
    """From QUICK_START people, round 1 is planned on its own (the rounds after
    it at the next round, with it played): still nobody meets twice."""
    from matcher.cafes import QUICK_START

    cafe = cafe_of(session, organiser, table_size=8, rounds=3)
    people = [join(session, cafe, k).attendee for k in range(QUICK_START)]
    first = play(session, cafe)
    check_valid(tables_of(first), ids(people), QUICK_START // 8)
    view = plan_view(cafe)
    assert [r["played"] for r in view["rounds"]] == [True] and view["metrics"] == {}
    second = play(session, cafe)
    third = play(session, cafe)
    met = [pairs_of(tables_of(one)) for one in (first, second, third)]
    assert not (met[0] & met[1]) and not (met[0] & met[2]) and not (met[1] & met[2])


# -- time and end ----------------------------------------------------------------------


def test_add_time(session, organiser):
    cafe = cafe_of(session, organiser, tables=2)
    for k in range(4):
        join(session, cafe, k)
    with pytest.raises(CafeError) as caught:
        add_time(session, cafe, 5)
    assert caught.value.status == 409  # not running yet
    play(session, cafe, 1)
    before = cafe.ends_at if cafe.ends_at.tzinfo else cafe.ends_at.replace(tzinfo=UTC)
    add_time(session, cafe, 5)
    assert cafe.ends_at == before + timedelta(minutes=5)
    add_time(session, cafe, -2)
    assert cafe.ends_at == before + timedelta(minutes=3)
    for bad in ("5", 5.5, None, True, 10_000):
        with pytest.raises(CafeError) as caught:
            add_time(session, cafe, bad)
        assert (caught.value.status, caught.value.field) == (400, "minutes")
    assert cafe.ends_at == before + timedelta(minutes=3)


def test_add_time_survives_a_reload(session, organiser, tmp_path):
    cafe = cafe_of(session, organiser, tables=2)
    for k in range(4):
        join(session, cafe, k)
    play(session, cafe, 1)
    session.commit()
    session.expire_all()  # SQLite gives back a time without its zone
    before = cafe.ends_at
    add_time(session, cafe, 1)
    session.commit()
    session.expire_all()
    after = cafe.ends_at
    naive = [t.replace(tzinfo=None) for t in (before, after)]
    assert naive[1] - naive[0] == timedelta(minutes=1)


def test_end_cafe(session, organiser):
    cafe = cafe_of(session, organiser, tables=2, rounds=3)
    people = [join(session, cafe, k).attendee for k in range(4)]
    play(session, cafe, 1)
    end_cafe(session, cafe)
    assert cafe.status == "finished" and cafe.ends_at is None
    state = cafe_state(cafe)
    assert (state["status"], state["round"], state["ends_at"]) == ("finished", 1, None)
    assert round_seats(cafe) == {} and current_seat(people[0]) is None
    assert len(cafe.played) == 1  # the played round stays on record
    for attempt in (lambda: next_round(session, cafe), lambda: end_cafe(session, cafe),
                    lambda: add_time(session, cafe, 5), lambda: join(session, cafe, 9)):
        with pytest.raises(CafeError) as caught:
            attempt()
        assert caught.value.status == 409


def test_end_before_the_first_round(session, organiser):
    cafe = cafe_of(session, organiser, tables=2)
    join(session, cafe, 1)
    end_cafe(session, cafe)
    assert cafe_state(cafe)["status"] == "finished"


# -- the big screen --------------------------------------------------------------------


def test_screen_view_shows_every_table_with_hosts_first(session, organiser):
    cafe = cafe_of(session, organiser, tables=3, rounds=2, questions=["Q1", "Q2"])
    people = [join(session, cafe, k, email=f"p{k}@example.org") for k in range(9)]
    set_host(session, cafe, people[8].attendee, 2)
    lobby = screen_view(cafe)
    assert lobby["tables"] == [] and lobby["name"] == "Friday café"
    play(session, cafe, 1)
    view = screen_view(cafe)
    assert view["question"] == "Q1" and view["round"] == 1
    assert [t["table"] for t in view["tables"]] == [1, 2, 3]
    assert sum(len(t["members"]) for t in view["tables"]) == 9
    assert view["tables"][1]["members"][0] == {"name": "Person 8", "department": "Nursing",
                                               "host": True}
    text = repr(view)
    assert "@example.org" not in text
    assert not any(p.token in text for p in people)


# -- one who-met-whom record -----------------------------------------------------------


def test_cafe_tables_count_as_meetings_for_coffee_trials(session, organiser):
    """Four people sit at two tables of two for two rounds (two of the three ways
    to pair four people); the coffee trial then has one pairing with no repeat,
    and takes it though it mixes no departments."""
    cafe = cafe_of(session, organiser, tables=2, rounds=2)
    emails = [f"p{k}@example.org" for k in range(4)]
    attendees = [join(session, cafe, k, email=email, department="Same").attendee
                 for k, email in enumerate(emails)]
    met = set()
    for _ in range(2):
        tables = tables_of(play(session, cafe, 1))
        assert not pairs_of(tables) & met
        met |= pairs_of(tables)
    end_cafe(session, cafe)
    by_public = {a.person.public_id: a.person.email for a in attendees}
    unmet = [pair for pair in (frozenset(p) for p in combinations(by_public, 2))
             if pair not in met]
    assert len(unmet) == 2
    # The pairs not yet met share a department; every pair that met mixes two.
    department = {}
    for k, pair in enumerate(unmet):
        for public_id in pair:
            department[by_public[public_id]] = ["Pharmacy", "Finance"][k]
    trial = create_trial(session, organiser, "Coffee", confirm_email=False)
    for k, email in enumerate(emails):
        signed = signup(session, trial, trial.join_code,
                        {"name": f"Person {k}", "email": email, "department": department[email]})
        assert signed.membership.person is attendees[k].person  # one person, by email
    for seed in (1, 2, 3):
        stored = publish_round(session, trial, seed=seed, time_limit=2.0)
        groups = {frozenset(m.person.public_id for m in g.members) for g in stored.groups}
        assert groups == set(unmet), "a coffee pair repeated a café table"
        session.delete(stored)
        session.flush()
        session.expire(trial)


def test_coffee_pairs_count_as_meetings_for_cafe_tables(session, organiser):
    """Two coffee rounds use two of the three pairings of four people; a café of
    two tables of two then seats the third though it mixes no departments."""
    trial = create_trial(session, organiser, "Coffee", confirm_email=False)
    emails = [f"p{k}@example.org" for k in range(4)]
    members = [signup(session, trial, trial.join_code,
                      {"name": f"Person {k}", "email": email, "department": "Same"}).membership
               for k, email in enumerate(emails)]
    met = set()
    for seed in (1, 2):
        stored = publish_round(session, trial, seed=seed, time_limit=2.0)
        groups = {frozenset(m.person.public_id for m in g.members) for g in stored.groups}
        assert not groups & met
        met |= groups
    by_public = {m.person.public_id: m.person.email for m in members}
    unmet = [pair for pair in (frozenset(p) for p in combinations(by_public, 2))
             if pair not in met]
    assert len(unmet) == 2
    department = {}
    for k, pair in enumerate(unmet):
        for public_id in pair:
            department[by_public[public_id]] = ["Pharmacy", "Finance"][k]
    cafe = cafe_of(session, organiser, tables=2, rounds=1)
    for k, email in enumerate(emails):
        joined = join(session, cafe, k, email=email, department=department[email])
        assert joined.attendee.person is members[k].person
    tables = tables_of(play(session, cafe, 1))
    assert pairs_of(tables) == set(unmet), "a café table repeated a coffee pair"


def test_an_email_already_here_cannot_take_over_the_place(session, organiser):
    cafe = cafe_of(session, organiser, tables=2)
    first = join(session, cafe, 1, email="ann@example.org")
    with pytest.raises(CafeError) as caught:
        join(session, cafe, 2, email="ANN@example.org", name="Someone else")
    assert caught.value.status == 409 and caught.value.field == "email"
    assert attendee_for_token(session, first.token) is first.attendee
    assert first.attendee.name == "Person 1"


def test_named_hosts_take_their_tables_when_they_join(session, organiser):
    cafe = cafe_of(session, organiser, tables=3, hosts=["Ann Lee", "Bob Roy"])
    bob = join(session, cafe, 1, name="bob  roy").attendee
    ann = join(session, cafe, 2, name="Ann Lee").attendee
    other_bob = join(session, cafe, 3, name="Bob Roy").attendee
    assert (ann.host_table, bob.host_table, other_bob.host_table) == (1, 2, None)
    for k in range(4, 10):
        join(session, cafe, k)
    stored = play(session, cafe)
    seated = {m.person_id: g.number for g in stored.groups for m in g.members}
    assert seated[ann.person_id] == 1 and seated[bob.person_id] == 2


@pytest.mark.parametrize("hosts, field", [
    (["A", "B", "C"], "hosts"),       # more hosts than the 2 tables
    (["Ann", " ann "], "hosts"),      # one name twice
    ("Ann", "hosts"),                 # not a list
])
def test_named_hosts_are_checked(session, organiser, hosts, field):
    with pytest.raises(CafeError) as caught:
        cafe_of(session, organiser, tables=2, hosts=hosts)
    assert caught.value.status == 400 and caught.value.field == field


def test_the_plan_says_when_the_room_has_changed_since_it_was_made(session, organiser):
    cafe = cafe_of(session, organiser, tables=2)
    people = [join(session, cafe, k).attendee for k in range(8)]
    assert plan_view(cafe)["stale"] is False
    play(session, cafe)
    assert plan_view(cafe)["stale"] is False
    leave_cafe(session, people[3])
    assert plan_view(cafe)["stale"] is True
    play(session, cafe)  # re-planned for whoever is here
    assert plan_view(cafe)["stale"] is False


def test_only_its_organiser_owns_a_cafe(session, organiser):
    cafe = create_cafe(session, organiser, {"name": "C", "rounds": 2, "tables": 2})
    other = Organiser(email="other@example.org", name="Other")
    session.add(other)
    session.flush()
    assert owned_cafe(session, organiser, code=cafe.code.lower()) is cafe
    assert owned_cafe(session, organiser, cafe_id=cafe.id) is cafe
    for who, where, status in ((other, {"code": cafe.code}, 403),
                               (other, {"cafe_id": cafe.id}, 403),
                               (organiser, {"code": "ZZZZZZ"}, 404),
                               (organiser, {"cafe_id": cafe.id + 1}, 404)):
        with pytest.raises(CafeError) as refused:
            owned_cafe(session, who, **where)
        assert refused.value.status == status
