"""Hypothesis' profiles, chosen with ``HYPOTHESIS_PROFILE`` (or pytest's
``--hypothesis-profile``):

- ``full`` (the default, ``make test``): every property test tries as many
  examples as it asks for (:func:`examples`);
- ``quick`` (``make test-quick``): a tenth of them, for a fast inner loop.

Neither has a deadline: the property tests run the solvers, whose time per
example depends on the example, not on a clock the test should race."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

#: Examples of a test that asks for 100 (:func:`examples` scales the others).
FULL, QUICK = 100, 10

settings.register_profile(
    "full", max_examples=FULL, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "quick", max_examples=QUICK, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "full"))


def examples(wanted: int) -> int:
    """How many examples a test that wants ``wanted`` in the full profile
    tries in the profile loaded now (at least one)."""
    return max(1, round(wanted * settings.default.max_examples / FULL))
