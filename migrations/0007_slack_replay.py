from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0011_apply_applications_pool')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SlackRequestSeen',
            fields=[
                ('signature', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=100)),
                ('expires_at', fields.BigIntField()),
            ],
            options={'table': 'slack_request_seen', 'app': 'models', 'indexes': [Index(fields=['expires_at'])], 'pk_attr': 'signature', 'table_description': 'One signed Slack request that was let in: a second request with its signature is a replay.'},
            bases=['Model'],
        ),
    ]
