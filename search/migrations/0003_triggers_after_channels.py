"""The SQLite triggers again, after accounts 0006 and chat 0009 remade accounts_user (a field
added with a default remakes the table on SQLite, which drops its triggers). Every trigger
statement says IF NOT EXISTS, so running them where they survived changes nothing."""

from django.db import migrations


def recreate_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    from search.backends import sqlite

    for statement in sqlite.SCHEMA:
        if statement.startswith("CREATE TRIGGER"):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0002_article_index"),
        ("accounts", "0006_user_kind"),
        ("chat", "0009_channels"),
    ]

    operations = [migrations.RunPython(recreate_triggers, migrations.RunPython.noop)]
