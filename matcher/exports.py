"""Exports of a trial's history: CSV (docs/formats.md, re-importable), JSON, GraphML;
and the headline figures of a trial."""

from __future__ import annotations

import csv
import io
import json
from itertools import combinations

import networkx as nx

from matcher.cafes import plan_view
from matcher.meetings import load_rounds
from matcher.models import Cafe, Trial
from matcher.times import iso

__all__ = ["EXPORTS", "cafe_plan_csv", "history_csv", "history_graphml",
           "history_json", "spreadsheet_safe"]

_MET = {True: "yes", False: "no", None: ""}

#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV
#: injection"): ``=``, ``+``, ``-``, ``@``, and tab and carriage return, which some
#: spreadsheets skip before looking for them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str | None) -> str:
    """A text cell of a CSV export that no spreadsheet runs as a formula: one that
    starts like a formula gets a leading single quote (OWASP's advice), so
    ``=HYPERLINK(…)`` shows as the text ``'=HYPERLINK(…)``. Only names,
    departments and organisations go through here: ids (generated hex), round and
    table numbers, dates and ``met`` never start so, and stay as they are so the
    file remains valid history and a valid ``--fixed`` plan."""
    text = text or ""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _rows(trial: Trial):
    """(round, group number or None, member row) in round and group order."""
    for stored in trial.rounds:
        members = sorted(stored.members, key=lambda m: (
            m.group.number if m.group else 10**9, m.person.public_id))
        for member in members:
            yield stored, member


def history_csv(trial: Trial) -> str:
    """``round,group,person_id,name,department,date,met``: valid history for
    ``python -m matcher.pair --history`` (names and departments that start like
    a spreadsheet formula are quoted: :func:`spreadsheet_safe`)."""
    load_rounds(trial)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["round", "group", "person_id", "name", "department", "date", "met"])
    for stored, member in _rows(trial):
        writer.writerow([stored.number, member.group.number if member.group else "",
                         member.person.public_id, spreadsheet_safe(member.person.name),
                         spreadsheet_safe(member.person.department),
                         stored.published_at.date().isoformat(),
                         _MET[member.met]])
    return out.getvalue()


def history_json(trial: Trial) -> str:
    """Rounds with their groups (ids, names, departments, met), sit-outs and figures."""
    load_rounds(trial)
    rounds = []
    for stored in trial.rounds:
        rounds.append({
            "round": stored.number,
            "published_at": iso(stored.published_at),
            "groups": [{
                "group": group.number,
                "members": [{"id": m.person.public_id, "name": m.person.name,
                             "department": m.person.department, "met": m.met}
                            for m in sorted(group.members, key=lambda m: m.person.public_id)],
            } for group in stored.groups],
            "sitting_out": sorted(m.person.public_id for m in stored.members
                                  if m.group_id is None),
            "metrics": stored.metrics,
        })
    return json.dumps({"trial": trial.id, "name": trial.name, "rounds": rounds},
                      indent=2, ensure_ascii=False) + "\n"


def history_graphml(trial: Trial) -> str:
    """Who met whom, for network tools: people as nodes (name, department), one
    edge per pair that met (``meetings``: how often; ``rounds``: which)."""
    load_rounds(trial)
    graph = nx.Graph(name=trial.name)
    for stored in trial.rounds:
        for member in stored.members:
            person = member.person
            graph.add_node(person.public_id, name=person.name, department=person.department)
        for group in stored.groups:
            met = [m.person.public_id for m in group.members if m.met is not False]
            for a, b in combinations(sorted(met), 2):
                edge = graph.get_edge_data(a, b)
                if edge is None:
                    graph.add_edge(a, b, meetings=1, rounds=str(stored.number))
                else:
                    edge["meetings"] += 1
                    edge["rounds"] += f",{stored.number}"
    return "\n".join(nx.generate_graphml(graph)) + "\n"


#: Every export of a trial's history: file extension → (maker, MIME type).
EXPORTS = {
    "csv": (history_csv, "text/csv"),
    "json": (history_json, "application/json"),
    "graphml": (history_graphml, "application/graphml+xml"),
}


def cafe_plan_csv(cafe: Cafe) -> str:
    """A café's plan, played rounds then those to come, in ``matcher.rotate``'s
    CSV format: ``round,table,person_id,name,department,table_role``, then
    ``organisation``; hosts first at their tables. Names, departments and
    organisations are :func:`spreadsheet_safe`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["round", "table", "person_id", "name", "department", "table_role",
                     "organisation"])
    for one in plan_view(cafe)["rounds"]:
        for table in one["tables"]:
            members = sorted(table["members"],
                             key=lambda a: (a.host_table != table["table"], a.name.casefold()))
            for attendee in members:
                role = "host" if attendee.host_table == table["table"] else "guest"
                writer.writerow([one["round"], table["table"], attendee.person.public_id,
                                 spreadsheet_safe(attendee.name),
                                 spreadsheet_safe(attendee.department), role,
                                 spreadsheet_safe(attendee.organisation)])
    return out.getvalue()
