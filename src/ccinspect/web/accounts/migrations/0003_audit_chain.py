"""The audit trail becomes a hash chain (see accounts/chain.py): hash and prev_hash on every entry, backfilled
in id order, and the chain head row. The read-only triggers are lifted for the backfill and put back (on
SQLite, adding a column rebuilds the table and drops its triggers anyway)."""

import importlib

from django.db import migrations, models

from ccinspect.web.accounts import chain

readonly = importlib.import_module("ccinspect.web.accounts.migrations.0002_audit_readonly")


def backfill(apps, schema_editor):
    event = apps.get_model("accounts", "AuditEvent")
    head = apps.get_model("accounts", "AuditChainHead")
    readonly.backwards(apps, schema_editor)
    prev, last_id = chain.GENESIS, None
    for row in event.objects.order_by("id").values("id", *chain.FIELDS).iterator(chunk_size=2000):
        h = chain.entry_hash(row, prev)
        event.objects.filter(pk=row["id"]).update(prev_hash=prev, hash=h)
        prev, last_id = h, row["id"]
    head.objects.update_or_create(pk=chain.HEAD_ID, defaults={"last_id": last_id, "last_hash": prev})
    readonly.forwards(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_audit_readonly'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditChainHead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('last_id', models.BigIntegerField(blank=True, null=True)),
                ('last_hash', models.CharField(blank=True, default='', max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name='auditevent',
            name='hash',
            field=models.CharField(blank=True, db_index=True, default='', max_length=64),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='prev_hash',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
