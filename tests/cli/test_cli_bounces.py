"""`madeinla bounces` and `madeinla suppressions`, and what came back in `campaigns show`/`history`."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from outreach.models import Campaign, CampaignKind, CampaignStatus, Delivery
from subscribers.models import AuditEvent, Status, Subscriber
from tests.cli.test_cli_campaigns import _db, env  # noqa: F401  (the fixture)
from tests.outreach.bouncing import complaint, message_id, returned, sent_delivery
from tests.outreach.people import person


@pytest.fixture(autouse=True)
def _our_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our Message-IDs end with MAIL_FROM's domain (tests.outreach.bouncing uses example.gov)."""
    monkeypatch.setenv("MAIL_FROM", "Made in LA <madeinla@example.gov>")


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _sent(url: str, address: str, *, campaign: bool = False) -> str:
    """A person we sent a message to; returns its Message-ID."""
    mid = message_id()

    async def work() -> None:
        someone = await person(address)
        campaign_id = None
        if campaign:
            made = await Campaign.create(
                kind=CampaignKind.PILOT_UPDATE, template="pilot_update", status=CampaignStatus.FINISHED
            )
            campaign_id = made.id
        await sent_delivery(someone.id, address, campaign_id=campaign_id, mid=mid)

    _db(url, work)
    return mid


def _status(url: str, address: str) -> Status:
    async def work() -> Status:
        return (await Subscriber.get(email=address)).status

    return _db(url, work)  # type: ignore[return-value]


def test_read_files_mbox_and_maildir_then_again(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    """Every saved form is read; each message says what it did; read again, nothing changes."""
    url = env["DATABASE_URL"]
    ana, bea, cy = (_sent(url, f"{n}@example.com", campaign=True) for n in ("ana", "bea", "cy"))
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "one.eml").write_bytes(returned("hard", address="ana@example.com", our_message_id=ana))
    box = mailbox.mbox(str(tmp_path / "exported.mbox"))
    box.add(returned("soft", address="bea@example.com", our_message_id=bea))
    box.add(b"From: someone@example.org\nSubject: hello\n\nJust saying hi.\n")
    box.flush()
    maildir = mailbox.Maildir(str(tmp_path / "Maildir"))
    maildir.add(complaint(our_message_id=cy))
    maildir.flush()

    result = cli("bounces", "read", str(folder), str(tmp_path / "exported.mbox"), str(tmp_path / "Maildir"))
    assert result.exit_code == 0, result.output.replace("\n", " | ")
    lines = result.output.strip().splitlines()
    assert any("one.eml: hard bounce 5.1.1" in line and "ana@example.com" in line for line in lines)
    assert any("exported.mbox#1: soft bounce 5.2.2" in line for line in lines)
    assert any("exported.mbox#2: not recognised" in line for line in lines)
    assert any("complaint" in line and "cy@example.com" in line for line in lines), result.output.replace(
        "\n", " | "
    )
    assert lines[-1] == "4 messages: 2 bounces, 1 complaint, 1 unrecognised"
    assert _status(url, "ana@example.com") == Status.BOUNCED
    assert _status(url, "bea@example.com") == Status.ACTIVE  # one soft bounce
    assert _status(url, "cy@example.com") == Status.COMPLAINED

    again = cli("bounces", "read", str(folder), str(tmp_path / "exported.mbox"), str(tmp_path / "Maildir"))
    assert again.exit_code == 0
    assert again.output.strip().splitlines()[-1] == "4 messages: 4 already processed"

    shown = json.loads(cli("bounces", "list", "--json").stdout)
    assert {row["kind"] for row in shown} == {"bounce", "complaint", "unrecognised"}
    hard = next(row for row in shown if row["bounce_type"] == "hard")
    assert (
        hard["status"] == "5.1.1"
        and hard["address"] == "ana@example.com"
        and hard["matched_by"] == "message-id"
    )
    assert (
        json.loads(cli("bounces", "list", "--json", "--kind", "complaint").stdout)[0]["kind"] == "complaint"
    )
    assert "hard" in cli("bounces", "list").stdout
    narrow = CliRunner().invoke(main, ["bounces", "list"], env={"COLUMNS": "80"}, catch_exceptions=False)
    lines = narrow.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), narrow.stdout  # read at 80 columns, nothing cut
    assert "ana@example.com" in lines and "…" not in narrow.stdout  # the address whole, heading its block
    assert len(json.loads(cli("bounces", "list", "--json", "--since", "2020-01-01").stdout)) == 4
    assert json.loads(cli("bounces", "list", "--json", "--since", "2999-01-01").stdout) == []
    assert "Nothing came back since" in cli("bounces", "list", "--since", "2999-01-01").stdout


