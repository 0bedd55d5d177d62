"""Rows for what records already waited for: the `waiting_on` texts saved before 0012 become `Wait` rows.

A data migration, not a command: it reads only this database, and the releases after it look only at
rows, so a record blocked before the upgrade would otherwise wait for ever. Not atomic: it commits batch
by batch, and running it again after an interruption skips the records that have rows. The reverse
rebuilds the texts from the rows (they are kept up to date anyway), before 0012's reverse drops them.
"""

from django.db import migrations


def forward(apps, schema_editor):
    # The token format lives in audit.waits alone, so the migration reads the texts with it.
    from audit.waits import rows_from_texts

    rows_from_texts(apps.get_model("audit", "SyncRecord"), apps.get_model("audit", "Wait"))


def backward(apps, schema_editor):
    from audit.waits import texts_from_rows

    texts_from_rows(apps.get_model("audit", "SyncRecord"), apps.get_model("audit", "Wait"))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("audit", "0013_wait"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=True),
    ]
