"""`madeinla pool find|products` and `madeinla applications list|show`: the CLI contract."""

from __future__ import annotations

import json

from tests.apply.support import qualified_business
from tests.cli.test_cli_staff import _db, env, run  # noqa: F401  (the fixture)


def _pool(url: str) -> int:
    async def work() -> int:
        application = await qualified_business("ana@example.com")
        await qualified_business(
            "pan@example.com",
            legal_name="Panadería La Estrella",
            products="Tortillas",
            category="311",
            naics="311830",
            garment_work="no",
            garment_registration="",
        )
        return application.id

    return _db(url, work)


def test_pool_find_and_products(env: str) -> None:  # noqa: F811
    _pool(env)
    code, output = run("pool", "find", "camisetas", "--json")
    assert code == 0, output
    found = json.loads(output)
    assert found["term"] == "camisetas" and found["qualified_total"] == 1
    assert found["qualified"][0]["name"] == "López Uniforms LLC"
    assert found["qualified"][0]["email"] == "ana@example.com"
    assert "interested" not in found
    code, output = run("pool", "find", "tortilla", "--interested", "--json")
    assert json.loads(output)["interested"] == []
    code, output = run("pool", "find", "tortillas")
    assert code == 0 and "Panadería La Estrella" in output
    code, output = run("pool", "find", "x")
    assert code == 2 and "at least 2 letters" in output
    code, output = run("pool", "products", "--json")
    lines = {line["category"]: line for line in json.loads(output)}
    assert lines["315"]["manufacturers"] == 1 and lines["311"]["name_es"] == "Alimentos"


def test_applications_list_and_show(env: str) -> None:  # noqa: F811
    application_id = _pool(env)
    code, output = run("applications", "list", "--status", "qualified", "--json")
    assert code == 0, output
    records = json.loads(output)
    assert {record["business_name"] for record in records} == {"López Uniforms LLC", "Panadería La Estrella"}
    assert run("applications", "list", "--status", "draft", "--json")[1].strip() == "[]"
    code, output = run("applications", "show", str(application_id), "--json")
    shown = json.loads(output)
    assert shown["status"] == "qualified" and shown["answers"]["naics"] == "315250"
    assert shown["notes"][0]["kind"] == "qualified"
    assert shown["screening"]["programs"]["made_in_la"]["verdict"] == shown["verdict"]
    code, output = run("applications", "show", str(application_id))
    assert "Made in LA pilot" in output
    code, output = run("applications", "show", "999999")
    assert code == 2 and "no application #999999" in output
    code, output = run("applications", "list", "--status", "bogus")
    assert code == 2
