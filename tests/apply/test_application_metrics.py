"""The application figures for the metrics report."""

from __future__ import annotations

import datetime as dt

from tortoise.transactions import in_transaction

from subscribers.application_metrics import application_figures
from subscribers.application_models import Application
from subscribers.applications import ask_for_information, decline, submit
from tests.apply.support import STAFF, answers, qualified_business


async def test_counts_times_and_the_pool_by_category(db: str) -> None:
    now = dt.datetime.now(dt.UTC)
    await Application.create(email="draft@example.com", confirmed_at=now)  # started, never submitted
    await Application.create(email="unopened@example.com")  # asked for a link, never opened it: not started
    first = await qualified_business("a@example.com")
    await Application.filter(id=first.id).update(
        confirmed_at=now, invited_at=now - dt.timedelta(days=3), submitted_at=now - dt.timedelta(days=1)
    )
    second = await Application.create(email="b@example.com", confirmed_at=now)
    async with in_transaction():
        await submit(second.id, answers(contact_email="b@example.com"))
        await ask_for_information(second.id, STAFF, "Your registration number, please.")
        await decline(second.id, STAFF, "Production is outside the County.")

    figures = await application_figures()
    assert (figures.started, figures.submitted, figures.qualified) == (3, 2, 1)
    assert (figures.asked_for_information, figures.declined) == (1, 1)
    assert figures.invited_and_submitted == 1 and figures.median_days_invitation_to_submission == 2.0
    assert figures.pool_by_category == {"315 Clothing and apparel": 1}
    assert figures.as_dict()["pool_by_category"] == {"315 Clothing and apparel": 1}
    later = await application_figures(since=now + dt.timedelta(hours=1))
    assert later.started == 0 and later.pool_by_category == {"315 Clothing and apparel": 1}
