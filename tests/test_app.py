"""bot.app: what the lifespan does for the process as a whole."""

from __future__ import annotations

import gc

import httpx

from bot.app import create_app
from bot.settings import Settings


async def test_start_up_objects_are_left_out_of_later_collections(settings: Settings) -> None:
    """Long-lived start-up objects are frozen, so a full collection under load walks only what
    requests made (each full walk of the heap stalled every request for 60-80 ms)."""
    gc.unfreeze()
    application = create_app(settings, run_sender=False, run_scheduler=False)
    try:
        async with application.router.lifespan_context(application):
            assert gc.get_freeze_count() > 10_000  # the ORM, templates, Bolt, the ZIP tables...
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                assert (await http.get("/healthz")).status_code == 200
    finally:
        gc.unfreeze()  # give the test process its usual collector back
