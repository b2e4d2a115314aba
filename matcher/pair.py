"""``python -m matcher.pair PEOPLE``: make rounds of a coffee trial (docs/commands.md).

Wiring only: read and check the files (:mod:`matcher.files`), build a
:class:`solvers.model.Problem`, call :func:`solvers.pairing.plan_rounds`, write
the rounds. Exit status: 0 done, 2 bad usage or input, 1 the hard rules cannot
be met.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
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
    check_append_target,
    pair_columns,
    pair_csv,
    pair_json,
    read_avoid,
    read_history,
    read_people,
    write_text,
)
from matcher.files import append_text as append_to_file
from solvers.model import ODD_POLICIES, History, Infeasible, Problem, RoundMetrics, Weights
from solvers.pairing import plan_rounds

__all__ = ["build_parser", "main", "round_labels", "summary_line"]

def _label(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("a round label cannot be empty")
    return text.strip()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m matcher.pair``."""
    parser = argparse.ArgumentParser(
        prog="python -m matcher.pair",
        description=(
            "Make one or more rounds of a randomised coffee trial: split the active "
            "people into small groups with as few repeat meetings and as much mixing "
            "across departments as possible. The CSV output is valid history, so "
            "rounds can be chained with --append."
        ),
        epilog=(
            "Exit status: 0 done, 2 bad usage or input (the message names file, row "
            "and column), 1 the hard rules (meeting modes, avoid list) cannot be met."
        ),
    )
    parser.add_argument(
        "people", metavar="PEOPLE",
        help="people file: CSV (id,name,email,department,...) or a JSON list of objects",
    )
    parser.add_argument(
        "--history", metavar="FILE",
        help="past rounds (round,group,person_id[,date,met]); pairs who met are not repeated",
    )
    parser.add_argument(
        "--avoid", metavar="FILE", help="pairs never to put together (person_a,person_b)"
    )
    parser.add_argument(
        "--rounds", metavar="K", type=at_least(1), default=1,
        help="plan K consecutive rounds; later ones treat earlier ones as history (default 1)",
    )
    parser.add_argument(
        "--round", metavar="LABEL", type=_label, dest="label",
        help="label of the first new round (default: one more than the largest whole-number "
        "round in the history, else 1); later rounds count on from it, or are LABEL-1, "
        "LABEL-2, ... for a label that is not a number",
    )
    parser.add_argument(
        "--group-size", metavar="S", type=at_least(2), default=2,
        help="people per group (default 2)",
    )
    parser.add_argument(
        "--odd", choices=ODD_POLICIES, default="triad",
        help="people left over join groups (triad, the default) or sit out (sitout; "
        "whoever sat out least often)",
    )
    parser.add_argument(
        "--weights", metavar="W", type=weights, default=Weights(),
        help="points for a pair that differs in each attribute "
        "(default department=4,organisation=2,site=1,role=1; unnamed ones keep their default)",
    )
    parser.add_argument(
        "--seed", metavar="S", type=at_least(0),
        help="a whole number ≥ 0 that makes the random choices reproducible"
    )
    parser.add_argument(
        "--time-limit", metavar="SECONDS", type=seconds, default=30.0,
        help="time for all rounds together (default 30)",
    )
    parser.add_argument(
        "--format", choices=("csv", "json"), default="csv", help="output format (default csv)"
    )
    parser.add_argument(
        "--out", metavar="FILE",
        help="write to FILE (replaced in one step once all rounds are made; "
        "default standard output)",
    )
    parser.add_argument(
        "--append", action="store_true",
        help="append the CSV rows to --out instead of replacing it (the header is written "
        "only if the file is new or empty, and must match otherwise): how a history file grows",
    )
    return parser


def summary_line(label: str, metrics: RoundMetrics) -> str:
    """One readable line about a planned round, for standard error."""
    repeats = count(metrics.repeats, "repeat", "repeats")
    if metrics.repeats:
        repeats += f" (lower bound {metrics.repeats_bound})"
    return (
        f"round {label}: {count(metrics.people, 'person', 'people')}, "
        f"{count(metrics.groups, 'group', 'groups')}, "
        f"{metrics.sitting_out} sitting out, {repeats}, "
        f"{100 * metrics.cross_department_share:.1f}% cross-department, "
        f"score {metrics.score}, bound {metrics.bound}, gap {100 * metrics.gap:.2f}%, "
        f"{metrics.seconds:.2f} s"
    )


