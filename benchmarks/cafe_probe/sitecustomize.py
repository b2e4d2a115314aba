"""``python -m benchmarks.cafe_live --probe``: timings from inside the server.

Not part of the app. The benchmark puts this folder on the server's
``PYTHONPATH``, so Python imports this module at start-up (``sitecustomize``),
before ``matcher`` patches the standard library for gevent; it imports nothing
that gevent patches. It appends one JSON line per event to ``$CAFE_PROBE_LOG``:

- ``gc``: a full (generation 2) garbage collection, or any collection over 5 ms,
  and how long it took;
- ``next_round``, ``push_seats``, ``round_seats``, ``push_cafe``: each call's
  duration, by wrapping those names where ``web.api.cafes`` and ``web.push`` look them
  up (the wrapping is done right after ``web.api.cafes`` is first imported);
- with ``CAFE_PROBE_GC_FREEZE`` set, a what-if: ``gc.freeze()`` right after
  ``serve`` has warmed up (not what the app does; ``gc_freeze`` logs how many
  objects were frozen);
- ``request``: each HTTP request's route (``rule``), duration and SQL statements;
  ``sio``: each Socket.IO event handled (``connect``, …), the same.

Every event but ``gc`` also carries ``sql``: the SQL statements executed
during it by the greenlet (request) that ran it (SQLAlchemy's
``before_cursor_execute``), and ``pool_wait``: the seconds that greenlet spent
waiting for a connection from SQLAlchemy's pool (``QueuePool._do_get``, which
also opens new connections). ``db_connect``: a new database connection opened.

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
import weakref

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


_statements = weakref.WeakKeyDictionary()  # greenlet → SQL statements it executed


def _count_statement(*_args, **_kwargs):
    from greenlet import getcurrent

    me = getcurrent()
    _statements[me] = _statements.get(me, 0) + 1


def _statements_so_far():
    from greenlet import getcurrent

    return _statements.get(getcurrent(), 0)


_pool_waits = weakref.WeakKeyDictionary()  # greenlet → seconds waiting for the pool


def _pool_wait_so_far():
    from greenlet import getcurrent

    return _pool_waits.get(getcurrent(), 0.0)


def _instrument_pool():
    from greenlet import getcurrent
    from sqlalchemy import event
    from sqlalchemy.pool import Pool, QueuePool

    do_get = QueuePool._do_get

    def _do_get(self):
        started = time.perf_counter()
        try:
            return do_get(self)
        finally:
            me = getcurrent()
            _pool_waits[me] = _pool_waits.get(me, 0.0) + time.perf_counter() - started

    QueuePool._do_get = _do_get
    event.listen(Pool, "connect", lambda *_args: _write(ev="db_connect", t=time.perf_counter()))


def _timed(name, function, **fields):
    def wrapper(*args, **kwargs):
        started, before, waited = time.perf_counter(), _statements_so_far(), _pool_wait_so_far()
        try:
            return function(*args, **kwargs)
        finally:
            _write(ev=name, t0=started, t=time.perf_counter(), sql=_statements_so_far() - before,
                   pool_wait=_pool_wait_so_far() - waited, **fields)

    wrapper.__wrapped__ = function
    return wrapper


def _freeze_after_warm_up():
    """What if ``serve`` froze its heap after warming up: ``gc.freeze()`` moves
    every object alive then (modules, numba, SciPy, the app) out of the
    collector's reach, so full collections only walk what came later."""
    import web.serve as serve

    warm_up = serve._warm_up

    def _warm_up():
        warm_up()
        gc.collect()
        gc.freeze()
        _write(ev="gc_freeze", t=time.perf_counter(), frozen=gc.get_freeze_count())

    serve._warm_up = _warm_up


def _instrument(api):  # web.api.cafes
    import web.push as push

    if os.environ.get("CAFE_PROBE_GC_FREEZE"):
        _freeze_after_warm_up()

    api.next_round = _timed("next_round", api.next_round)
    api.push_seats = _timed("push_seats", api.push_seats)
    push.round_seats = _timed("round_seats", push.round_seats)
    push.push_cafe = _timed("push_cafe", push.push_cafe)
    from flask import Flask, request
    from flask_socketio import SocketIO
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "before_cursor_execute", _count_statement)
    _instrument_pool()
    dispatch = Flask.full_dispatch_request

    def full_dispatch_request(self):
        started, before, waited = time.perf_counter(), _statements_so_far(), _pool_wait_so_far()
        try:
            return dispatch(self)
        finally:
            rule = request.url_rule.rule if request.url_rule is not None else request.path
            _write(ev="request", rule=rule, t0=started, t=time.perf_counter(),
                   sql=_statements_so_far() - before, pool_wait=_pool_wait_so_far() - waited)

    Flask.full_dispatch_request = full_dispatch_request
    handle = SocketIO._handle_event

    def _handle_event(self, handler, message, namespace, sid, *args):
        started, before, waited = time.perf_counter(), _statements_so_far(), _pool_wait_so_far()
        try:
            return handle(self, handler, message, namespace, sid, *args)
        finally:
            _write(ev="sio", name=message, t0=started, t=time.perf_counter(),
                   sql=_statements_so_far() - before, pool_wait=_pool_wait_so_far() - waited)

    SocketIO._handle_event = _handle_event
    _write(ev="instrumented", t=time.perf_counter(), tracked=len(gc.get_objects()))


class _AfterWebApi(importlib.abc.MetaPathFinder):
    """Runs :func:`_instrument` right after ``web.api.cafes`` is executed."""

    def find_spec(self, name, path, target=None):
        if name != "web.api.cafes":
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
