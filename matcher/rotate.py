"""``python -m matcher.rotate PEOPLE``: plan the table rotation of a knowledge café
(docs/commands.md).

Wiring only: read and check the files (:mod:`matcher.files`), build a
:class:`solvers.rotation.Cafe`, call :func:`solvers.rotation.plan_cafe`, write
the plan. Exit status: 0 done, 2 bad usage or input, 1 the hard rules cannot
be met.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from matcher.cli import (
    at_least,
    count,
    fail,
    note,
    round_labels,
    same_file,
    seconds,
    weights,
)
from matcher.files import (
    InputError,
    People,
    PlanFile,
    cafe_csv,
    cafe_hosts,
    cafe_json,
    cafe_text,
    plan_order,
    read_avoid,
    read_history,
    read_people,
    read_plan,
    rotate_columns,
    write_text,
)
from solvers.model import History, Infeasible, Weights
from solvers.rotation import DEFAULT_STEPS, CafePlan, CafeProblem, CafeRound, plan_cafe

__all__ = ["build_parser", "main", "round_line", "summary_line"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m matcher.rotate``."""
    parser = argparse.ArgumentParser(
        prog="python -m matcher.rotate",
        description=(
            "Plan the table rotation of a knowledge café: seat the active people at "
            "tables of (nearly) equal size for several rounds, hosts staying at their "
            "table, with as few people meeting twice and as many departments at every "
            "table as possible. The CSV output is valid history."
        ),
        epilog=(
            "Exit status: 0 done, 2 bad usage or input (the message names file, row "
            "and column), 1 the hard rules (meeting modes, avoid list) cannot be met."
        ),
    )
    parser.add_argument(
        "people", metavar="PEOPLE",
        help="people file: CSV (id,name,email,department,...,host) or a JSON list of "
        "objects; 'host' is the table a person hosts in every round",
    )
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument(
        "--tables", metavar="T", type=at_least(1),
        help="number of tables (give this or --table-size)",
    )
    size.add_argument(
        "--table-size", metavar="S", type=at_least(1),
        help="people per table: the café gets ceil(people / S) tables, their sizes as "
        "equal as possible (give this or --tables)",
    )
    parser.add_argument(
        "--rounds", metavar="R", type=at_least(1), required=True,
        help="number of rounds in the café, those already played (--fixed) included",
    )
    parser.add_argument(
        "--history", metavar="FILE",
        help="past rounds (round,group,person_id[,date,met]); people who met are not seated "
        "together again where avoidable",
    )
    parser.add_argument(
        "--avoid", metavar="FILE", help="pairs never to seat together (person_a,person_b)"
    )
    parser.add_argument(
        "--weights", metavar="W", type=weights, default=Weights(),
        help="points for two people at a table who differ in each attribute "
        "(default department=4,organisation=2,site=1,role=1; unnamed ones keep their default)",
    )
    parser.add_argument(
        "--seed", metavar="S", type=at_least(0),
        help="a whole number ≥ 0 that makes the random choices reproducible",
    )
    parser.add_argument(
        "--time-limit", metavar="SECONDS", type=seconds, default=30.0,
        help="time for the whole plan (default 30; it stops sooner once it cannot improve)",
    )
    parser.add_argument(
        "--steps", metavar="N", type=at_least(1), default=DEFAULT_STEPS,
        help=f"search for at most N steps (swaps tried; default {DEFAULT_STEPS}): the same "
        "inputs and --seed give the same plan on any machine, however busy, with "
        "--time-limit only a safety net (the summary says when it cut the search)",
    )
    parser.add_argument(
        "--fixed", metavar="PLAN.csv",
        help="rounds already played: this command's own CSV output, kept as it is. The "
        "remaining rounds are planned for the people in PEOPLE (late arrivals join, people "
        "no longer in PEOPLE or inactive leave), and the output repeats the played rounds "
        "unchanged",
    )
    parser.add_argument(
        "--format", choices=("csv", "json", "text"), default="csv",
        help="output format: csv (default; valid history), json, or text (a printable plan "
        "per table and per person)",
    )
    parser.add_argument(
        "--out", metavar="FILE",
        help="write to FILE (replaced in one step once the plan is made; default standard "
        "output). With --format csv it may be the --fixed file, which then grows by the new "
        "rounds",
    )
    return parser