def _who(people: People, ids: Sequence[str], limit: int = 20) -> str:
    rows = people.by_id
    named = [f"{pid} ({rows[pid].name})" if pid in rows else pid for pid in ids[:limit]]
    if len(ids) > limit:
        named.append(f"and {len(ids) - limit} more")
    return ", ".join(named)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m matcher.pair`` with ``argv``; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.append and args.out is None:
            parser.error("--append needs --out FILE")
        if args.append and args.format != "csv":
            parser.error("--append works with --format csv only")
    except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)

    try:
        people = read_people(args.people)
        if not people.active_rows:
            raise InputError(people.file, "no one is active (every row has active=no)")
        ids = set(people.by_id)
        history = read_history(args.history, ids) if args.history else None
        avoid = read_avoid(args.avoid, people) if args.avoid else frozenset()

        labels = round_labels(args.label, args.rounds, history.labels if history else ())
        columns, _ = pair_columns(people)
        target = None
        if args.out is not None:
            out_dir = Path(args.out).parent
            if not out_dir.is_dir():
                raise InputError(args.out, f"cannot write: there is no folder {str(out_dir)!r}")
            if args.append:
                target = check_append_target(args.out, columns)
            else:
                for given in (args.people, args.history, args.avoid):
                    if same_file(args.out, given):
                        raise InputError(
                            args.out, "is an input file and would be overwritten; "
                            "use --append to add the new rounds to a history file"
                        )
        for source, existing in (
            (history.file if history else None, set(history.labels) if history else set()),
            (args.out, target.labels if target else set()),
        ):
            clash = [label for label in labels if label in existing]
            if clash:
                raise InputError(
                    source, f"already has round {clash[0]}; choose another label with --round"
                )
    except InputError as exc:
        return fail(str(exc))

    inactive = len(people.rows) - len(people.active_rows)
    if inactive:
        note(f"{count(inactive, 'inactive person', 'inactive people')} left out")
    if history and history.former:
        former = count(len(history.former), "former participant", "former participants")
        note(f"{history.file} names {former} not in {people.file}; ignored")
    if target is not None and target.columns is not None:
        kept = {c.strip().lower() for c in target.columns}
        left_out = [c for c in columns if c.strip().lower() not in kept]
        if left_out:
            note(f"{args.out} has no column {', '.join(left_out)}; appended without it")
    passed = set(pair_columns(people)[1]) | {"id", "name", "department"}
    dropped = [written for key, written in people.columns.items() if key not in passed]
    if dropped and args.format == "csv":
        note(f"column{'s' if len(dropped) > 1 else ''} {', '.join(dropped)} of {people.file} "
              "not copied to the output (the name means something else in a history file)")

    active = {row.id for row in people.active_rows}
    problem = Problem(
        people=people.persons,
        history=History.from_rounds(history.rounds) if history else History(),
        avoid=frozenset(pair for pair in avoid if pair[0] in active and pair[1] in active),
        weights=args.weights,
        group_size=args.group_size,
        odd=args.odd,
    )
    progress = None
    if sys.stderr.isatty():
        def progress(line: str) -> None:
            print(line, file=sys.stderr, flush=True)

    try:
        rounds = plan_rounds(
            problem, args.rounds, seed=args.seed, time_limit=args.time_limit, progress=progress
        )
    except Infeasible as exc:
        return fail(
            f"cannot make round: {exc} ({exc.rule} rule; people: {_who(people, exc.people)})", 1
        )
    except KeyboardInterrupt:
        return fail("interrupted; nothing written", 130)

    try:
        if args.format == "json":
            text = pair_json(labels, rounds)
        else:
            text = pair_csv(labels, rounds, people, header=target is None or target.needs_header,
                            order=target.columns if target else None)
        if args.out is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        elif args.append:
            append_to_file(args.out, ("\n" if target.needs_newline else "") + text)
        else:
            write_text(args.out, text)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error worth a traceback.
        with_devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(with_devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:
        return fail(f"cannot write {args.out or 'standard output'}: {exc.strerror or exc}")

    for label, planned in zip(labels, rounds, strict=True):
        print(summary_line(label, planned.metrics), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
