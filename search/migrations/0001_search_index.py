"""The search indexes and the triggers that keep deletions in step, per database vendor.

Not Django models: an FTS5 virtual table cannot be one, and the PostgreSQL tables are read
only through raw SQL. search.backends.{sqlite,postgres}.SCHEMA hold the statements.
"""

from django.db import migrations

from search.backends import schema_operation


class Migration(migrations.Migration):
    # After every migration of the tables it indexes: on SQLite, a migration that remakes a table
    # (a field added with a default, say) drops that table's triggers, so one that comes later must
    # run search.backends.sqlite.SCHEMA's trigger statements again.
    dependencies = [
        ("accounts", "0005_user_verification"),
        ("microblog", "0005_post_article"),
        ("chat", "0007_message_shared_article"),
    ]

    operations = [schema_operation("SCHEMA")]
