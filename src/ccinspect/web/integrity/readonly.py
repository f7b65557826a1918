"""Evidence and audit rows are never updated or deleted, in the database itself.

Triggers refuse every UPDATE and DELETE of `inspections_evidence` and `accounts_auditevent` (see the
migrations accounts 0005 and inspections 0004). On PostgreSQL they always refuse; emptying a database for a
restore uses TRUNCATE, which row triggers do not see, and a production database also withholds UPDATE,
DELETE and TRUNCATE on those tables from the application's role (docs/web.md, Deployment).

SQLite has no roles, and Django empties an SQLite database with DELETE. So the SQLite DELETE triggers ask
`ccinspect_maintenance()`, a function only ccinspect's own connections define: it answers 0 unless the
whole database is being emptied through `maintenance()` (`flush`, `restore --force`); any other program
(the sqlite3 shell, a script) does not have the function and its DELETE fails too.
"""

from __future__ import annotations

import contextlib
import threading

_state = threading.local()

FUNCTION = "ccinspect_maintenance"
SQLITE_TABLES = ("accounts_auditevent", "inspections_evidence")


def _flag() -> int:
    return 1 if getattr(_state, "on", False) else 0


@contextlib.contextmanager
def maintenance():
    """The whole database is being emptied on purpose (this thread only)."""
    before = getattr(_state, "on", False)
    _state.on = True
    try:
        yield
    finally:
        _state.on = before


def register(sender=None, connection=None, **kwargs) -> None:
    """connection_created: give every SQLite connection the function its triggers ask."""
    if connection is not None and connection.vendor == "sqlite":
        connection.connection.create_function(FUNCTION, 0, _flag, deterministic=False)


def sqlite_triggers(table: str, label: str, *, update: bool = True) -> list[str]:
    out = []
    if update:
        out.append(f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                   f"BEGIN SELECT RAISE(ABORT, '{label} is read-only'); END;")
    out.append(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} WHEN {FUNCTION}() = 0 "
               f"BEGIN SELECT RAISE(ABORT, '{label} is read-only'); END;")
    return out


def pg_triggers(table: str, label: str) -> list[str]:
    return [
        f"CREATE OR REPLACE FUNCTION {table}_readonly() RETURNS trigger AS $$ "
        f"BEGIN RAISE EXCEPTION '{label} is read-only'; END; $$ LANGUAGE plpgsql;",
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_readonly();",
    ]


def pg_drop(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_change ON {table};", f"DROP FUNCTION IF EXISTS {table}_readonly();"]


def sqlite_drop(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;"]
