"""Rows saved before 0008 kept document facts: fill what their stored labels already say.

A data migration, not a command: it reads only this database (no GP or BILL call), fills only empty
facts, and is needed exactly once after 0008, so every deployment gets it without anyone remembering
to run it. Not atomic: it commits batch by batch, and running it again after an interruption only
fills what is still empty. Dates and anything a label does not state come with the next sync.
"""

from django.db import migrations


def fill(apps, schema_editor):
    from audit.documents import backfill_from_labels

    backfill_from_labels(apps.get_model("audit", "SyncRecord"))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("audit", "0008_record_document_facts"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
