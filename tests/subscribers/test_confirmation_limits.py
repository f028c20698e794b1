"""Confirmation bombing: `victim+1@`, `victim+2@`, ... are one mailbox, and a domain can be flooded
with made-up names. The form mails a mailbox at most so many times a day and a domain so many times
an hour; past that it stores and sends nothing, and the typist sees exactly the same answer."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest

from bot.settings import Settings
from outreach.models import Delivery
from outreach.signup import sign_up, sign_up_many
from subscribers.confirmation_limits import ConfirmationLimits, claim_confirmations, mailbox_of
from subscribers.models import Language, Role, Status, Subscriber, Topic
from subscribers.signup import RESEND_AFTER, Outcome, SignupRequest, confirm
from tests.web.support import submit_signup

NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
LIMITS = ConfirmationLimits(per_mailbox_per_day=3, per_domain_per_hour=10)


def request(email: str) -> SignupRequest:
    return SignupRequest(
        email=email, role=Role.OTHER, language=Language.EN, topics=frozenset({Topic.PILOT_UPDATES})
    )


@pytest.mark.parametrize(
    ("address", "mailbox"),
    [
        ("victim@example.org", "victim@example.org"),
        ("victim+1@example.org", "victim@example.org"),
        ("victim+a+b@example.org", "victim@example.org"),
        ("+x@example.org", "@example.org"),
        ("v.i.c.t.i.m+9@gmail.com", "victim@gmail.com"),
        ("victim@googlemail.com", "victim@gmail.com"),
        ("v.ictim@example.org", "v.ictim@example.org"),  # dots matter outside Gmail
    ],
)
def test_plus_tags_and_gmail_dots_fold_into_one_mailbox(address: str, mailbox: str) -> None:
    assert mailbox_of(address) == mailbox


async def test_plus_tagged_addresses_share_one_mailbox_allowance(db: str) -> None:
    results = [await sign_up(request(f"victim+{n}@example.org"), now=NOW, limits=LIMITS) for n in range(1, 8)]
    assert [r.outcome for r in results] == [Outcome.CREATED] * 3 + [Outcome.LIMITED] * 4
    assert all(r.subscriber_id is None for r in results[3:])  # nothing stored for the rest
    assert await Delivery.filter(template="confirm").count() == 3
    assert await Subscriber.all().count() == 3
    # A day later the mailbox has its allowance again.
    later = await sign_up(request("victim+8@example.org"), now=NOW + dt.timedelta(days=1), limits=LIMITS)
    assert later.outcome == Outcome.CREATED


async def test_a_batch_counts_like_one_by_one(db: str) -> None:
    batch = [request(f"victim+{n}@example.org") for n in range(6)] + [request("other@example.org")]
    results = await sign_up_many(batch, now=NOW, limits=LIMITS)
    assert [r.outcome for r in results] == [Outcome.CREATED] * 3 + [Outcome.LIMITED] * 3 + [Outcome.CREATED]
    assert await Delivery.filter(template="confirm").count() == 4
    assert [r.queued_mail for r in results] == [True] * 3 + [False] * 3 + [True]


async def test_a_domain_gets_so_many_confirmations_an_hour(db: str) -> None:
    batch = [request(f"person{n}@small-shop.example") for n in range(14)]
    results = await sign_up_many(batch, now=NOW, limits=LIMITS)
    assert [r.outcome for r in results].count(Outcome.CREATED) == 10
    again = await sign_up(
        request("late@small-shop.example"), now=NOW + dt.timedelta(minutes=59), limits=LIMITS
    )
    assert again.outcome == Outcome.LIMITED
    next_hour = await sign_up(
        request("late@small-shop.example"), now=NOW + dt.timedelta(hours=1), limits=LIMITS
    )
    assert next_hour.outcome == Outcome.CREATED
    assert await Delivery.filter(address__endswith="@small-shop.example").count() == 11


async def test_shared_mail_providers_have_no_domain_limit_but_each_mailbox_does(db: str) -> None:
    batch = [request(f"person{n}@gmail.com") for n in range(14)]
    assert {r.outcome for r in await sign_up_many(batch, now=NOW, limits=LIMITS)} == {Outcome.CREATED}
    # p.e.r.s.o.n.0+n@gmail.com is person0@gmail.com, which had one of its three already.
    dotted = [request(f"{'.'.join('person0')}+{n}@gmail.com") for n in range(3)]
    results = await sign_up_many(dotted, now=NOW, limits=LIMITS)
    assert [r.outcome for r in results] == [Outcome.CREATED, Outcome.CREATED, Outcome.LIMITED]


async def test_every_mail_the_form_triggers_counts_resent_restarted_and_already_signed_up(db: str) -> None:
    """Re-sending to a pending person, re-starting a person who left and the "already signed up"
    notice are mail a typist causes too: they draw on the same allowance."""
    first = await sign_up(request("ann@example.org"), now=NOW, limits=LIMITS)
    await confirm(first.subscriber_id)  # type: ignore[arg-type]
    outcomes = []
    for n in range(1, 5):
        when = NOW + RESEND_AFTER * 2 * n
        outcomes.append((await sign_up(request("ann@example.org"), now=when, limits=LIMITS)).outcome)
    assert outcomes == [Outcome.ALREADY_ACTIVE, Outcome.ALREADY_ACTIVE, Outcome.LIMITED, Outcome.LIMITED]
    assert await Delivery.filter(address="ann@example.org").count() == 3
    person = await Subscriber.get(email="ann@example.org")
    assert person.status == Status.ACTIVE


async def test_no_limits_means_none(db: str) -> None:
    batch = [request(f"victim+{n}@example.org") for n in range(6)]
    assert {r.outcome for r in await sign_up_many(batch, now=NOW)} == {Outcome.CREATED}


async def test_the_allowance_is_counted_in_one_statement_per_batch(db: str) -> None:
    allowed = await claim_confirmations(
        ["a+1@x.example", "a+2@x.example", "b@x.example", "a+3@x.example", "a+4@x.example"],
        now=NOW,
        limits=ConfirmationLimits(per_mailbox_per_day=2, per_domain_per_hour=4),
    )
    assert allowed == [True, True, True, False, False]


@pytest.fixture
def smtp_settings(smtp_settings: Settings) -> Settings:
    return smtp_settings.model_copy(
        update={"confirmations_per_mailbox_per_day": 3, "confirmations_per_domain_per_hour": 20}
    )


async def test_the_form_answers_alike_past_the_limit(client: httpx.AsyncClient) -> None:
    """The typist can't tell: the same redirect, the same page, for the first and the tenth."""
    pages = set()
    for n in range(8):
        email = f"victim+{n}@example.org"
        answer = await submit_signup(client, email=email, follow=False)
        assert (answer.status_code, answer.headers["location"]) == (303, "/check-email?lang=en")
        page = await client.get(answer.headers["location"])
        main = page.text[page.text.index("<main") : page.text.index("</main>")].replace("<wbr>", "")
        pages.add(re.sub(re.escape(email), "ADDRESS", main))
    assert len(pages) == 1
    assert await Delivery.filter(template="confirm").count() == 3
