"""The demo's data: the staff of a fictional hospital trust and the first four
rounds of its coffee trial (README.md here; written by :mod:`seeds.generate`).
A package so that it ships with matcher: ``python -m matcher serve --demo``
reads it wherever matcher is installed."""

from importlib.resources import files
from pathlib import Path

__all__ = ["SEEDS"]

#: The folder of the demo's files.
SEEDS = Path(str(files(__name__)))
