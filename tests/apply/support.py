"""What the application tests share: a complete set of answers, and a qualified business made
through the real service functions."""

from __future__ import annotations

from subscribers.application_models import Application
from subscribers.applications import qualify, submit
from subscribers.staff_audit import Actor
from subscribers.staff_models import ActionSource

STAFF = Actor(source=ActionSource.CLI, label="cli:test")


def answers(**changes: str) -> dict[str, str]:
    values = {
        "legal_name": "López Uniforms LLC",
        "dba": "",
        "principal_address": "1200 S Main St, Los Angeles, CA",
        "principal_zip": "90021",
        "production_sites": "",
        "production_zips": "90021 90011",
        "years_in_county": "8",
        "employees": "12",
        "revenue_band": "1m_5m",
        "naics": "315250",
        "cert_ca_sb": "yes",
        "cert_lsbe": "no",
        "cert_other": "",
        "products": "Work uniforms and t-shirts",
        "category": "315",
        "capacity": "2,000 shirts a month",
        "garment_work": "yes",
        "hourly_wage": "yes",
        "garment_registration": "GR-12345",
        "wage_judgments": "no",
        "debarred": "no",
        "contact_name": "Ana López",
        "contact_email": "ana@example.com",
        "contact_phone": "213 555 0101",
        "consent": "yes",
    }
    values.update(changes)
    return values


async def qualified_business(email: str = "ana@example.com", **changes: str) -> Application:
    application = await Application.create(email=email, language="en")
    from tortoise.transactions import in_transaction

    async with in_transaction():
        submitted = await submit(application.id, answers(contact_email=email, **changes))
    assert submitted.screening is not None, submitted.checked.errors
    async with in_transaction():
        return await qualify(application.id, STAFF)
