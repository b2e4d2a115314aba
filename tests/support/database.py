"""Reaching into a test database from outside the app, for the fault and race
tests: counting rows, faults injected by the database itself (triggers), and
holding its write locks. SQLite through :mod:`sqlite3`, PostgreSQL through
psycopg: nothing of matcher's own is replaced or mocked."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import make_url

#: The error the injected fault raises (PostgreSQL: SQLSTATE 53100, disk_full).
FAULT = "injected fault: could not extend file: No space left on device"


class Database:
    """A test database, by its SQLAlchemy URL."""

    def __init__(self, url: str):
        self.url = make_url(url)
        self.sqlite = self.url.get_backend_name() == "sqlite"

    def connect(self, *, timeout: float = 30.0):
        """A new autocommit connection (close it)."""
        if self.sqlite:
            return sqlite3.connect(self.url.database, timeout=timeout, isolation_level=None)
        import psycopg

        return psycopg.connect(self.url.set(drivername="postgresql").render_as_string(
            hide_password=False), autocommit=True, connect_timeout=10)

    def scalar(self, sql: str, *parameters):
        connection = self.connect()
        try:
            if not self.sqlite:
                sql = sql.replace("?", "%s")
            return connection.execute(sql, parameters).fetchone()[0]
        finally:
            connection.close()

    def script(self, sqlite: str, postgresql: str) -> None:
        """Run the script for this kind of database."""
        connection = self.connect()
        try:
            if self.sqlite:
                connection.executescript(sqlite)
            else:
                connection.execute(postgresql)
        finally:
            connection.close()

    def count(self, table: str) -> int:
        return self.scalar(f'SELECT count(*) FROM "{table}"')

    def rows_of_rounds(self) -> dict[str, int]:
        """How many rows every table of rounds has."""
        return {table: self.count(table) for table in ("round", "group", "group_member")}

    def contents(self) -> dict[str, list[tuple]]:
        """Every row of every table of the app (sorted): equal before and after a
        request that must change nothing."""
        from matcher.models import Base

        connection = self.connect()
        try:
            return {table.name: sorted(
                        map(tuple, connection.execute(f'SELECT * FROM "{table.name}"')),
                        key=repr)
                    for table in Base.metadata.sorted_tables}
        finally:
            connection.close()

    # -- faults ------------------------------------------------------------------

    def fail_on_insert(self, table: str, nth: int) -> None:
        """The ``nth`` row inserted into ``table`` from now on (counting within
        each transaction: a rolled-back attempt counts for nothing) makes the
        database raise an error, as a full disk would."""
        self.script(
            f"""
            CREATE TABLE fault (remaining INTEGER NOT NULL);
            INSERT INTO fault VALUES ({nth});
            CREATE TRIGGER fault_on_insert BEFORE INSERT ON "{table}"
            BEGIN
                UPDATE fault SET remaining = remaining - 1;
                SELECT RAISE(ABORT, '{FAULT}') WHERE (SELECT remaining FROM fault) <= 0;
            END;
            """,
            f"""
            CREATE TABLE fault (remaining integer NOT NULL);
            INSERT INTO fault VALUES ({nth});
            CREATE FUNCTION fault_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE fault SET remaining = remaining - 1;
                IF (SELECT remaining FROM fault) <= 0 THEN
                    RAISE EXCEPTION '{FAULT}' USING ERRCODE = 'disk_full';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER fault_on_insert BEFORE INSERT ON "{table}"
                FOR EACH ROW EXECUTE FUNCTION fault_on_insert();
            """)

    def hang_on_insert(self, table: str, nth: int) -> None:
        """The ``nth`` row inserted into ``table`` makes the inserting transaction
        hang (PostgreSQL: sleeps; SQLite: computes for minutes), holding
        whatever it has written so far, uncommitted: time to kill its process."""
        self.script(
            f"""
            CREATE TABLE fault (remaining INTEGER NOT NULL);
            INSERT INTO fault VALUES ({nth});
            CREATE TABLE burn (x INTEGER);
            WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000)
                INSERT INTO burn SELECT x FROM n;
            CREATE TRIGGER hang_on_insert BEFORE INSERT ON "{table}"
            BEGIN
                UPDATE fault SET remaining = remaining - 1;
                SELECT count(*) FROM burn a, burn b, burn c
                    WHERE (SELECT remaining FROM fault) = 0;
            END;
            """,
            f"""
            CREATE TABLE fault (remaining integer NOT NULL);
            INSERT INTO fault VALUES ({nth});
            CREATE FUNCTION hang_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE fault SET remaining = remaining - 1;
                IF (SELECT remaining FROM fault) = 0 THEN
                    PERFORM pg_sleep(600);
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER hang_on_insert BEFORE INSERT ON "{table}"
                FOR EACH ROW EXECUTE FUNCTION hang_on_insert();
            """)

    def notice_dead_clients(self) -> None:
        """PostgreSQL: a backend whose client died notices within 0.1 s, even in
        the middle of a query, and rolls its transaction back (as TCP keepalives
        would, later). For connections made from now on."""
        if not self.sqlite:
            self.script("", f'ALTER DATABASE "{self.url.database}" '
                            "SET client_connection_check_interval = 100")

    def wait_until_hanging(self, timeout: float = 60) -> None:
        """Until a transaction is inside :meth:`hang_on_insert`'s trigger
        (SQLite: holds the write lock; PostgreSQL: sleeps in the trigger)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sqlite:
                if self._write_lock_taken():
                    return
            elif self.scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                             "current_database() AND wait_event = 'PgSleep'"):
                return
            time.sleep(0.05)
        pytest.fail(f"no transaction reached the hanging insert within {timeout} s")

    def wait_until_no_hanging_transaction(self, timeout: float = 30) -> None:
        """Until the database has rolled back the transaction of a killed process."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sqlite:
                if not self._write_lock_taken():
                    return
            elif not self.scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                 "current_database() AND wait_event = 'PgSleep'"):
                return
            time.sleep(0.05)
        pytest.fail(f"the killed process's transaction was still open after {timeout} s")

    def _write_lock_taken(self) -> bool:
        connection = self.connect(timeout=0)
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc):
                return True
            raise
        finally:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            connection.close()
        return False

    def remove_faults(self) -> None:
        self.script(
            "DROP TRIGGER IF EXISTS fault_on_insert; DROP TRIGGER IF EXISTS hang_on_insert; "
            "DROP TABLE IF EXISTS fault; DROP TABLE IF EXISTS burn;",
            "DROP TABLE IF EXISTS fault; DROP TABLE IF EXISTS burn; "
            "DROP TRIGGER IF EXISTS fault_on_insert ON group_member; "
            "DROP TRIGGER IF EXISTS hang_on_insert ON group_member; "
            "DROP FUNCTION IF EXISTS fault_on_insert(); DROP FUNCTION IF EXISTS hang_on_insert();")

    # -- locks -------------------------------------------------------------------

    @contextmanager
    def writes_held(self, *tables: str) -> Iterator[None]:
        """While the block runs, nobody else can write: SQLite's write lock
        (``BEGIN IMMEDIATE``), or PostgreSQL's ``EXCLUSIVE`` lock on ``tables``
        (reads go on). Whoever tries to write waits, holding what it read."""
        connection = self.connect()
        try:
            if self.sqlite:
                connection.execute("BEGIN IMMEDIATE")
            else:
                connection.execute("BEGIN")
                for table in tables:
                    connection.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()

    def wait_for_waiting_writers(self, count: int, pids: list[int], timeout: float = 30) -> None:
        """Until ``count`` writers wait for a lock (:meth:`writes_held`).
        PostgreSQL says who waits for a lock; SQLite's waiting is a process
        sleeping in its busy handler (``pids``: the server processes, one writer
        each, as a gevent process blocks whole while SQLite waits)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sqlite:
                waiting = sum(_sleeping(pid) for pid in pids)
            else:
                waiting = self.scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")
            if waiting >= count:
                return
            time.sleep(0.05)
        pytest.fail(f"{count} writers were not waiting for the lock within {timeout} s")


#: Linux x86-64 and arm64 system calls of a process sleeping (SQLite's busy
#: handler sleeps in usleep: nanosleep or clock_nanosleep).
_SLEEPS = {"35", "230", "101", "115"}


def _sleeping(pid: int) -> bool:
    """Whether process ``pid`` is sleeping in a timed sleep (not waiting for I/O)."""
    try:
        with open(f"/proc/{pid}/syscall") as status:
            return status.read().split()[0] in _SLEEPS
    except (OSError, IndexError):
        return False
