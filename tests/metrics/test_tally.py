"""The figures' counters: kept by the database's triggers exactly as a recount from the records
would give them, whatever wrote the rows, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tortoise.connection import get_connection

from outreach.erasure import erase
from outreach.metrics import collect
from outreach.metrics.deliveries import delivery_counts
from outreach.metrics.models import FigureState, Tally, TallyChange
from outreach.metrics.profiles import RULES
from outreach.metrics.tally import counts, fold_changes, recount
from outreach.metrics.triggers import dialect_named
from outreach.models import Campaign, Delivery, DeliveryState
from outreach.queue import sql
from subscribers.models import AuditEvent, BusinessProfile, Role, Status, Subscriber
from tests.metrics.dataset import PERIOD, TODAY, at, make_dataset

LOS_ANGELES = ZoneInfo("America/Los_Angeles")


async def _counters() -> dict[tuple[str, int, str], int]:
    """Every counter with its changes added: what a reader sees."""
    found: dict[tuple[str, int, str], int] = {}
    for model in (Tally, TallyChange):
        for figure, scope, key, n in await model.all().values_list("figure", "scope", "key", "n"):
            found[(figure, scope, key)] = found.get((figure, scope, key), 0) + n
    return {k: n for k, n in found.items() if n}


async def _change_everything(ids: dict[str, int]) -> None:
    """What the service and staff do to rows after the data set: each kind of change a trigger meets."""
    ana = await Subscriber.get(email="ana@example.com")
    ana.role = Role.OTHER  # a new role: her events and messages move with her
    await ana.save(update_fields=["role"])
    ben = await Subscriber.get(email="ben@example.com")
    ben.status = Status.UNSUBSCRIBED  # no longer an active manufacturer: his profile's facts go
    await ben.save(update_fields=["status"])
    await AuditEvent.create(subscriber=ben, action="status", old_value="active", new_value="unsubscribed",
                            actor="form", at=at(11, 13))  # fmt: skip
    await Delivery.filter(campaign_id=ids["invitation"], state=DeliveryState.DEFERRED).update(
        state=DeliveryState.SENT
    )
    await Delivery.filter(campaign_id=ids["invitation"], subscriber_id=ana.id).update(
        complained_at=at(11, 14)
    )
    fay = await Subscriber.get(email="fay@example.com")  # the notice wrote to her on Nov 12
    await AuditEvent.create(subscriber=fay, action="status", old_value="active", new_value="unsubscribed",
                            actor="form", at=at(11, 13))  # fmt: skip
    await Campaign.filter(id=ids["notice"]).update(
        started_at=at(11, 4)
    )  # dated back: her unsubscribe falls out
    await erase("cy@example.com", actor="test")
    await Delivery.filter(campaign_id=ids["earlier"]).delete()
    await Subscriber.filter(email="ivy@example.com").delete()  # by hand, not erasure


async def test_the_triggers_count_what_a_recount_counts(db: str) -> None:
    ids = await make_dataset()
    await collect(PERIOD, today=TODAY)  # screens the profiles: their facts are counted too
    await _change_everything(ids)
    await collect(PERIOD, today=TODAY)
    kept = await _counters()
    assert kept[("person", 0, "active|other|es|1|1|0")] == 1  # Ana, moved
    assert ("unsubscribed_7d", ids["invitation"], "") in kept  # Eve's
    assert ("unsubscribed_7d", ids["notice"], "") not in kept  # Fay's, out of the moved window
    assert any(figure == "fact" for figure, _s, _k in kept)

    await recount()

    assert await TallyChange.all().count() == 0
    assert await _counters() == kept


async def test_a_fold_changes_no_figure(db: str) -> None:
    await make_dataset()
    before = await _counters()
    assert await TallyChange.all().count() > 0

    await fold_changes()

    assert await TallyChange.all().count() == 0
    assert await _counters() == before


async def test_counters_come_from_the_triggers_without_a_fold(db: str) -> None:
    person = await Subscriber.create(email="new@example.com", role=Role.MANUFACTURER, status=Status.ACTIVE)
    assert await counts("person") != []
    found = {tuple(c.parts): c.n for c in await counts("person")}
    assert found[("active", "manufacturer", "en", "0", "0", "0")] == 1

    await person.delete()

    assert await counts("person") == []


async def test_a_changed_profile_is_screened_again(db: str) -> None:
    person = await Subscriber.create(email="maker@example.com", role=Role.MANUFACTURER, status=Status.ACTIVE)
    profile = await BusinessProfile.create(subscriber=person, naics="315250", products="Aprons")
    first = (await collect(PERIOD, today=TODAY)).interest
    assert first.manufacturers_by_product == [("aprons", 1)]
    assert first.manufacturers_by_sector[0][:1] == ("315",)

    profile.products = "Tortillas"
    profile.naics = "311830"
    await profile.save()

    again = (await collect(PERIOD, today=TODAY)).interest
    assert again.manufacturers_by_product == [("tortillas", 1)]
    assert [code for code, _title, _n in again.manufacturers_by_sector] == ["311"]


async def test_new_rules_screen_every_profile_again(db: str) -> None:
    person = await Subscriber.create(email="maker@example.com", role=Role.MANUFACTURER, status=Status.ACTIVE)
    await BusinessProfile.create(subscriber=person, naics="315250", principal_zip="90021")
    await collect(PERIOD, today=TODAY)
    await get_connection("default").execute_query("DELETE FROM profile_fact")  # as if screened by old rules
    await FigureState.filter(name=RULES).update(value="older rules")

    pool = (await collect(PERIOD, today=TODAY)).pool

    assert pool.with_profile == 1
    assert sum(pool.verdicts["lsbe"].values()) == 1


async def test_the_county_day_follows_los_angeles_time(db: str) -> None:
    """Every hour around 2026's and 2027's daylight-time changes, against the tz database."""
    conn = get_connection("default")
    d = dialect_named(conn.capabilities.dialect)
    moments = [
        start + dt.timedelta(minutes=30 * i)
        for start in (
            dt.datetime(2026, 3, 7, tzinfo=dt.UTC),
            dt.datetime(2026, 10, 31, tzinfo=dt.UTC),
            dt.datetime(2027, 3, 13, tzinfo=dt.UTC),
            dt.datetime(2027, 11, 6, tzinfo=dt.UTC),
            dt.datetime(2026, 12, 31, tzinfo=dt.UTC),
        )
        for i in range(4 * 48)
    ]
    for moment in moments:
        value = moment if d.name == "postgres" else moment.isoformat(sep=" ")
        kind = "timestamptz" if d.name == "postgres" else "text"
        rows = await conn.execute_query_dict(
            sql(f"SELECT {d.county_day.format('x.t')} AS day FROM (SELECT CAST(? AS {kind}) AS t) AS x"),
            [value],
        )
        expected = (moment.astimezone(LOS_ANGELES).date() - dt.date(1970, 1, 1)).days
        assert int(rows[0]["day"]) == expected, moment


async def test_messages_being_sent_are_counted_apart(db: str) -> None:
    """A claim changes no counter (sending counts as waiting); what is being sent is counted directly."""
    ids = await make_dataset()
    invitation = ids["invitation"]
    before = (await delivery_counts([invitation]))[invitation]
    changes = await TallyChange.all().count()
    claimed = await Delivery.filter(campaign_id=invitation, state=DeliveryState.DEFERRED).update(
        state=DeliveryState.SENDING
    )
    assert claimed == 1
    assert await TallyChange.all().count() == changes + 2  # deferred -> waiting, as a queued one is

    during = (await delivery_counts([invitation]))[invitation]
    assert (during["deferred"], during["sending"], during["queued"]) == (before["deferred"] - 1, 1, 0)
    assert during["total"] == before["total"]

    await Delivery.filter(campaign_id=invitation, state=DeliveryState.SENDING).update(
        state=DeliveryState.SENT
    )

    after = (await delivery_counts([invitation]))[invitation]
    assert (after["sending"], after["queued"], after["sent"]) == (0, 0, before["sent"] + 1)


async def test_a_campaign_or_person_deleted_by_hand_is_counted_out(db: str) -> None:
    ids = await make_dataset()
    await collect(PERIOD, today=TODAY)
    assert ("unsubscribed_7d", ids["invitation"], "") in await _counters()

    await Campaign.filter(id=ids["invitation"]).delete()  # its messages go with it
    await Subscriber.filter(email="ana@example.com").delete()  # her events and profile too

    kept = await _counters()
    assert not any(scope == ids["invitation"] for _f, scope, _k in kept)
    await recount()
    assert await _counters() == kept
