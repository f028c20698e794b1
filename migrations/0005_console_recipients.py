from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0004_web_email_change')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Delivery',
            index=Index(fields=['campaign_id', 'id']),
        ),
        ops.AddIndex(
            model_name='Delivery',
            index=Index(fields=['campaign_id', 'state', 'id']),
        ),
    ]
