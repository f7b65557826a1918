# A broker's audit trail, newest first, as an index scan (issue 10, load).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_audit_chain'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['organisation_id', '-at', '-id'], name='audit_broker_list_idx'),
        ),
    ]