def round_line(label: str, planned: CafeRound) -> str:
    """One readable line about a round of the plan, for standard error."""
    tables = sum(1 for members in planned.tables if members)
    return (
        f"round {label}{' (played)' if planned.played else ''}: "
        f"{count(tables, 'table', 'tables')}, {count(planned.repeats, 'repeat', 'repeats')}, "
        f"departments per table min {planned.departments_min} "
        f"mean {planned.departments_mean:.1f}"
    )


def summary_line(plan: CafePlan) -> str:
    """One readable line about the rounds planned (played ones are not counted
    in the plan's figures), for standard error."""
    played = sum(1 for r in plan.rounds if r.played)
    new = len(plan.rounds) - played
    if not new:
        return f"café: all {count(played, 'round', 'rounds')} played already; nothing to plan"
    rounds = count(new, "round", "rounds")
    if played:
        rounds = f"{count(new, 'new round', 'new rounds')} ({played} played)"
    return (
        f"café: {rounds}, "
        f"{count(plan.repeats, 'repeat', 'repeats')} (lower bound {plan.repeats_bound}), "
        f"departments per table min {plan.departments_min} mean {plan.departments_mean:.1f}, "
        f"score {plan.score}, {plan.seconds:.2f} s, {plan.method}"
        + ("; the time limit cut the search (a busy machine may give another plan: give "
           "more --time-limit)" if plan.cut_by_time else "")
    )


def _who(names: Mapping[str, str], ids: Sequence[str], limit: int = 20) -> str:
    named = [f"{pid} ({names[pid]})" if pid in names else pid for pid in ids[:limit]]
    if len(ids) > limit:
        named.append(f"and {len(ids) - limit} more")
    return ", ".join(named)


def _names(people: People, plan: PlanFile | None) -> dict[str, str]:
    """Names by id: from the people file, else (people who left) from the plan."""
    names = dict(plan.names) if plan else {}
    names.update((row.id, row.name) for row in people.rows)
    return names


