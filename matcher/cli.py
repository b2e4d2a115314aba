"""Pieces shared by the command lines: argument types, labels, messages."""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections.abc import Sequence

from solvers.model import Weights

__all__ = [
    "at_least",
    "count",
    "fail",
    "note",
    "round_labels",
    "same_file",
    "seconds",
    "weights",
]

_INTEGER = re.compile(r"[0-9]+")


def at_least(minimum: int):
    """An argparse type: a whole number, at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    return parse


def seconds(text: str) -> float:
    """An argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return value


def weights(text: str) -> Weights:
    """An argparse type: ``--weights`` (see :meth:`Weights.parse`)."""
    try:
        return Weights.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def count(number: int, one: str, many: str) -> str:
    """``3 tables``, ``1 table``."""
    return f"{number} {one if number == 1 else many}"


def same_file(a: str, b: str | None) -> bool:
    """Whether two paths name one existing file."""
    if b is None:
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def note(message: str) -> None:
    """A note on standard error."""
    print(f"note: {message}", file=sys.stderr)


def fail(message: str, status: int = 2) -> int:
    """An error on standard error; returns the exit status."""
    print(f"error: {message}", file=sys.stderr)
    return status


def round_labels(first: str | None, count: int, history_labels: Sequence[str]) -> list[str]:
    """Labels of ``count`` new rounds starting at ``first`` (docs/commands.md ``--round``)."""
    if first is None:
        numbers = [int(label) for label in history_labels if _INTEGER.fullmatch(label)]
        first = str(max(numbers, default=0) + 1)
    if _INTEGER.fullmatch(first):
        return [str(int(first) + i) for i in range(count)]
    if count == 1:
        return [first]
    return [f"{first}-{i}" for i in range(1, count + 1)]
