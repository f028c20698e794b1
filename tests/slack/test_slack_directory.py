"""`/madeinla find PRODUCT` through the real app, against the real database: the pool of qualified
manufacturers for everyone, interest-form profiles apart and contacts only for staff."""

from __future__ import annotations

from subscribers.models import BusinessProfile, Role, Status, Subscriber
from subscribers.pool import search_pool
from tests.apply.support import qualified_business
from tests.slack.conftest import MEMBER, STAFF, SignedSlack


async def interested(email: str, products: str, *, name: str = "", status: Status = Status.ACTIVE, **profile):
    person = await Subscriber.create(
        email=email, organization=name or email.split("@")[0], role=Role.MANUFACTURER, status=status
    )
    await BusinessProfile.create(subscriber=person, legal_name=name, products=products, **profile)
    return person


async def test_buyers_see_qualified_makers_in_their_words(slack: SignedSlack):
    await qualified_business(
        "a@sew.example", legal_name="Boyle Heights Sewing", products="Surgical SCRUBS, gowns"
    )
    await qualified_business(
        "b@food.example",
        legal_name="Maizal",
        products="Tortillas",
        category="311",
        naics="311830",
        garment_work="no",
        garment_registration="",
    )
    await interested("c@sew.example", "scrubs", name="Interested Sewing")

    text = await slack.reply("find camisetas", user=MEMBER)
    assert text.startswith("*1 qualified manufacturer in the pool make “camisetas”*")
    assert "Boyle Heights Sewing* · ZIP 90021 90011 · Surgical SCRUBS, gowns · Clothing and apparel" in text
    assert "can supply: 2,000 shirts a month" in text
    assert "Maizal" not in text and "Interested Sewing" not in text  # interest form: staff only
    assert "@" not in text.replace("@sew", "")  # no contact address
    assert "ask them for an introduction" in text


async def test_staff_see_contacts_and_interested_makers_apart(slack: SignedSlack):
    await qualified_business("owner@vernon.example", legal_name="Vernon Apparel", products="Face masks")
    await interested("rosa@sew.example", "Face masks and aprons", name="Rosa Sewing")
    member_view = await slack.reply("find masks", user=MEMBER)
    staff_view = await slack.reply("find masks", user=STAFF)
    assert "owner@vernon.example" not in member_view and "rosa@sew.example" not in member_view
    assert "owner@vernon.example" in staff_view
    qualified, others = staff_view.split("Interested, not qualified")
    assert "Vernon Apparel" in qualified and "Rosa Sewing" in others and "rosa@sew.example" in others


async def test_profile_text_cannot_ping_or_link(slack: SignedSlack):
    await interested(
        "x@evil.example", "masks <!channel> & <https://evil.example|click>", name="<@U0ADMIN> Co"
    )
    text = await slack.reply("find masks", user=STAFF)
    assert "<!channel>" not in text and "<@U0ADMIN>" not in text and "<https" not in text
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text


async def test_search_term_is_text_not_a_pattern(slack: SignedSlack):
    await qualified_business("a@x.example", legal_name="Tee Co", products="100% cotton tees")
    await qualified_business("b@x.example", legal_name="Plain Co", products="cotton tees")
    text = await slack.reply("find 100%")
    assert "Tee Co" in text and "Plain Co" not in text
    assert "at least 2 letters" in await slack.reply("find _%")


async def test_results_are_capped_and_counted(slack: SignedSlack):
    for number in range(13):
        await qualified_business(
            f"m{number}@x.example", legal_name=f"Apron Maker {number:02d}", products="aprons"
        )
    text = await slack.reply("find aprons")
    assert text.startswith("*13 qualified manufacturers in the pool make “aprons”* (showing the first 10)")
    assert text.count("• ") == 10


async def test_bad_searches_explain_themselves(slack: SignedSlack):
    assert "at least 2 letters" in await slack.reply("find")
    assert "at least 2 letters" in await slack.reply("find x")
    assert "too long" in await slack.reply("find " + "x" * 200)
    assert "No qualified manufacturer in the pool makes “&lt;zzz&gt;”" in await slack.reply("find <zzz>")


async def test_interested_found_by_business_name_or_organization(db):
    await interested("a@x.example", "", name="Pacific Knitting Mills")
    await Subscriber.create(
        email="b@x.example",
        organization="Eastside Upholstery",
        zip="90023",
        role=Role.MANUFACTURER,
        status=Status.ACTIVE,
    )
    knitting = await search_pool("knitting", interested=True)
    assert [item.name for item in knitting.interested] == ["Pacific Knitting Mills"]
    upholstery = await search_pool("upholstery", interested=True)
    assert [(item.name, item.zips) for item in upholstery.interested] == [("Eastside Upholstery", "90023")]


async def test_non_ascii_search_is_signed_and_found(slack: SignedSlack):
    await qualified_business(
        "a@x.example", legal_name="Textiles Sánchez", products="camisetas de algodón, sudaderas"
    )
    text = await slack.reply("find algodón")
    assert "Textiles Sánchez* · ZIP 90021 90011 · camisetas de algodón, sudaderas" in text
