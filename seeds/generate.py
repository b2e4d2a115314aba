"""Generate the demo data in seeds/: a fictional NHS-style hospital trust.

Run as ``python seeds/generate.py`` or ``python -m seeds.generate``. The output is
deterministic (fixed seed, stdlib only) and is written next to this file:

- ``people.csv``  -- about 150 staff of "Northfield & Vale Hospitals NHS Trust"
  and two partner organisations (the people format of docs/formats.md);
- ``history.csv`` -- four earlier rounds of a coffee trial (history format);
- ``avoid.csv``   -- a handful of pairs never to be placed together;
- ``feedback.csv`` -- what participants said about those rounds (the answers of
  the feedback form, docs/evaluation.md);
- ``harvest.csv`` -- the notes and pledges of an after action review of last
  winter, as a café (docs/harvest.md).

Every name, organisation, site and address is invented; the e-mail domain is
under ``.example`` (RFC 2606), so nothing here can reach a real mailbox.
"""

from __future__ import annotations

import csv
import datetime
import random
import unicodedata
from dataclasses import dataclass
from pathlib import Path

SEED = 20260112
OUT_DIR = Path(__file__).resolve().parent
EMAIL_DOMAIN = "northfield-vale.example"

TRUST = "Northfield & Vale Hospitals NHS Trust"
UNIVERSITY = "University of Northfield"
COMMUNITY = "Vale Community Health Partnership"

GENERAL = "Northfield General"
VALE = "Vale Community Hospital"
RIVERSIDE = "Riverside Clinic"
SITE_WEIGHTS = {GENERAL: 60, VALE: 25, RIVERSIDE: 15}
COMMUNITY_SITE_WEIGHTS = {VALE: 60, RIVERSIDE: 40}

# Head count of current staff per department (150 in all; Nursing is ~35%).
DEPARTMENTS = {
    "Nursing": 52,
    "Medicine": 24,
    "Surgery": 16,
    "Pharmacy": 10,
    "Radiology": 9,
    "Estates & Facilities": 8,
    "Finance": 7,
    "Human Resources": 6,
    "Digital & IT": 6,
    "Research & Innovation": 5,
    "Library & Knowledge Services": 4,
    "Quality & Patient Safety": 3,
}

# Roles by department (weights). The first person of each department is its
# manager, so every department has someone to line-manage the rest.
ROLES = {
    "Nursing": {"Nursing": 70, "Support": 15, "Manager": 8, "Admin": 7},
    "Medicine": {"Clinical": 75, "Nursing": 8, "Admin": 12, "Manager": 5},
    "Surgery": {"Clinical": 70, "Nursing": 12, "Admin": 10, "Manager": 8},
    "Pharmacy": {"Clinical": 50, "Technical": 35, "Admin": 15},
    "Radiology": {"Clinical": 45, "Technical": 40, "Admin": 15},
    "Estates & Facilities": {"Support": 60, "Technical": 30, "Manager": 10},
    "Finance": {"Admin": 80, "Manager": 20},
    "Human Resources": {"Admin": 80, "Manager": 20},
    "Digital & IT": {"Technical": 70, "Support": 20, "Manager": 10},
    "Research & Innovation": {"Clinical": 40, "Admin": 40, "Technical": 20},
    "Library & Knowledge Services": {"Admin": 60, "Technical": 40},
    "Quality & Patient Safety": {"Clinical": 50, "Admin": 50},
}

# Chance that a (non-manager) member of a department is employed by a partner.
PARTNERS = {
    "Research & Innovation": (UNIVERSITY, 0.6),
    "Medicine": (UNIVERSITY, 0.1),
    "Library & Knowledge Services": (UNIVERSITY, 0.34),
    "Nursing": (COMMUNITY, 0.12),
}

# fmt: off
FIRST_NAMES = [
    # women
    "Olivia", "Amelia", "Isla", "Emily", "Sophie", "Grace", "Chloe", "Zoë", "Hannah",
    "Aoife", "Siobhan", "Niamh", "Catriona", "Rhian", "Siân", "Priya", "Anjali",
    "Aisha", "Fatima", "Zainab", "Amira", "Mei", "Yuki", "Chiamaka", "Ngozi",
    "Adaeze", "Abena", "Oksana", "Agnieszka", "Ioana", "Lucía", "Beatriz", "Leila",
    "Bethan", "Ruth", "Helen", "Joanne", "Karen", "Deborah", "Sarah",
    # men
    "Oliver", "George", "Harry", "Jack", "Thomas", "Daniel", "Samuel", "Rhys",
    "Dylan", "Callum", "Seán", "Ciarán", "Arjun", "Rohan", "Vikram", "Imran",
    "Omar", "Yusuf", "Tariq", "Wei", "Hiroshi", "Minh", "Chinedu", "Kwame", "Tunde",
    "Emeka", "Piotr", "Tomasz", "Andrei", "Mateo", "Luca", "Kofi", "Marcus",
    "Declan", "Gareth", "Ian", "Stephen", "Paul", "Neil", "Ravi",
]

