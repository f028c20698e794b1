"""Listing and exporting the registry: filters, paging, JSON records, and a spreadsheet-safe CSV file."""

from __future__ import annotations

import codecs
import csv
import io
import stat
from pathlib import Path

import pytest

from outreach import contact_import
from subscribers import directory, importing
from subscribers.models import BusinessProfile, Language, Role, Status, Subscriber


async def people() -> list[Subscriber]:
    made = []
    for i, (role, status) in enumerate(
        [
            (Role.MANUFACTURER, Status.ACTIVE),
            (Role.MANUFACTURER, Status.PENDING),
            (Role.WORKING_GROUP, Status.ACTIVE),
            (Role.OTHER, Status.UNSUBSCRIBED),
            (Role.MANUFACTURER, Status.ACTIVE),
        ]
    ):
        person = Subscriber(email=f"p{i}@example.com", name=f"Person {i}", role=role, status=status)
        person.topics = ["pilot_updates"]
        await person.save()
        made.append(person)
    return made


async def collect(**filters) -> list[dict]:  # type: ignore[no-untyped-def]
    return [person async for person in directory.iter_people(**filters)]


async def test_filters_and_pages_see_everyone_once_in_order(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(directory, "PAGE_SIZE", 2)
    made = await people()
    assert [p["email"] for p in await collect()] == [p.email for p in made]
    assert [p["email"] for p in await collect(status=Status.ACTIVE)] == [
        "p0@example.com",
        "p2@example.com",
        "p4@example.com",
    ]
    assert [p["email"] for p in await collect(role=Role.MANUFACTURER, status=Status.ACTIVE)] == [
        "p0@example.com",
        "p4@example.com",
    ]
    assert [p["email"] for p in await collect(limit=3)] == [
        "p0@example.com",
        "p1@example.com",
        "p2@example.com",
    ]
    assert await collect(status=Status.BOUNCED) == []
    assert await directory.count_people() == 5
    assert await directory.count_people(role=Role.MANUFACTURER) == 3


async def test_records_are_plain_json(db: str) -> None:
    import json

    await contact_import.import_people(
        importing.read_csv("email,name,role,language\nana@example.com,Ana García,manufacturer,es\n".encode()),
        consent_source="Coalition list",
    )
    [record] = await collect()
    assert json.loads(json.dumps(record)) == record
    assert record["email"] == "ana@example.com"
    assert (record["role"], record["status"], record["language"]) == ("manufacturer", "active", "es")
    assert record["topics"] == ["pilot_updates", "application_invitations"]
    assert record["consent_source"] == "Coalition list"
    assert record["created_at"].endswith("+00:00")


async def test_export_has_profiles_and_cannot_run_formulas(db: str) -> None:
    ana = await Subscriber.create(
        email="ana@example.com", name="Ana García", role=Role.MANUFACTURER, language=Language.ES
    )
    ana.topics = ["pilot_updates", "application_invitations"]
    await ana.save()
    await BusinessProfile.create(
        subscriber=ana,
        legal_name='=HYPERLINK("http://evil")',
        employees=12,
        garment_work=True,
        naics="315210",
    )
    await Subscriber.create(email="-bo@example.com", name="@Bo", organization="+1 Foods")

    stream = io.StringIO()
    assert await directory.write_export(stream) == 2
    rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert list(rows[0]) == list(directory.EXPORT_COLUMNS)
    ana_row, bo_row = rows
    assert ana_row["name"] == "Ana García"
    assert ana_row["topics"] == "pilot_updates;application_invitations"
    assert ana_row["legal_name"] == '\'=HYPERLINK("http://evil")'
    assert (ana_row["employees"], ana_row["garment_work"], ana_row["ca_small_business"]) == ("12", "yes", "")
    assert (bo_row["email"], bo_row["name"], bo_row["organization"]) == (
        "'-bo@example.com",
        "'@Bo",
        "'+1 Foods",
    )
    assert bo_row["legal_name"] == ""  # no profile


@pytest.mark.parametrize(
    "value, cell",
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ana = Bo", "Ana = Bo"),
        ("", ""),
        (None, ""),
        (7, "7"),
        (True, "yes"),
        (False, "no"),
    ],
)
def test_spreadsheet_safe(value: object, cell: str) -> None:
    assert directory.spreadsheet_safe(value) == cell


async def test_an_export_imports_back(db: str) -> None:
    """Staff can move a list between installations: the export is a valid import file."""
    source = (
        "email,name,organization,role,language,zip\nana@example.com,Ana García,Taller,manufacturer,es,90011\n"
    )
    await contact_import.import_people(importing.read_csv(source.encode()), consent_source="Coalition list")
    stream = io.StringIO()
    await directory.write_export(stream)
    again = importing.read_csv(codecs.BOM_UTF8 + stream.getvalue().encode())
    assert again.rejected == []
    [person] = again.candidates
    original = importing.read_csv(source.encode()).candidates[0]
    assert person.same_person_details(original)


def test_export_file_appears_complete_private_and_never_over_another(tmp_path: Path) -> None:
    target = tmp_path / "subscribers.csv"
    with directory.export_file(target) as stream:
        stream.write("email\n")
        assert not target.exists()  # only renamed into place when complete
    assert target.read_bytes() == codecs.BOM_UTF8 + b"email\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    with pytest.raises(FileExistsError, match="--force"), directory.export_file(target):
        pass
    with directory.export_file(target, force=True) as stream:
        stream.write("email,name\n")
    assert target.read_bytes() == codecs.BOM_UTF8 + b"email,name\n"

    with pytest.raises(RuntimeError), directory.export_file(tmp_path / "broken.csv") as stream:
        stream.write("email\n")
        raise RuntimeError("database went away")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["subscribers.csv"]  # no partial file left


def test_export_file_refuses_folders(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError), directory.export_file(tmp_path):
        pass
    with pytest.raises(FileNotFoundError), directory.export_file(tmp_path / "missing" / "x.csv"):
        pass
