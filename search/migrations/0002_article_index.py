"""The articles' index (search.backends.{sqlite,postgres}.ARTICLE_SCHEMA) and its deletion trigger.

On SQLite, a later migration that remakes articles_article drops the trigger: it must run
ARTICLE_SCHEMA's trigger statement again (as 0001 says of the tables it follows).
"""

from django.db import migrations

from search.backends import schema_operation


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_search_index"),
        ("articles", "0001_articles"),
    ]

    operations = [schema_operation("ARTICLE_SCHEMA")]
