from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_slack_replay')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='AuditEvent',
            index=Index(fields=['action', 'at']),
        ),
    ]
