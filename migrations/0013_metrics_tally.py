"""The figures' counters (outreach/metrics/models.py) and the triggers that keep them current
(outreach/metrics/triggers.py), counted once from the records already there. Business profiles are
screened for the pool's figures on the first sweep (no rules recorded yet: every profile)."""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from outreach.metrics.tally import recount_statements
from outreach.metrics.triggers import create_statements, dialect_named, drop_statements


async def install(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    d = dialect_named(schema_editor.client.capabilities.dialect)
    for statement in [*create_statements(d), *recount_statements(d)]:
        await schema_editor.client.execute_script(statement)
    if d.name == "postgres":
        # Queue tables: every fold deletes what they hold. Autovacuum should clear the dead rows
        # after a fixed number, not a share of a row count estimated when the table was full, and
        # unthrottled (the tables are small once clear), so a reader never scans millions of them.
        for table in ("tally_change", "profile_to_screen"):
            await schema_editor.client.execute_script(
                f"ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0, "
                "autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_cost_delay = 0)"
            )


async def uninstall(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    for statement in drop_statements(dialect_named(schema_editor.client.capabilities.dialect)):
        await schema_editor.client.execute_script(statement)


def _counter(name: str, table: str, description: str, extra: dict) -> ops.CreateModel:
    return ops.CreateModel(
        name=name,
        fields=[
            ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
            ("figure", fields.CharField(max_length=20)),
            ("scope", fields.BigIntField(default=0)),
            ("key", fields.CharField(max_length=300)),
            ("n", fields.BigIntField(default=0)),
        ],
        options={"table": table, "app": "models", "pk_attr": "id", "table_description": description, **extra},
        bases=["Model"],
    )


class Migration(migrations.Migration):
    dependencies = [("models", "0007_slack_replay")]

    initial = False

    operations = [
        _counter(
            "Tally",
            "tally",
            "One counter: how many rows of a kind have these values (see outreach.metrics.tally).",
            {"unique_together": (("figure", "scope", "key"),)},
        ),
        _counter(
            "TallyChange",
            "tally_change",
            "A change to one counter, appended by a trigger, folded into Tally and deleted later.",
            {"indexes": [Index(fields=["figure", "scope"])]},
        ),
        ops.CreateModel(
            name="ProfileFact",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("profile_id", fields.IntField()),
                ("subscriber_id", fields.IntField()),
                ("kind", fields.CharField(max_length=20)),
                ("value", fields.CharField(max_length=250)),
            ],
            options={
                "table": "profile_fact",
                "table_description": "One thing the figures read from a business profile: a product, a verdict, what to ask for.",
                "app": "models",
                "pk_attr": "id",
                "indexes": [Index(fields=["profile_id"]), Index(fields=["subscriber_id"])],
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ProfileToScreen",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("profile_id", fields.IntField()),
            ],
            options={
                "table": "profile_to_screen",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A business profile changed since its facts were written (appended by a trigger).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="FigureState",
            fields=[
                ("name", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ("value", fields.CharField(max_length=200)),
            ],
            options={
                "table": "figure_state",
                "app": "models",
                "pk_attr": "name",
                "table_description": "Small named values the rollups keep: the rules the stored verdicts were screened with.",
            },
            bases=["Model"],
        ),
        ops.RunPython(install, uninstall),
    ]
