"""Evidence rows are read-only in the database: a change is a new row that supersedes the old one. Triggers
refuse UPDATE and DELETE (see integrity/readonly.py for SQLite's emptying of a whole database)."""

from django.db import migrations

from ccinspect.web.integrity import readonly

TABLE = "inspections_evidence"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        readonly.register(connection=schema_editor.connection)
        sql = readonly.sqlite_drop(TABLE) + readonly.sqlite_triggers(TABLE, "evidence")
    elif vendor == "postgresql":
        sql = readonly.pg_drop(TABLE) + readonly.pg_triggers(TABLE, "evidence")
    else:
        sql = []
    for s in sql:
        schema_editor.execute(s)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for s in (readonly.sqlite_drop(TABLE) if vendor == "sqlite" else
              readonly.pg_drop(TABLE) if vendor == "postgresql" else []):
        schema_editor.execute(s)


class Migration(migrations.Migration):
    dependencies = [("inspections", "0004_finding_source")]
    operations = [migrations.RunPython(forwards, backwards)]
