"""The audit trail is read-only in the database too: triggers refuse UPDATE (SQLite, PostgreSQL) and
DELETE (PostgreSQL; on SQLite the test runner's flush deletes rows, so the model and queryset refuse there)."""

from django.db import migrations

SQLITE = [
    "CREATE TRIGGER accounts_auditevent_no_update BEFORE UPDATE ON accounts_auditevent "
    "BEGIN SELECT RAISE(ABORT, 'the audit trail is read-only'); END;",
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS accounts_auditevent_no_update;"]
PG = [
    "CREATE OR REPLACE FUNCTION accounts_auditevent_readonly() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'the audit trail is read-only'; END; $$ LANGUAGE plpgsql;",
    "CREATE TRIGGER accounts_auditevent_no_change BEFORE UPDATE OR DELETE ON accounts_auditevent "
    "FOR EACH ROW EXECUTE FUNCTION accounts_auditevent_readonly();",
]
PG_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_auditevent_no_change ON accounts_auditevent;",
    "DROP FUNCTION IF EXISTS accounts_auditevent_readonly();",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in SQLITE if vendor == "sqlite" else PG if vendor == "postgresql" else []:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in SQLITE_REVERSE if vendor == "sqlite" else PG_REVERSE if vendor == "postgresql" else []:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
