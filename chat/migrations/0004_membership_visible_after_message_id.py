"""Each membership records where its view of the conversation starts.

Existing memberships keep what they have: 0, every message of the conversation (the
default fills the column, so no data step is needed).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0003_membership_muted"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="visible_after_message_id",
            field=models.BigIntegerField(default=0),
        ),
    ]
