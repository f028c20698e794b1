"""`/madeinla find PRODUCT` through the real app, against the real database."""

from __future__ import annotations

from subscribers.directory import find_manufacturers
from subscribers.models import BusinessProfile, Role, Status, Subscriber
from tests.slack.conftest import MEMBER, STAFF, SignedSlack


async def manufacturer(
    email: str, products: str, *, name: str = "", status: Status = Status.ACTIVE, **profile
):
    person = await Subscriber.create(
        email=email, organization=name or email.split("@")[0], role=Role.MANUFACTURER, status=status
    )
    await BusinessProfile.create(subscriber=person, legal_name=name, products=products, **profile)
    return person


async def test_find_lists_active_manufacturers_that_make_it(slack: SignedSlack):
    await manufacturer(
        "a@sew.example",
        "Surgical SCRUBS, isolation gowns",
        name="Boyle Heights Sewing",
        principal_zip="90033",
    )
    await manufacturer("b@sew.example", "scrubs and lab coats", name="Vernon Apparel", production_zip="90058")
    await manufacturer("c@sew.example", "scrubs", name="Gone Garments", status=Status.UNSUBSCRIBED)
    await manufacturer("d@food.example", "tortillas", name="Maizal")
    await Subscriber.create(
        email="e@wg.example", role=Role.WORKING_GROUP, status=Status.ACTIVE, organization="Scrubs Advocacy"
    )

    text = await slack.reply("find scrubs")
    assert text.startswith("*2 manufacturers on our list mention “scrubs”*")
    assert "Boyle Heights Sewing* · ZIP 90033 · Surgical SCRUBS, isolation gowns" in text
    assert "Vernon Apparel* · ZIP 90058" in text
    assert "Gone Garments" not in text and "Maizal" not in text and "Advocacy" not in text


async def test_contact_addresses_are_for_staff_only(slack: SignedSlack):
    await manufacturer("owner@vernon.example", "face masks", name="Vernon Apparel")
    member_view = await slack.reply("find masks", user=MEMBER)
    staff_view = await slack.reply("find masks", user=STAFF)
    assert "owner@vernon.example" not in member_view
    assert "ask them for an introduction" in member_view
    assert "owner@vernon.example" in staff_view


async def test_profile_text_cannot_ping_or_link(slack: SignedSlack):
    await manufacturer(
        "x@evil.example", "masks <!channel> & <https://evil.example|click>", name="<@U0ADMIN> Co"
    )
    text = await slack.reply("find masks", user=STAFF)
    assert "<!channel>" not in text and "<@U0ADMIN>" not in text and "<https" not in text
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text


async def test_search_term_is_text_not_a_pattern(slack: SignedSlack):
    await manufacturer("a@x.example", "100% cotton tees", name="Tee Co")
    await manufacturer("b@x.example", "cotton tees", name="Plain Co")
    text = await slack.reply("find 100%")
    assert "Tee Co" in text and "Plain Co" not in text
    assert "No manufacturer" in await slack.reply("find _%")


async def test_results_are_capped_and_counted(slack: SignedSlack):
    for number in range(13):
        await manufacturer(f"m{number}@x.example", "aprons", name=f"Apron Maker {number:02d}")
    text = await slack.reply("find aprons")
    assert text.startswith("*13 manufacturers on our list mention “aprons”* (showing the first 10)")
    assert text.count("• ") == 10


async def test_bad_searches_explain_themselves(slack: SignedSlack):
    assert "at least 2 letters" in await slack.reply("find")
    assert "at least 2 letters" in await slack.reply("find x")
    assert "too long" in await slack.reply("find " + "x" * 200)
    assert "No manufacturer on our list mentions “&lt;zzz&gt;”" in await slack.reply("find <zzz>")


async def test_business_name_matches_too(db):
    await manufacturer("a@x.example", "", name="Pacific Knitting Mills")
    listings, total = await find_manufacturers("knitting")
    assert total == 1 and listings[0].name == "Pacific Knitting Mills" and listings[0].products == ""


async def test_manufacturer_without_a_profile_is_found_by_organization(db):
    await Subscriber.create(
        email="a@x.example",
        organization="Eastside Upholstery",
        zip="90023",
        role=Role.MANUFACTURER,
        status=Status.ACTIVE,
    )
    listings, total = await find_manufacturers("upholstery")
    assert total == 1
    assert (listings[0].name, listings[0].zip, listings[0].products) == ("Eastside Upholstery", "90023", "")


async def test_non_ascii_search_is_signed_and_found(slack: SignedSlack):
    await manufacturer("a@x.example", "camisetas de algodón, sudaderas", name="Textiles Sánchez")
    text = await slack.reply("find algodón")
    assert "Textiles Sánchez* · camisetas de algodón, sudaderas" in text
