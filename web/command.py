"""``python -m matcher serve``: the web app's command, which this package adds
to ``python -m matcher`` through the ``matcher.commands`` entry point (see
pyproject.toml), so that the core never imports the web layer.

gevent must patch the standard library before the app (or anything that loads
``ssl`` or ``threading``) is imported: :func:`run` does that first, then
imports :mod:`web.serve`.
"""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``serve`` to ``python -m matcher``'s commands."""
    serve = commands.add_parser(
        "serve", help="run the web app",
        description="Run the web app on gevent's WSGI server (WebSocket included), "
                    "fit for production behind a reverse proxy. Configuration: MATCHER_* "
                    "environment variables (docs/deploy.md).",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=5000, help="port to listen on")
    serve.add_argument("--demo", action="store_true",
                       help="load the demo data (a fictional hospital trust with a coffee "
                            "trial, four earlier rounds and a café) and print its links")
    serve.set_defaults(run=run)
    worker = commands.add_parser(
        "worker", help="run a mail worker on its own",
        description="Deliver the outbox's mail (and run the other background jobs) in a "
                    "process of its own, beside `serve` with MATCHER_WORKER=0 (docs/deploy.md). "
                    "Same MATCHER_* settings as the app; stop with Ctrl-C or SIGTERM.")
    worker.add_argument("--workers", type=int, default=2, help="threads delivering mail")
    worker.set_defaults(run=run_worker)


def run(args: argparse.Namespace) -> int:
    """Patch the standard library for gevent, then run the app."""
    from gevent import monkey

    monkey.patch_all()

    from web.serve import serve

    return serve(args.host, args.port, demo=args.demo)


def run_worker(args: argparse.Namespace) -> int:
    """Run a mail worker (no gevent: threads)."""
    from web.serve import work

    return work(args.workers)
