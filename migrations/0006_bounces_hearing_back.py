from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0009_layers_delivery_address')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BounceEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message_key', fields.CharField(max_length=64)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('kind', fields.CharField(max_length=20)),
                ('bounce_type', fields.CharField(default='', max_length=10)),
                ('status', fields.CharField(default='', max_length=12)),
                ('diagnostic', fields.CharField(default='', max_length=300)),
                ('delivery', fields.ForeignKeyField('models.Delivery', source_field='delivery_id', null=True, db_constraint=True, to_field='id', related_name='bounce_events', on_delete=OnDelete.SET_NULL)),
                ('subscriber', fields.ForeignKeyField('models.Subscriber', source_field='subscriber_id', null=True, db_constraint=True, to_field='id', related_name='bounce_events', on_delete=OnDelete.SET_NULL)),
                ('matched_by', fields.CharField(default='', max_length=12)),
                ('effect', fields.CharField(default='', max_length=200)),
                ('source', fields.CharField(default='', max_length=10)),
            ],
            options={'table': 'bounce_event', 'app': 'models', 'indexes': [Index(fields=['at']), Index(fields=['subscriber_id', 'bounce_type', 'at'])], 'pk_attr': 'id', 'table_description': 'What one message said about one delivery (or about none we know), and what it did.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InboundMessage',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('kind', fields.CharField(max_length=20)),
                ('source', fields.CharField(max_length=10)),
                ('processed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'inbound_message', 'app': 'models', 'pk_attr': 'key', 'table_description': 'A message from the bounce mailbox or a file, processed: its key makes processing idempotent.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Delivery',
            name='bounce_diagnostic',
            field=fields.CharField(default='', db_default='', max_length=300),
        ),
        ops.AddField(
            model_name='Delivery',
            name='bounce_status',
            field=fields.CharField(default='', db_default='', max_length=12),
        ),
        ops.AddField(
            model_name='Delivery',
            name='bounce_type',
            field=fields.CharField(default='', db_default='', max_length=10),
        ),
        ops.AddField(
            model_name='Delivery',
            name='bounced_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Delivery',
            name='complained_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        # Bounces are matched by our Message-ID: an index of the messages actually sent (partial, so
        # the rows a campaign writes before sending cost nothing, and each sent row one entry).
        ops.RunSQL(
            "CREATE INDEX delivery_message_id_sent ON delivery (message_id) WHERE message_id <> ''",
            reverse_sql="DROP INDEX delivery_message_id_sent",
        ),
    ]
