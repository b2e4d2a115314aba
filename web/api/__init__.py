"""The JSON API, ``/api/v1`` (docs/api.md), a module per feature: coffee
trials (:mod:`web.api.trials`), a participant's own (:mod:`web.api.me`),
knowledge cafés (:mod:`web.api.cafes`) and their harvest
(:mod:`web.api.harvest`), mixing analytics (:mod:`web.api.analytics`),
evaluations (:mod:`web.api.evaluation`), co-organisers and deleting
(:mod:`web.api.team`), and its description
(:mod:`web.api.docs`), all on one blueprint (:mod:`web.api.base`). The bodies
are :mod:`web.api.schemas`'; the OpenAPI document is generated from them
(:mod:`web.api.spec`)."""

from web.api import (  # noqa: F401  (they add the routes)
    analytics,
    cafes,
    docs,
    evaluation,
    harvest,
    me,
    team,
    trials,
)
from web.api.base import blueprint

__all__ = ["blueprint"]
