"""What every benchmark writes: machine facts, and its own section of BENCHMARKS.md."""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

__all__ = ["machine_cpu", "machine_facts", "wait_for_quiet", "write_section", "write_subsection"]


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


def write_subsection(path: Path, title: str, intro: str, subtitle: str, text: str) -> None:
    """Replace (or add at its end) the subsection headed ``subtitle`` (``### …``)
    of the section ``title`` of ``path``; a missing section is appended, starting
    with ``intro``. Several benchmarks share one section this way."""
    source = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = source.splitlines(keepends=True)
    start = next((k for k, line in enumerate(lines) if line.rstrip() == title), None)
    if start is None:
        write_section(path, title, f"{title}\n\n{intro.rstrip()}\n\n{text}")
        return
    end = next((k for k in range(start + 1, len(lines)) if lines[k].startswith("## ")),
               len(lines))
    sub = next((k for k in range(start + 1, end) if lines[k].rstrip() == subtitle), None)
    block = text.rstrip("\n") + "\n"
    if sub is None:
        head = "".join(lines[:end]).rstrip("\n") + "\n\n" + block
    else:
        stop = next((k for k in range(sub + 1, end)
                     if lines[k].startswith("### ") or lines[k].startswith("## ")), end)
        head = "".join(lines[:sub]) + block
        end = stop
    after = "".join(lines[end:])
    path.write_text(head + ("\n" + after if after else ""))


def machine_cpu() -> float:
    """CPU seconds the whole machine has been busy (all cores; ``/proc/stat``)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(max_busy: float = 0.3, timeout: float = 300.0, window: float = 3.0) -> float:
    """Wait until the machine is quiet (fewer than ``max_busy`` cores busy over
    ``window`` seconds), at most ``timeout`` seconds; returns the cores busy in
    the last window. Other work on the machine (a test suite…) shares its cores
    with the benchmark and its servers."""
    deadline = time.monotonic() + timeout
    while True:
        before = machine_cpu()
        time.sleep(window)
        busy = (machine_cpu() - before) / window
        if busy < max_busy or time.monotonic() >= deadline:
            if busy >= max_busy:
                print(f"[{time.strftime('%H:%M:%S')}] the machine is still busy "
                      f"({busy:.2f} cores) after {timeout:g} s: measuring anyway",
                      file=sys.stderr, flush=True)
            return busy
        print(f"[{time.strftime('%H:%M:%S')}] waiting for a quiet machine "
              f"({busy:.2f} cores busy)…", file=sys.stderr, flush=True)
