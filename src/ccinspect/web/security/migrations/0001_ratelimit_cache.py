"""The table of the rate-limit cache (a DatabaseCache, so a limit holds across gunicorn workers).

A migration rather than a separate `createcachetable` step, so that every path that migrates a database
(`ccinspect web migrate`, `make run`, restore, the test database) gets it."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies: list = []
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
