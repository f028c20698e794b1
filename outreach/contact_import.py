"""Importing a contact list together with the confirmation emails it owes, in one transaction.

`subscribers.importing` checks the file and writes the people (it knows nothing about mail); its
report lists the confirmation each new pending person is owed, and here those become queued
`Delivery` rows before the commit, so an import writes its people and their emails, or nothing.
The CLI and the console call `import_people`.
"""

from __future__ import annotations

import datetime as dt

from outreach.models import Delivery, Priority
from subscribers.bulk_insert import BulkSql
from subscribers.importing import (
    BATCH_SIZE,
    ImportReport,
    ParsedFile,
    ProgressCallback,
    import_transaction,
    record_import,
)
from subscribers.registry import utcnow
from subscribers.signup import NoticeKind

TEMPLATES = {NoticeKind.CONFIRM: "confirm"}

# What `outreach.queue.enqueue_transactional` writes for one message, here for a batch.
MAIL_FIELDS = (
    "subscriber_id",
    "address",
    "language",
    "template",
    "priority",
    "next_attempt_at",
    "created_at",
)


async def import_people(
    parsed: ParsedFile,
    *,
    consent_source: str | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    on_progress: ProgressCallback | None = None,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Add the file's new people to the registry, and queue the confirmations pending people get.

    With `consent_source` they are active at once; without it they are pending and each gets a
    queued confirmation email. Rejected rows block the whole import unless `skip_invalid`.
    Raises ImportConflict if the registry changed under us (nothing is written then).
    """
    now = now or utcnow()
    async with import_transaction() as conn:
        report = await record_import(
            conn,
            parsed,
            consent_source=consent_source,
            skip_invalid=skip_invalid,
            dry_run=dry_run,
            on_progress=on_progress,
            now=now,
        )
        if report.to_confirm:
            sql = BulkSql(conn)
            insert_mail = sql.insert(Delivery, MAIL_FIELDS)
            stamp, transactional = sql.timestamp(now), Priority.TRANSACTIONAL.value
            for start in range(0, len(report.to_confirm), BATCH_SIZE):
                await insert_mail(
                    [
                        (
                            n.subscriber_id,
                            n.address,
                            n.language.value,
                            TEMPLATES[n.kind],
                            transactional,
                            stamp,
                            stamp,
                        )
                        for n in report.to_confirm[start : start + BATCH_SIZE]
                    ]
                )
    return report