def test_read_says_clearly_what_is_wrong(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    missing = cli("bounces", "read", str(tmp_path / "nothing-here"))
    assert missing.exit_code == 2 and "no such file or folder" in missing.output
    (tmp_path / "empty").mkdir()
    empty = cli("bounces", "read", str(tmp_path / "empty"))
    assert empty.exit_code == 2 and "no messages" in empty.output
    bad = cli("bounces", "list", "--since", "last tuesday")
    assert bad.exit_code == 2 and "--since" in bad.output


def test_campaign_show_and_history_count_what_came_back(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    url = env["DATABASE_URL"]
    mid = _sent(url, "ana@example.com", campaign=True)
    (tmp_path / "b.eml").write_bytes(returned("hard", address="ana@example.com", our_message_id=mid))
    assert cli("bounces", "read", str(tmp_path / "b.eml")).exit_code == 0

    async def campaign_id() -> int:
        return (await Delivery.get(message_id=mid)).campaign_id  # type: ignore[attr-defined, no-any-return]

    cid = str(_db(url, campaign_id))
    shown = json.loads(cli("campaigns", "show", cid, "--json").stdout)
    assert shown["counts"]["bounced"] == 1 and shown["counts"]["complained"] == 0
    assert "came back: 1 bounced, 0 complained" in cli("campaigns", "show", cid).stdout
    history = cli("campaigns", "history", "ana@example.com").stdout
    assert "bounced (hard 5.1.1)" in history
    rows = json.loads(cli("campaigns", "history", "ana@example.com", "--json").stdout)
    assert rows[0]["bounce_status"] == "5.1.1" and rows[0]["bounced_at"]


def test_suppressions_add_list_remove_with_reasons(env: dict[str, str]) -> None:  # noqa: F811
    url = env["DATABASE_URL"]
    _sent(url, "ana@example.com")

    async def bounce_ana() -> None:
        from subscribers.registry import change_status

        await change_status(await Subscriber.get(email="ana@example.com"), Status.BOUNCED, actor="test")

    _db(url, bounce_ana)
    added = cli("suppressions", "add", "Zed@Example.com", "--reason", "asked by phone")
    assert added.exit_code == 0 and "Added" in added.output
    assert "already" in cli("suppressions", "add", "zed@example.com", "--reason", "again").output
    listed = json.loads(cli("suppressions", "list", "--json").stdout)
    assert {(row["email"], row["reason"]) for row in listed} == {
        ("ana@example.com", "bounced"),
        (None, "staff"),  # zed is not a subscriber: the address is not kept
    }
    no_reason = cli("suppressions", "remove", "ana@example.com")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    removed = cli("suppressions", "remove", "ana@example.com", "--reason", "mailbox fixed")
    assert removed.exit_code == 0 and "active again" in removed.output
    assert _status(url, "ana@example.com") == Status.ACTIVE

    async def audit() -> list[tuple[str, str, str]]:
        return await AuditEvent.filter(action="suppression").values_list("old_value", "new_value", "actor")  # type: ignore[return-value]

    trail = _db(url, audit)
    assert any(row[:2] == ("bounced", "lifted: mailbox fixed") and row[2].startswith("cli:") for row in trail)  # type: ignore[union-attr]

    async def staff_log() -> list[tuple[str, str, str]]:
        from subscribers.staff_models import StaffAction

        return (
            await StaffAction.filter(action__startswith="suppression")
            .order_by("id")
            .values_list(  # type: ignore[return-value]
                "action", "detail", "source"
            )
        )

    assert _db(url, staff_log) == [
        ("suppression.add", "asked by phone", "cli"),
        ("suppression.remove", "was bounced: mailbox fixed", "cli"),
    ]
    assert "Lifted" in cli("suppressions", "remove", "zed@example.com", "--reason", "typo").output
    unknown = cli("suppressions", "remove", "nobody@example.com", "--reason", "x")
    assert unknown.exit_code == 2 and "not on the suppression list" in unknown.output


def test_a_complaint_can_not_be_lifted_by_staff(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    url = env["DATABASE_URL"]
    mid = _sent(url, "cy@example.com")
    (tmp_path / "c.eml").write_bytes(complaint(our_message_id=mid))
    cli("bounces", "read", str(tmp_path / "c.eml"))
    refused = cli("suppressions", "remove", "cy@example.com", "--reason", "they said sorry")
    assert refused.exit_code == 2 and "suppressed for good" in refused.output
    bad = cli("suppressions", "add", "not an address", "--reason", "x")
    assert bad.exit_code == 2
