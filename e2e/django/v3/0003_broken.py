from django.db import migrations


def fail(apps, schema_editor):
    raise RuntimeError("migration 0003 fails on purpose")


class Migration(migrations.Migration):
    dependencies = [("notes", "0002_note_title")]
    operations = [migrations.RunPython(fail)]
