"""The pool's search, on the real database (SQLite FTS5 or PostgreSQL full-text search): words in
English or Spanish, plural and singular, category words, NAICS codes, ranking, and contacts only
for staff."""

from __future__ import annotations

import pytest

from subscribers.models import BusinessProfile, Role, Status, Subscriber
from subscribers.pool import BadSearch, pool_rows, products_list, search_pool
from tests.apply.support import qualified_business


async def _pool() -> None:
    await qualified_business("ana@example.com")  # uniforms and t-shirts, apparel 315250
    await qualified_business(
        "pan@example.com",
        legal_name="Panadería La Estrella",
        products="Pan dulce y tortillas de harina",
        category="311",
        naics="311811",
        garment_work="no",
        garment_registration="",
        capacity="500 dozen a week",
    )
    await qualified_business(
        "sillas@example.com",
        legal_name="Muebles Hernández",
        products="Office chairs, desks",
        category="337",
        naics="337214",
        garment_work="no",
        garment_registration="",
    )


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("uniform", "López Uniforms LLC"),  # singular finds the plural
        ("uniformes", "López Uniforms LLC"),  # Spanish plural
        ("camisetas", "López Uniforms LLC"),  # via the Apparel category's Spanish words
        ("T-Shirts", "López Uniforms LLC"),
        ("315", "López Uniforms LLC"),  # a NAICS subsector
        ("315250", "López Uniforms LLC"),
        ("clothing", "López Uniforms LLC"),  # the category's name
        ("tortilla", "Panadería La Estrella"),
        ("food", "Panadería La Estrella"),
        ("panaderia", "Panadería La Estrella"),  # accents folded (SQLite) / stemmed (PostgreSQL)
        ("chair", "Muebles Hernández"),
        ("muebles", "Muebles Hernández"),
    ],
)
async def test_a_buyer_finds_what_they_mean(db: str, term: str, expected: str) -> None:
    await _pool()
    results = await search_pool(term)
    assert results.qualified, term
    assert results.qualified[0].name == expected
    assert all(item.email is None for item in results.qualified)


async def test_ranked_and_counted_with_contacts_only_for_staff(db: str) -> None:
    await _pool()
    await qualified_business(
        "b@example.com",
        legal_name="Scrubs and More",
        products="Scrubs",
    )
    everyone = await search_pool("uniforms")
    # The scrubs maker is apparel too (the category's words), ranked after the one that says uniforms.
    assert [item.name for item in everyone.qualified] == ["López Uniforms LLC", "Scrubs and More"]
    staff = await search_pool("uniforms", contacts=True)
    assert staff.qualified[0].email == "ana@example.com"
    apparel = await search_pool("apparel")
    assert apparel.qualified_total == 2


async def test_nothing_found_and_operators_are_words(db: str) -> None:
    await _pool()
    assert (await search_pool("submarines")).qualified == []
    assert (await search_pool('uniform OR "chair* NEAR')).qualified == []  # no FTS5 syntax error
    with pytest.raises(BadSearch):
        await search_pool("x")
    with pytest.raises(BadSearch):
        await search_pool("!!")


async def test_interested_profiles_are_apart_and_only_when_asked(db: str) -> None:
    await _pool()
    person = await Subscriber.create(
        email="rosa@example.com",
        organization="Rosa's Sewing",
        role=Role.MANUFACTURER,
        status=Status.ACTIVE,
    )
    await BusinessProfile.create(subscriber=person, products="Aprons and scrubs", naics="315210")
    plain = await search_pool("camisetas")
    assert plain.interested == []
    both = await search_pool("camisetas", interested=True, contacts=True)
    assert [item.name for item in both.qualified] == ["López Uniforms LLC"]
    assert [(item.kind, item.name, item.email) for item in both.interested] == [
        ("interested", "Rosa's Sewing", "rosa@example.com")
    ]
    assert (await search_pool("apron", interested=True)).interested_total == 1


async def test_products_list_counts_each_category(db: str) -> None:
    await _pool()
    await qualified_business("c@example.com", legal_name="Gorras LA", products="Caps", capacity="1,000 caps")
    lines = {line.code: line for line in await products_list()}
    assert lines["315"].manufacturers == 2
    assert ("Gorras LA", "1,000 caps") in lines["315"].capacity
    assert lines["311"].manufacturers == 1
    assert "333" not in lines
    rows = await pool_rows(term="tortillas")
    assert [row["name"] for row in rows] == ["Panadería La Estrella"]
    assert "contact_email" not in rows[0]


async def test_erasing_a_person_takes_their_application_out_of_the_pool(db: str) -> None:
    from outreach.erasure import erase
    from subscribers.application_models import Application, ApplicationNote, PoolEntry

    await _pool()
    assert (await search_pool("uniforms")).qualified_total == 1
    await erase("ana@example.com", actor="test")
    assert (await search_pool("uniforms")).qualified_total == 0
    assert not await Application.filter(email="ana@example.com").exists()
    assert await PoolEntry.all().count() == 2 and await ApplicationNote.all().count() == 2
