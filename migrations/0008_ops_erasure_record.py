"""The erasure record (`campaigns history` after an erasure), and on PostgreSQL a trigger that
tells every process when a campaign is waiting to start (bot/schedule_watch.py listens)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# NOTIFY is sent when the transaction commits, so a listener never sees a campaign it can't read yet.
NOTIFY_SCHEDULED = """
CREATE OR REPLACE FUNCTION madeinla_campaign_scheduled() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('madeinla_schedule', NEW.id::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER campaign_scheduled AFTER INSERT OR UPDATE OF status, send_at ON campaign
    FOR EACH ROW WHEN (NEW.status = 'scheduled') EXECUTE FUNCTION madeinla_campaign_scheduled();
"""
DROP_NOTIFY = """
DROP TRIGGER IF EXISTS campaign_scheduled ON campaign;
DROP FUNCTION IF EXISTS madeinla_campaign_scheduled();
"""


def _on_postgres(sql):
    async def run(apps, schema_editor):
        if schema_editor.client.capabilities.dialect == "postgres":
            await schema_editor._run_sql(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("models", "0006_bounces_hearing_back")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ErasureRecord",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("email_hash", fields.CharField(db_index=True, max_length=64)),
                ("erased_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("messages", fields.IntField()),
            ],
            options={
                "table": "erasure_record",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One erasure of an address, found again only by someone who types that address.",
            },
            bases=["Model"],
        ),
        ops.RunPython(_on_postgres(NOTIFY_SCHEDULED), _on_postgres(DROP_NOTIFY)),
    ]
