"""Exports of a trial's history: CSV (SPEC §3, re-importable), JSON, GraphML."""

from __future__ import annotations

import csv
import io
import json
from itertools import combinations

import networkx as nx

from matcher.models import Trial

__all__ = ["EXPORTS", "history_csv", "history_graphml", "history_json"]

_MET = {True: "yes", False: "no", None: ""}


def _rows(trial: Trial):
    """(round, group number or None, member row) in round and group order."""
    for stored in trial.rounds:
        members = sorted(stored.members, key=lambda m: (
            m.group.number if m.group else 10**9, m.person.public_id))
        for member in members:
            yield stored, member


def history_csv(trial: Trial) -> str:
    """``round,group,person_id,name,department,date,met``: valid history for
    ``python -m matcher.pair --history``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["round", "group", "person_id", "name", "department", "date", "met"])
    for stored, member in _rows(trial):
        writer.writerow([stored.number, member.group.number if member.group else "",
                         member.person.public_id, member.person.name,
                         member.person.department, stored.published_at.date().isoformat(),
                         _MET[member.met]])
    return out.getvalue()


def history_json(trial: Trial) -> str:
    """Rounds with their groups (ids, names, departments, met), sit-outs and figures."""
    rounds = []
    for stored in trial.rounds:
        rounds.append({
            "round": stored.number,
            "published_at": stored.published_at.isoformat(),
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