SURNAMES = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas",
    "Roberts", "Walker", "Wright", "Hughes", "Edwards", "Green", "Hall", "Wood",
    "Clarke", "Patel", "Shah", "Khan", "Ahmed", "Hussain", "Begum", "Singh", "Kaur",
    "Sharma", "Iqbal", "Chowdhury", "Rahman", "O'Brien", "Murphy", "Kelly", "Byrne",
    "Doyle", "Gallagher", "MacLeod", "Campbell", "Fraser", "Morgan", "Price",
    "Okafor", "Adeyemi", "Mensah", "Osei", "Nwosu", "Boateng", "Chen", "Wang", "Li",
    "Nguyen", "Tanaka", "Kim", "Nowak", "Kowalski", "Popescu", "García", "Rossi",
    "Haddad", "Mahmoud", "Lewis-Grant", "Da Silva", "Ferreira", "Baptiste",
]
# fmt: on

# Coffee-trial rounds already played: two weeks apart, Mondays in 2026.
FIRST_ROUND = datetime.date(2026, 1, 12)
ROUNDS = 4
ROUND_GAP = datetime.timedelta(weeks=2)
# How many (present, active) people sat a round out, by round.
SIT_OUTS = {1: 0, 2: 1, 3: 0, 4: 2}

# Former staff: people leave, but the history keeps them. Two extra people are
# generated and take ids among the others, but are left out of people.csv; they
# appear in the first rounds of history.csv only (the last round each took part
# in is given here). Readers of the history must accept ids that are no longer
# in the people file.
LEAVERS = [("Nursing", 2), ("Finance", 3)]

INACTIVE = 5  # current staff with active=no (long leave, secondment, ...)
MODE_SHARE = {"in-person": 0.15, "virtual": 0.15}  # the rest are "either"


