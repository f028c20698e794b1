import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from subscribers.application_models import ApplicationStatus

# The pool's full-text search (subscribers/pool.py): Tortoise has no field for it, so it is SQL.
# The document's English and Spanish vectors, kept by PostgreSQL itself in a generated column
# (ranking reads them instead of parsing every matching document again), under a GIN index.
# fastupdate off: a qualification is rare and may cost a little more, so that a search never
# walks GIN's pending list (new entries waiting for VACUUM), which made a 25-match search 30 ms.
PG_SEARCH = [
    "ALTER TABLE pool_entry ADD COLUMN search tsvector GENERATED ALWAYS AS "
    "(to_tsvector('english', document) || to_tsvector('spanish', document)) STORED",
    "CREATE INDEX pool_entry_search ON pool_entry USING GIN (search) WITH (fastupdate = off)",
]
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE pool_entry_fts USING fts5(document, content='pool_entry', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER pool_entry_fts_insert AFTER INSERT ON pool_entry BEGIN "
    "INSERT INTO pool_entry_fts(rowid, document) VALUES (new.id, new.document); END",
    "CREATE TRIGGER pool_entry_fts_delete AFTER DELETE ON pool_entry BEGIN "
    "INSERT INTO pool_entry_fts(pool_entry_fts, rowid, document) VALUES ('delete', old.id, old.document); END",
    "CREATE TRIGGER pool_entry_fts_update AFTER UPDATE ON pool_entry BEGIN "
    "INSERT INTO pool_entry_fts(pool_entry_fts, rowid, document) VALUES ('delete', old.id, old.document); "
    "INSERT INTO pool_entry_fts(rowid, document) VALUES (new.id, new.document); END",
]


async def create_search_index(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    for statement in PG_SEARCH if postgres else SQLITE_SEARCH:
        await client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [("models", "0012_campaigns_approval")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Application",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("email", fields.CharField(max_length=254)),
                ("language", fields.CharField(default="en", max_length=5)),
                (
                    "subscriber",
                    fields.ForeignKeyField(
                        "models.Subscriber",
                        source_field="subscriber_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="applications",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("invitation_id", fields.BigIntField(null=True)),
                ("invited_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "status",
                    fields.CharEnumField(
                        default=ApplicationStatus.DRAFT,
                        description="DRAFT: draft\nSUBMITTED: submitted\nINFO_REQUESTED: info_requested\nQUALIFIED: qualified\nDECLINED: declined",
                        enum_type=ApplicationStatus,
                        max_length=20,
                    ),
                ),
                (
                    "answers",
                    fields.JSONField(
                        default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("business_name", fields.CharField(default="", max_length=200)),
                ("verdict", fields.CharField(default="", max_length=20)),
                (
                    "screening",
                    fields.JSONField(
                        default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("staff_request", fields.TextField(default="", unique=False)),
                ("decline_reason", fields.TextField(default="", unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("confirmed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("submitted_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("decided_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "application",
                "app": "models",
                "indexes": [Index(fields=["status", "submitted_at"]), Index(fields=["email"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ApplicationNote",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "application",
                    fields.ForeignKeyField(
                        "models.Application",
                        source_field="application_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="notes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("author", fields.CharField(max_length=100)),
                ("kind", fields.CharField(default="note", max_length=20)),
                ("text", fields.TextField(default="", unique=False)),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "application_note",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A staff note on an application (and the text of each decision), with who wrote it.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PoolEntry",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "application",
                    fields.OneToOneField(
                        "models.Application",
                        source_field="application_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="pool_entry",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=200)),
                ("products", fields.TextField(default="", unique=False)),
                ("category", fields.CharField(default="", max_length=3)),
                ("naics", fields.CharField(default="", max_length=6)),
                ("capacity", fields.TextField(default="", unique=False)),
                ("production_zips", fields.CharField(default="", max_length=200)),
                ("locally_owned", fields.BooleanField(default=False)),
                ("qualified_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("document", fields.TextField(default="", unique=False)),
            ],
            options={
                "table": "pool_entry",
                "app": "models",
                "indexes": [Index(fields=["category"])],
                "pk_attr": "id",
                "table_description": "A qualified business, as County buyers see it (no contact details here: staff read them",
            },
            bases=["Model"],
        ),
        ops.RunPython(create_search_index),
    ]
