"""SQLite refuses DELETE of audit entries too (PostgreSQL's trigger already refuses both), except while the
whole database is emptied through integrity.readonly.maintenance(): see that module."""

from django.db import migrations

from ccinspect.web.integrity import readonly

TABLE = "accounts_auditevent"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        readonly.register(connection=schema_editor.connection)
        for sql in readonly.sqlite_drop(TABLE) + readonly.sqlite_triggers(TABLE, "the audit trail"):
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_delete;")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_regulator_supervisor")]
    operations = [migrations.RunPython(forwards, backwards)]
