"""PostgreSQL: each indexed post its epoch token, and one GIN index over doc, unigrams and meta
(search.backends.postgres says why: a term in many posts but none of the newest). Nothing on SQLite."""

from django.db import migrations

from search.backends import schema_operation


class Migration(migrations.Migration):
    dependencies = [("search", "0004_gin_without_fastupdate")]

    operations = [schema_operation("POST_EPOCHS")]