@dataclass
class Person:
    id: str
    name: str
    email: str
    department: str
    organisation: str
    site: str
    role: str
    mode: str = "either"
    active: bool = True
    last_round: int | None = None  # set for former staff only


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def email_local(name: str) -> str:
    """'Seán O'Brien' -> 'sean.obrien'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    first, _, last = ascii_name.partition(" ")
    last = last.replace("'", "").replace(" ", "")
    return f"{first}.{last}".lower()


def make_people(rng: random.Random) -> list[Person]:
    specs: list[tuple[str, int | None]] = []
    for dept, count in DEPARTMENTS.items():
        specs += [(dept, None)] * count
    specs += [(dept, last) for dept, last in LEAVERS]

    names: list[str] = []
    seen_names: set[str] = set()
    while len(names) < len(specs):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
        if name not in seen_names:
            seen_names.add(name)
            names.append(name)

    # Ids are handed out in a shuffled order, so they do not cluster by department
    # and the leavers leave gaps in the sequence.
    order = list(range(len(specs)))
    rng.shuffle(order)

    people: list[Person] = []
    emails: set[str] = set()
    first_in_dept: set[str] = set()
    for i, ((dept, last_round), name) in enumerate(zip(specs, names, strict=True)):
        # E-mail addresses must be unique: "Sean Kelly" and "Seán Kelly" would both
        # be sean.kelly@..., so the second gets a number.
        local = email_local(name)
        email, n = f"{local}@{EMAIL_DOMAIN}", 1
        while email in emails:
            n += 1
            email = f"{local}{n}@{EMAIL_DOMAIN}"
        emails.add(email)

        if dept not in first_in_dept and last_round is None:
            first_in_dept.add(dept)
            role = "Manager"
            organisation = TRUST
        else:
            role = pick(rng, ROLES[dept])
            partner, share = PARTNERS.get(dept, (TRUST, 0.0))
            organisation = partner if rng.random() < share else TRUST
        site_weights = COMMUNITY_SITE_WEIGHTS if organisation == COMMUNITY else SITE_WEIGHTS
        people.append(
            Person(
                id=f"p{order[i] + 1:03d}",
                name=name,
                email=email,
                department=dept,
                organisation=organisation,
                site=pick(rng, site_weights),
                role=role,
                last_round=last_round,
            )
        )
    people.sort(key=lambda p: p.id)

    current = [p for p in people if p.last_round is None]
    shuffled = current[:]
    rng.shuffle(shuffled)
    n_in_person = round(MODE_SHARE["in-person"] * len(current))
    n_virtual = round(MODE_SHARE["virtual"] * len(current))
    for p in shuffled[:n_in_person]:
        p.mode = "in-person"
    for p in shuffled[n_in_person : n_in_person + n_virtual]:
        p.mode = "virtual"
    for p in rng.sample([p for p in current if p.role != "Manager"], INACTIVE):
        p.active = False
    return people


def compatible(a: Person, b: Person) -> bool:
    """docs/formats.md, `mode`: both accept virtual, or both accept in-person at one site."""
    if a.mode != "in-person" and b.mode != "in-person":
        return True
    return a.mode != "virtual" and b.mode != "virtual" and a.site == b.site


def make_avoid(rng: random.Random, people: list[Person]) -> list[tuple[str, str]]:
    """Line managers and one of their direct reports, plus one cross-team pair."""
    active = [p for p in people if p.active and p.last_round is None]
    pairs: list[tuple[str, str]] = []
    for dept in ["Nursing", "Medicine", "Surgery", "Pharmacy"]:
        manager = next(p for p in active if p.department == dept and p.role == "Manager")
        reports = [
            p
            for p in active
            if p.department == dept and p is not manager and compatible(p, manager)
        ]
        pairs.append((manager.id, rng.choice(reports).id))
    used = {pid for pair in pairs for pid in pair}
    a = rng.choice(
        [p for p in active if p.department == "Estates & Facilities" and p.id not in used]
    )
    b = rng.choice(
        [p for p in active if p.department == "Finance" and p.id not in used and compatible(a, p)]
    )
    pairs.append((a.id, b.id))
    return pairs


def make_round(
    rng: random.Random, present: list[Person], avoid: set[frozenset[str]]
) -> list[list[Person]]:
    """Random pairs (one triad if odd) that respect mode and the avoid list.

    Deliberately not optimised: the old trial paired people at random, so the
    history holds same-department pairs and the odd repeat.
    """

    def ok(a: Person, b: Person) -> bool:
        return compatible(a, b) and frozenset((a.id, b.id)) not in avoid

    for _ in range(1000):
        pool = present[:]
        rng.shuffle(pool)
        groups: list[list[Person]] = []
        while len(pool) > 1:
            a = pool.pop(0)
            b = next((b for b in pool if ok(a, b)), None)
            if b is None:
                break
            pool.remove(b)
            groups.append([a, b])
        else:
            if pool:  # odd: the one left over joins a pair it fits into
                c = pool[0]
                fits = [g for g in groups if all(ok(c, m) for m in g)]
                if not fits:
                    continue
                rng.choice(fits).append(c)
            return groups
    raise RuntimeError("could not form a round")


def make_history(
    rng: random.Random, people: list[Person], avoid: list[tuple[str, str]]
) -> list[list[str]]:
    avoid_set = {frozenset(pair) for pair in avoid}
    rows: list[list[str]] = []
    for rnd in range(1, ROUNDS + 1):
        date = (FIRST_ROUND + (rnd - 1) * ROUND_GAP).isoformat()
        present = [
            p
            for p in people
            if (p.last_round is None and p.active)
            or (p.last_round is not None and rnd <= p.last_round)
        ]
        sitting_out = rng.sample([p for p in present if p.last_round is None], SIT_OUTS[rnd])
        present = [p for p in present if p not in sitting_out]
        groups = make_round(rng, present, avoid_set)
        for number, group in enumerate(groups, start=1):
            r = rng.random()
            met = "no" if r < 0.10 else "" if r < 0.13 else "yes"
            for member in sorted(group, key=lambda p: p.id):
                rows.append([str(rnd), str(number), member.id, date, met])
        for p in sorted(sitting_out, key=lambda p: p.id):
            rows.append([str(rnd), "", p.id, date, ""])
    return rows


#: Feedback has its own seed: the other files stay as they were.
FEEDBACK_SEED = 20260301
#: What people learnt (the demo's free text; none of it names anyone).
LEARNT = (
    "Pharmacy can turn round discharge medicines faster if we ring before noon.",
    "Estates have a fault line I never knew about; I will use it instead of emailing.",
    "The library will run literature searches for our audit. Booking one this month.",
    "Finance explained the budget cycle. I will send our bid in October, not March.",
    "Radiology and our ward have the same problem with handovers; we are sharing notes.",
    "I had no idea the research office could help with ethics forms.",
    "We will try the community team's huddle format on our ward.",
    "IT showed me a shortcut in the rota system that saves me an hour a week.",
    "Good to hear how another site copes with winter pressures.",
    "I will invite our partner from the university to our next team meeting.",
)


def make_feedback(history: list[list[str]]) -> list[list[str]]:
    """Answers for some of the rounds' meetings: most who met answered, some
    with a sentence of what they learnt (most agreeing to be quoted); those
    whose meeting did not happen said so and nothing else."""
    rng = random.Random(FEEDBACK_SEED)
    rows = []
    for rnd, group, person, _date, met in history:
        if not group or not met or rng.random() < 0.35:
            continue
        if met == "no":
            rows.append([rnd, person, "no", "", "", "", "", ""])
            continue
        useful = rng.choices((1, 2, 3, 4, 5), weights=(2, 4, 16, 42, 36))[0]
        again = "yes" if rng.random() < (0.97 if useful >= 3 else 0.5) else "no"
        knew = "yes" if rng.random() < 0.08 else "no"
        learnt = rng.choice(LEARNT) if rng.random() < 0.06 else ""
        share = "yes" if learnt and rng.random() < 0.7 else "no"
        rows.append([rnd, person, "yes", knew, str(useful), again, learnt, share])
    return rows


#: The demo's after action review of last winter (docs/harvest.md): what each
#: table wrote for each of the four questions, and the pledges at the end.
REVIEW_NOTES = (
    ("Keep every ward open through January without cancelling planned surgery.",
     "Discharge before noon on most days, with the pharmacy ready.",
     "Flu vaccination for 90% of front-line staff by December."),
    ("Two wards closed for norovirus in the second week of January.",
     "Discharges slipped to the evening: patients waited for medicines to take home.",
     "Vaccination reached 78%, higher on the wards than in the community teams."),
    ("Pharmacy was not told which patients were going home until the afternoon.",
     "Bank staff did not know the infection-control routine of each ward.",
     "Community staff could not book vaccination slots around their visits."),
    ("Share the next day's likely discharges with pharmacy at the evening huddle.",
     "A one-page infection-control card per ward, handed to bank staff at the door.",
     "Vaccination clinics at the community bases, at the start and end of the day."),
)
REVIEW_PLEDGES = (
    "I will bring tomorrow's discharge list to the evening huddle.",
    "I will write the infection-control card for Ward 7 by Friday.",
    "I will ask occupational health for a clinic at the Vale base.",
    "I will meet the pharmacy lead about take-home medicines.",
)


def make_harvest() -> list[list[str]]:
    """The review's notes (``note``, round, table, text: a question per round) and
    pledges (``pledge``, text)."""
    rows = [["note", str(number), str(table), text]
            for number, texts in enumerate(REVIEW_NOTES, 1)
            for table, text in enumerate(texts, 1)]
    return rows + [["pledge", "", "", text] for text in REVIEW_PLEDGES]


def write_csv(name: str, header: list[str], rows: list[list[str]]) -> None:
    with open(OUT_DIR / name, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    rng = random.Random(SEED)
    people = make_people(rng)
    avoid = make_avoid(rng, people)
    history = make_history(rng, people, avoid)

    write_csv(
        "people.csv",
        ["id", "name", "email", "department", "organisation", "site", "role", "mode", "active"],
        [
            [
                p.id,
                p.name,
                p.email,
                p.department,
                p.organisation,
                p.site,
                p.role,
                p.mode,
                "yes" if p.active else "no",
            ]
            for p in people
            if p.last_round is None
        ],
    )
    write_csv("history.csv", ["round", "group", "person_id", "date", "met"], history)
    write_csv("avoid.csv", ["person_a", "person_b"], [list(pair) for pair in avoid])
    write_csv("feedback.csv", ["round", "person_id", "met", "knew_before", "useful", "again",
                               "learnt", "share"], make_feedback(history))
    write_csv("harvest.csv", ["kind", "round", "table", "text"], make_harvest())
    print(f"wrote people.csv, history.csv, avoid.csv, feedback.csv, harvest.csv to {OUT_DIR}")


if __name__ == "__main__":
    main()
