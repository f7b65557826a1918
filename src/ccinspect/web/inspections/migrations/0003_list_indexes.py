# Indexes in the order the lists are shown, so a page is an index scan (issue 10, load).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inspections', '0002_deduction_table'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='finding',
            index=models.Index(fields=['status', 'due_date', 'id'], name='finding_list_idx'),
        ),
        migrations.AddIndex(
            model_name='finding',
            index=models.Index(fields=['organisation', 'status', 'due_date', 'id'], name='finding_broker_list_idx'),
        ),
        migrations.AddIndex(
            model_name='inspection',
            index=models.Index(fields=['-period_end', 'unit', 'id'], name='insp_list_idx'),
        ),
        migrations.AddIndex(
            model_name='inspection',
            index=models.Index(fields=['organisation', '-period_end', 'unit', 'id'], name='insp_broker_list_idx'),
        ),
    ]
