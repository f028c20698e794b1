from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from subscribers.staff_models import ActionSource, StaffRole


class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='StaffMember',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('name', fields.CharField(default='', max_length=200)),
                ('role', fields.CharEnumField(description='VIEWER: viewer\nEDITOR: editor\nSENDER: sender\nAPPROVER: approver\nADMIN: admin', enum_type=StaffRole, max_length=12)),
                ('slack_user_id', fields.CharField(default='', max_length=32)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('removed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'staff_member', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SignInLink',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('staff', fields.ForeignKeyField('models.StaffMember', source_field='staff_id', db_constraint=True, to_field='id', related_name='sign_in_links', on_delete=OnDelete.CASCADE)),
                ('secret_hash', fields.CharField(max_length=64)),
                ('browser_hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'staff_sign_in_link', 'app': 'models', 'indexes': [Index(fields=['staff_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One emailed sign-in link: single use, short-lived, and usable only in the browser that'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffAction',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('source', fields.CharEnumField(description='CONSOLE: console\nCLI: cli\nSLACK: slack\nSYSTEM: system', enum_type=ActionSource, max_length=10)),
                ('actor', fields.CharField(max_length=100)),
                ('staff', fields.ForeignKeyField('models.StaffMember', source_field='staff_id', null=True, db_constraint=True, to_field='id', related_name='actions', on_delete=OnDelete.SET_NULL)),
                ('action', fields.CharField(max_length=40)),
                ('subscriber_id', fields.IntField(null=True)),
                ('campaign_id', fields.IntField(null=True)),
                ('detail', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'staff_action', 'app': 'models', 'indexes': [Index(fields=['subscriber_id', 'id']), Index(fields=['campaign_id', 'id']), Index(fields=['staff_id', 'id'])], 'pk_attr': 'id', 'table_description': 'The staff audit log: who did what, to which person or campaign, from where.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffSession',
            fields=[
                ('key_hash', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('staff', fields.ForeignKeyField('models.StaffMember', source_field='staff_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('method', fields.CharField(max_length=10)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ended_reason', fields.CharField(default='', max_length=40)),
            ],
            options={'table': 'staff_session', 'app': 'models', 'indexes': [Index(fields=['staff_id', 'ended_at'])], 'pk_attr': 'key_hash', 'table_description': 'A signed-in browser. The cookie holds a random key and the row only its hash, so a copy of'},
            bases=['Model'],
        ),
    ]
