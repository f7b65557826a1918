from django.db import migrations

DEFAULTS = {"low": ("1", "輕微缺失"), "medium": ("3", "一般缺失"), "high": ("5", "重大缺失"),
            "critical": ("10", "嚴重缺失")}


def forwards(apps, schema_editor):
    rule = apps.get_model("inspections", "DeductionRule")
    for sev, (pts, desc) in DEFAULTS.items():
        rule.objects.get_or_create(severity=sev, defaults={"points": pts, "description": desc})


class Migration(migrations.Migration):
    dependencies = [("inspections", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
