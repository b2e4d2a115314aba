"""What every benchmark writes: machine facts, and its own section of BENCHMARKS.md."""

from __future__ import annotations

import importlib
import os
import platform
from importlib import metadata
from pathlib import Path

__all__ = ["machine_facts", "write_section"]


def machine_facts(*libraries: str) -> str:
    """CPU count and model, memory, Python, the given libraries' versions, OS."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")))
        memory = f"{kib / 1024**2:.0f} GB RAM"
    except (OSError, StopIteration, ValueError):
        memory = "RAM unknown"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = ", ".join(f"{name} {_version(name)}" for name in libraries)
    return (f"nproc {usable}, {cpu}, {memory}; Python {platform.python_version()}, "
            f"{versions}; {platform.system()} {platform.release()}")


def _version(name: str) -> str:
    """A module's ``__version__``, else the installed distribution's version
    (for names such as ``python-socketio`` or modules without ``__version__``)."""
    try:
        return importlib.import_module(name).__version__
    except (ImportError, AttributeError):
        pass
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def write_section(path: Path, title: str, section: str) -> None:
    """Replace (or append) the section headed ``title`` of ``path``, keeping the others."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = text.splitlines(keepends=True)
    start = next((k for k, line in enumerate(lines) if line.rstrip() == title), None)
    if start is None:
        body = text.rstrip("\n") + "\n\n" + section
    else:
        end = next((k for k in range(start + 1, len(lines)) if lines[k].startswith("## ")),
                   len(lines))
        after = "".join(lines[end:])
        body = "".join(lines[:start]) + section + ("\n" + after if after else "")
    path.write_text(body)
