"""PostgreSQL: the search indexes without `fastupdate` (search.backends.postgres says why), their
pending lists merged now. Nothing on SQLite."""

from django.db import migrations

from search.backends import schema_operation


class Migration(migrations.Migration):
    dependencies = [("search", "0003_triggers_after_channels")]

    operations = [schema_operation("FASTUPDATE_OFF")]
