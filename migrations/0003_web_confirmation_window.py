from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0002_console_staff')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ConfirmationWindow',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=80)),
                ('resets_at', fields.BigIntField()),
                ('confirmations', fields.IntField(default=0)),
            ],
            options={'table': 'confirmation_window', 'app': 'models', 'indexes': [Index(fields=['resets_at'])], 'pk_attr': 'key', 'table_description': 'Emails the form asked to send one mailbox or domain in its current window.'},
            bases=['Model'],
        ),
    ]
