"""The Flask app: thin views and Socket.IO pushes over matcher's services.

:func:`create_app` (in :mod:`web.app`) is imported when first asked for, so that
``python -m matcher`` loading the ``serve`` command (:mod:`web.command`) stays
quick and imports nothing that gevent must patch first.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "queue_channel"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from web import app

        return getattr(app, name)
    raise AttributeError(f"module 'web' has no attribute {name!r}")
