import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from outreach.models import CampaignKind, CampaignStatus, DeliveryState, Priority
from subscribers.models import ConsentMethod, Language, Role, Status


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Campaign',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='PILOT_UPDATE: pilot_update\nAPPLICATION_INVITATION: application_invitation\nWORKING_GROUP_NOTICE: working_group_notice', enum_type=CampaignKind, max_length=30)),
                ('template', fields.CharField(max_length=100)),
                ('subject', fields.CharField(default='', max_length=200)),
                ('audience', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('context', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=CampaignStatus.SCHEDULED, description='SCHEDULED: scheduled\nSENDING: sending\nPAUSED: paused\nFINISHED: finished\nCANCELLED: cancelled\nMISSED: missed', enum_type=CampaignStatus, max_length=20)),
                ('paused_reason', fields.CharField(default='', max_length=300)),
                ('send_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cron', fields.CharField(default='', max_length=100)),
                ('parent', fields.ForeignKeyField('models.Campaign', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='occurrences', on_delete=OnDelete.SET_NULL)),
                ('occurrence_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.CharField(default='', max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('audience_resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'campaign', 'app': 'models', 'unique_together': (('parent', 'occurrence_at'),), 'indexes': [Index(fields=['status', 'send_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SendCounter',
            fields=[
                ('window', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=20)),
                ('sent', fields.IntField(default=0)),
            ],
            options={'table': 'send_counter', 'app': 'models', 'pk_attr': 'window', 'table_description': 'Messages sent per minute and per hour window, so rate limits hold across restarts and processes.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Subscriber',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('name', fields.CharField(default='', max_length=200)),
                ('organization', fields.CharField(default='', max_length=200)),
                ('role', fields.CharEnumField(default=Role.OTHER, description='MANUFACTURER: manufacturer\nWORKING_GROUP: working_group\nCOUNTY_STAFF: county_staff\nOTHER: other', enum_type=Role, max_length=20)),
                ('language', fields.CharEnumField(default=Language.EN, description='EN: en\nES: es', enum_type=Language, max_length=5)),
                ('zip', fields.CharField(default='', max_length=10)),
                ('topic_pilot_updates', fields.BooleanField(default=False)),
                ('topic_application_invitations', fields.BooleanField(default=False)),
                ('topic_working_group', fields.BooleanField(default=False)),
                ('status', fields.CharEnumField(default=Status.PENDING, description='PENDING: pending\nACTIVE: active\nUNSUBSCRIBED: unsubscribed\nBOUNCED: bounced\nCOMPLAINED: complained', enum_type=Status, max_length=20)),
                ('slack_user_id', fields.CharField(null=True, max_length=32)),
                ('consent_method', fields.CharEnumField(default=ConsentMethod.FORM, description='FORM: form\nIMPORT: import\nSLACK: slack', enum_type=ConsentMethod, max_length=10)),
                ('consent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('consent_wording_version', fields.CharField(default='', max_length=20)),
                ('consent_source', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('confirmation_sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'subscriber', 'app': 'models', 'indexes': [Index(fields=['status', 'role']), Index(fields=['created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subscriber', fields.ForeignKeyField('models.Subscriber', source_field='subscriber_id', null=True, db_constraint=True, to_field='id', related_name='audit_events', on_delete=OnDelete.SET_NULL)),
                ('action', fields.CharField(max_length=40)),
                ('old_value', fields.CharField(default='', max_length=200)),
                ('new_value', fields.CharField(default='', max_length=200)),
                ('actor', fields.CharField(max_length=100)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'audit_event', 'app': 'models', 'indexes': [Index(fields=['subscriber_id', 'at'])], 'pk_attr': 'id', 'table_description': 'Every change of status or consent, with who or what made it. Holds no personal data, so it'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BusinessProfile',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subscriber', fields.OneToOneField('models.Subscriber', source_field='subscriber_id', db_constraint=True, to_field='id', related_name='profile', on_delete=OnDelete.CASCADE)),
                ('legal_name', fields.CharField(default='', max_length=200)),
                ('principal_zip', fields.CharField(default='', max_length=10)),
                ('production_zip', fields.CharField(default='', max_length=10)),
                ('products', fields.TextField(default='', unique=False)),
                ('naics', fields.CharField(default='', max_length=6)),
                ('employees', fields.IntField(null=True)),
                ('years_in_county', fields.IntField(null=True)),
                ('ca_small_business', fields.BooleanField(null=True)),
                ('garment_work', fields.BooleanField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'business_profile', 'app': 'models', 'pk_attr': 'id', 'table_description': 'What a manufacturer told us about their business, which the eligibility screener reads.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Delivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('campaign', fields.ForeignKeyField('models.Campaign', source_field='campaign_id', null=True, db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('subscriber', fields.ForeignKeyField('models.Subscriber', source_field='subscriber_id', null=True, db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.SET_NULL)),
                ('address', fields.CharField(max_length=254)),
                ('template', fields.CharField(max_length=100)),
                ('language', fields.CharField(default='en', max_length=5)),
                ('context', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('priority', fields.SmallIntField(default=Priority.BULK)),
                ('state', fields.CharEnumField(default=DeliveryState.QUEUED, description='QUEUED: queued\nSENDING: sending\nSENT: sent\nDEFERRED: deferred\nFAILED: failed\nSUPPRESSED: suppressed', enum_type=DeliveryState, max_length=12)),
                ('attempts', fields.SmallIntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(default='', max_length=64)),
                ('last_reply', fields.CharField(default='', max_length=500)),
                ('message_id', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('clicked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'delivery', 'app': 'models', 'unique_together': (('campaign', 'subscriber'),), 'indexes': [Index(fields=['subscriber_id']), Index(fields=['campaign_id', 'state', 'next_attempt_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Suppression',
            fields=[
                ('email_hash', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('reason', fields.CharField(max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'suppression', 'app': 'models', 'pk_attr': 'email_hash', 'table_description': 'Addresses we must never mail again. Keyed by a hash so an erased person leaves no address.'},
            bases=['Model'],
        ),
    ]
