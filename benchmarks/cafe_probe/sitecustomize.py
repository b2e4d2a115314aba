"""``python -m benchmarks.cafe_live --probe``: timings from inside the server.

Not part of the app. The benchmark puts this folder on the server's
``PYTHONPATH``, so Python imports this module at start-up (``sitecustomize``),
before ``matcher`` patches the standard library for gevent; it imports nothing
that gevent patches. It appends one JSON line per event to ``$CAFE_PROBE_LOG``:

- ``gc``: a full (generation 2) garbage collection, or any collection over 5 ms,
  and how long it took;
- ``next_round``, ``push_seats``, ``round_seats``, ``push_cafe``: each call's
  duration, by wrapping those names where ``web.api`` and ``web.push`` look them
  up (the wrapping is done right after ``web.api`` is first imported).

Times are ``time.perf_counter()`` (CLOCK_MONOTONIC: comparable with the
benchmark process's).
"""

import gc
import importlib.abc
import importlib.util
import json
import os
import sys
import time

_PATH = os.environ.get("CAFE_PROBE_LOG")
_started = [0.0]


def _write(**fields):
    with open(_PATH, "a") as log:
        log.write(json.dumps(fields) + "\n")


def _gc_callback(phase, info):
    if phase == "start":
        _started[0] = time.perf_counter()
        return
    now = time.perf_counter()
    if info["generation"] == 2 or now - _started[0] > 0.005:
        _write(ev="gc", gen=info["generation"], t0=_started[0], t=now)


def _timed(name, function):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            _write(ev=name, t0=started, t=time.perf_counter())

    wrapper.__wrapped__ = function
    return wrapper


def _instrument(api):
    import web.push as push

    api.next_round = _timed("next_round", api.next_round)
    api.push_seats = _timed("push_seats", api.push_seats)
    push.round_seats = _timed("round_seats", push.round_seats)
    push.push_cafe = _timed("push_cafe", push.push_cafe)
    _write(ev="instrumented", t=time.perf_counter(), tracked=len(gc.get_objects()))


class _AfterWebApi(importlib.abc.MetaPathFinder):
    """Runs :func:`_instrument` right after ``web.api`` is executed."""

    def find_spec(self, name, path, target=None):
        if name != "web.api":
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            _instrument(module)

        spec.loader.exec_module = exec_module
        return spec


if _PATH and "serve" in sys.argv:
    gc.callbacks.append(_gc_callback)
    sys.meta_path.insert(0, _AfterWebApi())
