from django.db import migrations, models


def first_note(apps, schema_editor):
    apps.get_model("notes", "Note").objects.create(text="hello")


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Note",
            fields=[
                ("id", models.AutoField(primary_key=True)),
                ("text", models.TextField()),
            ],
        ),
        migrations.RunPython(first_note),
    ]
