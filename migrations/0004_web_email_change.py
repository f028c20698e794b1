from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0003_web_confirmation_window')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EmailChange',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subscriber', fields.ForeignKeyField('models.Subscriber', source_field='subscriber_id', db_constraint=True, to_field='id', related_name='email_changes', on_delete=OnDelete.CASCADE)),
                ('new_email', fields.CharField(max_length=254)),
                ('requested_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'email_change', 'app': 'models', 'indexes': [Index(fields=['requested_at'])], 'pk_attr': 'id', 'table_description': 'A new address a person asked for, not yet confirmed at that address.'},
            bases=['Model'],
        ),
    ]