def _write_stdout(text: str) -> None:
    """Write ``text`` to standard output as UTF-8 whatever the locale (names and
    the printable plan's dashes must survive a Latin-1 terminal or a pipe)."""
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(text)
    else:
        stream.flush()
        buffer.write(text.encode("utf-8"))
        buffer.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m matcher.rotate`` with ``argv``; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)

    try:
        people = read_people(args.people)
        active = people.active_rows
        if not active:
            raise InputError(people.file, "no one is active (every row has active=no)")
        tables = args.tables or math.ceil(len(active) / args.table_size)
        if len(active) < tables:
            raise InputError(
                people.file,
                f"has {count(len(active), 'active person', 'active people')}, "
                f"too few for {count(tables, 'table', 'tables')}",
            )
        hosts = cafe_hosts(people, tables)
        history = read_history(args.history, set(people.by_id)) if args.history else None
        avoid = read_avoid(args.avoid, people) if args.avoid else frozenset()

        plan = read_plan(args.fixed, tables) if args.fixed else None
        columns, _ = rotate_columns(people)
        order = None
        if plan is not None:
            if len(plan.labels) > args.rounds:
                first = next(r for r in plan.table.records
                             if r.get("round") == plan.labels[args.rounds])
                raise plan.table.error(
                    f"round {plan.labels[args.rounds]} is played round {args.rounds + 1}, but "
                    f"--rounds is {args.rounds} (it counts the played rounds too)",
                    first, "round",
                )
            if args.format == "csv":
                order = plan_order(plan, columns)
        labels = [*plan.labels] if plan else []
        labels += round_labels(None, args.rounds - len(labels), labels)

        if args.out is not None:
            out_dir = Path(args.out).parent
            if not out_dir.is_dir():
                raise InputError(args.out, f"cannot write: there is no folder {str(out_dir)!r}")
            for given in (args.people, args.history, args.avoid, args.fixed):
                # Replacing the plan by itself plus new rounds loses nothing.
                if given == args.fixed and args.format == "csv":
                    continue
                if same_file(args.out, given):
                    raise InputError(args.out, "is an input file and would be overwritten")
    except InputError as exc:
        return fail(str(exc))

    inactive = len(people.rows) - len(active)
    if inactive:
        note(f"{count(inactive, 'inactive person', 'inactive people')} left out")
    if history and history.former:
        former = count(len(history.former), "former participant", "former participants")
        note(f"{history.file} names {former} not in {people.file}; ignored")
    passed = set(rotate_columns(people)[1]) | {"id", "name", "department"}
    dropped = [written for key, written in people.columns.items() if key not in passed]
    if dropped and args.format == "csv":
        note(f"column{'s' if len(dropped) > 1 else ''} {', '.join(dropped)} of {people.file} "
              "not copied to the output (the name means something else in a café plan)")
    if plan is not None:
        present = {row.id for row in active}
        left = plan.people - present
        late = present - plan.people
        if left:
            note(f"{count(len(left), 'person', 'people')} of {plan.file} not active in "
                  f"{people.file}: kept in the played rounds, left out of new ones")
        if late and len(plan.labels) < args.rounds:
            note(f"{count(len(late), 'late arrival', 'late arrivals')} "
                  f"join{'s' if len(late) == 1 else ''} from round "
                  f"{labels[len(plan.labels)]}")

    ids = {row.id for row in active}
    cafe = CafeProblem(
        people=people.persons,
        tables=tables,
        rounds=args.rounds,
        hosts=hosts,
        history=History.from_rounds(history.rounds) if history else History(),
        avoid=frozenset(pair for pair in avoid if pair[0] in ids and pair[1] in ids),
        weights=args.weights,
        fixed=plan.rounds if plan else (),
    )
    progress = None
    if sys.stderr.isatty():
        def progress(line: str) -> None:
            print(line, file=sys.stderr, flush=True)

    names = _names(people, plan)
    try:
        planned = plan_cafe(cafe, seed=args.seed, time_limit=args.time_limit, steps=args.steps,
                            progress=progress)
    except Infeasible as exc:
        return fail(
            f"cannot plan the café: {exc} ({exc.rule} rule; people: {_who(names, exc.people)})",
            1,
        )
    except KeyboardInterrupt:
        return fail("interrupted; nothing written", 130)

    played = len(plan.labels) if plan else 0
    new_hosts = {table: pid for pid, table in hosts.items()}
    round_hosts = [*(plan.hosts if plan else ()),
                   *([new_hosts] * (len(planned.rounds) - played))]
    seating = [r.tables for r in planned.rounds]
    try:
        if args.format == "json":
            text = cafe_json(labels, planned, round_hosts)
        elif args.format == "text":
            text = cafe_text(labels, seating, round_hosts, names)
        elif plan is not None:
            # The played rounds are copied as written, not rewritten from the plan:
            # the organiser's file stays byte for byte what it was.
            text = plan.text() + cafe_csv(
                labels[played:], seating[played:], round_hosts[played:], people,
                header=False, order=order, delimiter=plan.table.delimiter,
                newline=plan.table.newline,
            )
        else:
            text = cafe_csv(labels, seating, round_hosts, people)
        if args.out is None:
            _write_stdout(text)
        else:
            write_text(args.out, text)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:
        return fail(f"cannot write {args.out or 'standard output'}: {exc.strerror or exc}")

    for label, this in zip(labels, planned.rounds, strict=True):
        print(round_line(label, this), file=sys.stderr)
    print(summary_line(planned), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
