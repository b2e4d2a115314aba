"""``python -m matcher`` (or ``matcher``): the commands that run the service
(docs/commands.md).

``organiser create EMAIL`` makes an organiser account on the configured
database (``MATCHER_DATABASE_URL``, else SQLite in ``./instance``), migrating
it first, and prints the account's API token as the last line of standard
output. Exit status: 0 done, 2 bad usage or input (a bad or taken email, a
short password, a bad database URL), 1 the database could not be used.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from matcher.validation import MIN_PASSWORD_LENGTH

__all__ = ["COMMANDS_GROUP", "build_parser", "main"]

#: The entry-point group through which other packages add commands: each entry
#: is a function that takes argparse's subparsers and adds its own (the web app
#: adds ``serve`` and ``worker`` this way, so this package never imports it).
COMMANDS_GROUP = "matcher.commands"


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m matcher``: one subcommand per command."""
    parser = argparse.ArgumentParser(
        prog="python -m matcher",
        description="Run the matcher service and manage its accounts.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    organiser = commands.add_parser(
        "organiser", help="manage organiser accounts",
        description="Manage organiser accounts (people who run trials and cafés).",
    )
    actions = organiser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create", help="create an organiser account and print its API token",
        description="Create an organiser account on the configured database "
                    "(MATCHER_DATABASE_URL, else SQLite in ./instance), migrating it first, "
                    "and print the account's API token as the last line of standard output. "
                    "The token is shown only this once.",
    )
    create.add_argument("email", metavar="EMAIL", help="the organiser's email (sign-in name)")
    create.add_argument("--name", default="", help="the organiser's name, as shown to others")
    create.add_argument(
        "--password-stdin", action="store_true",
        help="read a password for signing in from standard input (one line, at least "
             f"{MIN_PASSWORD_LENGTH} characters); without it the account signs in with its "
             "API token only",
    )
    create.set_defaults(run=organiser_create)

    for command in sorted(entry_points(group=COMMANDS_GROUP), key=lambda entry: entry.name):
        command.load()(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m matcher`` with ``argv``; return the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return args.run(args)


def _read_password() -> str:
    """The password on standard input, without its line ending."""
    from matcher.accounts import AccountError

    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    try:
        text = sys.stdin.read()
    except UnicodeDecodeError:
        raise AccountError(400, "invalid", "the password on standard input is not valid text",
                           "password") from None
    return text.removesuffix("\n").removesuffix("\r")


def organiser_create(args: argparse.Namespace) -> int:
    """``organiser create``: make the account, print its token last."""
    from matcher.accounts import AccountError, validate_password
    from matcher.cli import fail

    password = None
    if args.password_stdin:
        try:
            password = validate_password(_read_password())
        except AccountError as exc:
            return fail(str(exc))

    # Imported here, not above: a command another package adds (``serve``) may
    # need to prepare the standard library before these are loaded.
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from matcher import db
    from matcher.accounts import AccountError, create_organiser
    from matcher.cli import fail

    try:
        engine = db.make_engine(db.database_url())
    except ArgumentError as exc:
        return fail(f"{db.DATABASE_URL_VARIABLE} is not a usable database URL: {exc}")
    except ImportError as exc:
        return fail(f"{db.DATABASE_URL_VARIABLE} needs a database driver that is not "
                    f"installed: {exc.name or exc}")
    except OSError as exc:
        return fail(f"cannot create the instance folder: {exc.strerror or exc}", 1)
    try:
        db.upgrade(engine)
        with db.make_session_factory(engine)() as session, session.begin():
            organiser, token = create_organiser(session, args.email, args.name, password)
    except AccountError as exc:
        return fail(str(exc))
    except SQLAlchemyError as exc:
        # The first line names the problem; the rest is SQL and a link to the docs.
        return fail(f"the database could not be used: {str(exc).splitlines()[0]}", 1)
    finally:
        engine.dispose()

    print(f"Created organiser {organiser.email}. Keep the API token (the last line of "
          "standard output): it is not shown again.", file=sys.stderr)
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
