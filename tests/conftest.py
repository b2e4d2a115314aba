"""The suite's fixtures live in ``tests/support`` (one module per concern) and
are loaded here as plugins; tests import helpers from ``tests.support``, never
from a ``conftest.py``. ``tests/browser/conftest.py`` adds Chromium's.

Layout (see the README, "Tests"): ``solvers/`` (the algorithms, no database),
``matcher/`` (files, command lines, services, the database), ``web/`` (the app
through Flask's test client and Socket.IO's), ``system/`` (real servers in
subprocesses: several processes, Redis, faults, races), ``browser/`` (real
Chromium against a real server)."""

pytest_plugins = [
    "tests.support.backends",
    "tests.support.mail",
    "tests.support.app",
    "tests.support.servers",
    "tests.support.hypothesis",
    "tests.support.world",
]
