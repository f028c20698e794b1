from tortoise import migrations
from tortoise.migrations import operations as ops
from outreach.models import CampaignStatus
from tortoise import fields

class DescribeField(ops.AlterField):
    """Only the status column's description changed (the new enum values, which VARCHAR(20) holds
    as it is). A real AlterField would rebuild the table on SQLite, losing its indexes and, through
    `delivery`'s ON DELETE CASCADE, every delivery; this one changes the migration state only."""

    async def database_forward(self, *args, **kwargs) -> None:
        return None

    async def database_backward(self, *args, **kwargs) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0010_metrics_audit_index')]

    initial = False

    operations = [
        DescribeField(
            model_name='Campaign',
            name='status',
            field=fields.CharEnumField(default=CampaignStatus.SCHEDULED, description='DRAFT: draft\nAWAITING_APPROVAL: awaiting_approval\nSCHEDULED: scheduled\nSENDING: sending\nPAUSED: paused\nFINISHED: finished\nCANCELLED: cancelled\nMISSED: missed', enum_type=CampaignStatus, max_length=20),
        ),
        ops.AddField(
            model_name='Campaign',
            name='approval_note',
            field=fields.CharField(default='', db_default='', max_length=300),
        ),
        ops.AddField(
            model_name='Campaign',
            name='approved_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Campaign',
            name='approved_by',
            field=fields.CharField(default='', db_default='', max_length=100),
        ),
        ops.AddField(
            model_name='Campaign',
            name='audience_size',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Campaign',
            name='changed_by',
            field=fields.CharField(default='', db_default='', max_length=100),
        ),
        ops.AddField(
            model_name='Campaign',
            name='english_for_spanish',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Campaign',
            name='name',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Campaign',
            name='submitted_by',
            field=fields.CharField(default='', db_default='', max_length=100),
        ),
    ]
