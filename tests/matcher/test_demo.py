"""The demo data loads once, as a trial with history the engine can build on."""

from sqlalchemy import func, select

from matcher import db
from matcher.demo import load_demo
from matcher.models import Membership, Round
from matcher.trials import publish_round
from tests.support.app import CAFE_STEPS


def test_demo_loads_once_and_makes_a_good_next_round(database_url):
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    with db.make_session_factory(engine)() as session:
        demo = load_demo(session)
        session.commit()
        assert demo.organiser_token and len(demo.participant_tokens) == 145
        assert session.scalar(select(func.count()).select_from(Round)
                              .where(Round.trial_id == demo.trial.id)) == 4
        again = load_demo(session)
        assert again.organiser_token is None and again.trial.id == demo.trial.id
        assert session.scalar(select(func.count()).select_from(Membership)) == 145
        stored = publish_round(session, demo.trial, seed=1)
        assert stored.number == 5 and stored.metrics["repeats"] == 0
        assert sum(1 for m in stored.members if m.group_id) == 145
    engine.dispose()


def test_the_demo_cafe_is_in_its_lobby_and_starts_with_its_named_hosts(database_url):
    from matcher.cafes import cafe_state, next_round

    engine = db.make_engine(database_url)
    db.upgrade(engine)
    with db.make_session_factory(engine)() as session:
        demo = load_demo(session)
        session.commit()
        cafe = demo.cafe
        assert cafe_state(cafe)["status"] == "lobby" and cafe_state(cafe)["present"] == 22
        assert load_demo(session).cafe.id == cafe.id
        hosts = {a.name: a.host_table for a in cafe.attendees if a.host_table}
        assert hosts == {cafe.host_names[0]: 1, cafe.host_names[1]: 2}
        stored = next_round(session, cafe, seed=1, steps=CAFE_STEPS)
        # 22 people at tables of at most 5: 5 tables; the hosts sit at their own.
        assert len(stored.groups) == 5
        for group in stored.groups:
            names = {m.person.name for m in group.members}
            assert {name for name, table in hosts.items() if table == group.number} <= names
    engine.dispose()


def test_the_demo_trial_runs_itself_within_minutes(database_url):
    """Loaded at 09:00:20: reminded at 09:02, published at 09:03, checked in at
    09:05, each once; then a round every fortnight."""
    from datetime import UTC, datetime, timedelta

    from matcher.introductions import queue_check_ins, queue_reminders
    from matcher.outbox import sealer
    from matcher.trials import publish_scheduled

    engine = db.make_engine(database_url)
    db.upgrade(engine)
    loaded = datetime(2026, 12, 7, 9, 0, 20, tzinfo=UTC)
    first = datetime(2026, 12, 7, 9, 3, tzinfo=UTC)
    sender = "matcher <matcher@localhost>"
    with db.make_session_factory(engine)() as session:
        demo = load_demo(session, seal=sealer("demo"), now=loaded)
        trial = demo.trial
        assert trial.next_round_at == first
        assert all(m.token_sealed for m in trial.memberships)  # introductions carry links
        assert queue_reminders(session, sender, trial, first - timedelta(minutes=2)) == []
        assert len(queue_reminders(session, sender, trial, first - timedelta(minutes=1))) == 145
        stored = publish_scheduled(session, trial, first, time_limit=5.0)
        assert stored.number == 5 and stored.slot_at == first
        assert trial.next_round_at == first + timedelta(weeks=2)
        assert queue_check_ins(session, sender, trial, first + timedelta(minutes=1)) == []
        assert len(queue_check_ins(session, sender, trial, first + timedelta(minutes=2))) == 145
        assert queue_check_ins(session, sender, trial, first + timedelta(minutes=3)) == []
        session.commit()
    engine.dispose()


def test_the_demo_trials_evaluation_matches_its_answers(database_url):
    """The figures of the demo's evaluation, worked out again from the seed file
    of answers (those of people still in the demo)."""
    import csv

    from matcher.evaluation import evaluate, evaluation_markdown
    from seeds import SEEDS

    active = {row["id"] for row in csv.DictReader(open(SEEDS / "people.csv", encoding="utf-8"))
              if row["active"] == "yes"}
    answers = [row for row in csv.DictReader(open(SEEDS / "feedback.csv", encoding="utf-8"))
               if row["person_id"] in active]
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    with db.make_session_factory(engine)() as session:
        demo = load_demo(session)
        session.commit()
        e = evaluate(session, demo.trial)
    engine.dispose()
    useful = [int(row["useful"]) for row in answers if row["useful"]]
    again = [row["again"] == "yes" for row in answers if row["again"]]
    assert e.rounds == 4 and e.responses == len(answers) > 200
    assert e.met.value == sum(row["met"] == "yes" for row in answers) / len(answers)
    assert e.useful.value == sum(useful) / len(useful) and e.useful.answers == len(useful)
    assert e.again.value == sum(again) / len(again)
    assert list(e.quotes) == [row["learnt"] for row in answers
                              if row["share"] == "yes" and row["learnt"]]
    assert e.after.department_pairs_connected > e.before.department_pairs_connected
    assert f"{100 * e.met.value:.0f}%" in evaluation_markdown(e)


def test_the_demo_has_a_finished_after_action_review_with_its_record(database_url):
    """The review's record is the seed file's notes and pledges, each at its
    round and table, with the four questions as the grid."""
    import csv

    from matcher.harvest import harvest, harvest_markdown
    from matcher.models import Cafe
    from seeds import SEEDS

    seeded = list(csv.DictReader(open(SEEDS / "harvest.csv", encoding="utf-8")))
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    with db.make_session_factory(engine)() as session:
        demo = load_demo(session)
        session.commit()
        review = session.scalar(select(Cafe).where(Cafe.format == "after-action-review"))
        assert demo.cafe.status == "lobby" and review.status == "finished"
        record = harvest(session, review)
    engine.dispose()
    assert [c["heading"] for c in record["grid"]] == [
        "Supposed to happen", "Actually happened", "Why the differences", "Next time"]
    notes = sorted((str(r["round"]), str(t["table"]), n["text"]) for r in record["rounds"]
                   for t in r["tables"] for n in t["notes"])
    assert notes == sorted((row["round"], row["table"], row["text"]) for row in seeded
                           if row["kind"] == "note")
    assert [p["text"] for p in record["pledges"]] == [
        row["text"] for row in seeded if row["kind"] == "pledge"]
    assert all(n["author"] for r in record["rounds"] for t in r["tables"] for n in t["notes"])
    votes = [n["votes"] for c in record["grid"] for n in c["notes"]]
    assert sum(votes) > 0 and max(votes) == record["grid"][3]["notes"][0]["votes"]
    assert "## The grid" in harvest_markdown(record)
