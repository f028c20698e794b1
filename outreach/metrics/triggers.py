"""The triggers that keep the figures' counters current, for SQLite and PostgreSQL.

Each trigger appends rows to `tally_change` (see `outreach.metrics.models`): +1 for the values a
row has now, -1 for the values it had. The bodies are plain SQL both databases read alike (`NEW`
and `OLD`, `INSERT ... SELECT ... WHERE`); only the few expressions below differ, and on
PostgreSQL the message triggers run once per statement over its transition tables (the sender's
path; `_delivery_statement_triggers`). Triggers, not
Python, because every writer must be counted: the sender, the bounce reader, the form, imports,
erasure, and a bulk `UPDATE` staff run by hand alike, in the writer's own transaction.

What each figure's key holds (joined with "|"; a free-text part comes last):

    person           status, role, language, and the three topics (1 or 0)
    zip              status, ZIP
    event            action, role, old value, new value; scope: the County day (days since 1970)
    delivery         state (sending counts as queued), language, role, clicked (1/0), complained (1/0);
                     scope: the campaign
    unsubscribed_7d  (empty); scope: the campaign whose message the person had had for under 7 days
    fact             kind, value: an active manufacturer's profile facts (`ProfileFact`)

A person's role is looked up when a row is counted, and their rows are counted again when it
changes; rows unlinked by erasure move to the role "erased".
"""

from __future__ import annotations

from dataclasses import dataclass

from subscribers.models import Topic

WEEK_SECONDS = 7 * 86400


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    county_day: str  # {0}: a timestamp -> days since 1970-01-01 in Los Angeles
    epoch: str  # {0}: a timestamp -> seconds since 1970 (UTC)


POSTGRES = Dialect(
    "postgres",
    county_day="((({0}) AT TIME ZONE 'America/Los_Angeles')::date - DATE '1970-01-01')",
    epoch="EXTRACT(EPOCH FROM {0})",
)
# SQLite has no time zones: Los Angeles' offset by the US rule in force since 2007 (daylight time
# from 2 am on the second Sunday of March to 2 am on the first Sunday of November), checked
# every half hour around four changes against the tz database (tests/metrics/test_tally.py).
SQLITE = Dialect(
    "sqlite",
    county_day=(
        "CAST(julianday(date({0}, CASE WHEN datetime({0}) >= "
        "date(strftime('%Y', {0}) || '-03-01', 'weekday 0', '+7 days') || ' 10:00:00' "
        "AND datetime({0}) < date(strftime('%Y', {0}) || '-11-01', 'weekday 0') || ' 09:00:00' "
        "THEN '-7 hours' ELSE '-8 hours' END)) - 2440587.5 AS INTEGER)"
    ),
    epoch="CAST(strftime('%s', {0}) AS INTEGER)",
)


def dialect_named(name: str) -> Dialect:
    return POSTGRES if name == "postgres" else SQLITE


def _role(subscriber_id: str) -> str:
    return f"COALESCE((SELECT role FROM subscriber WHERE id = {subscriber_id}), 'erased')"


def _flag(value: str) -> str:
    return f"(CASE WHEN {value} THEN '1' ELSE '0' END)"


def _is_set(value: str) -> str:
    return f"(CASE WHEN {value} IS NULL THEN '0' ELSE '1' END)"


def _join(*parts: str) -> str:
    return " || '|' || ".join(parts)


def person_key(row: str) -> str:
    topics = (f"{row}.topic_{topic.value}" for topic in Topic)
    return _join(f"{row}.status", f"{row}.role", f"{row}.language", *(_flag(t) for t in topics))


# How many values each figure's key holds (the layouts in this module's docstring), and where a
# person's topic flag sits in theirs: readers split keys with these, never with a number of their own.
PARTS = {"person": 3 + len(Topic), "zip": 2, "event": 4, "delivery": 5, "unsubscribed_7d": 1, "fact": 2}
TOPIC_PART = {topic: 3 + i for i, topic in enumerate(Topic)}


def zip_key(row: str) -> str:
    return _join(f"{row}.status", f"{row}.zip")


def event_key(row: str, role: str) -> str:
    return _join(f"{row}.action", role, f"{row}.old_value", f"{row}.new_value")


def counted_state(row: str) -> str:
    """A message being sent counts as waiting: a sender's claim (queued -> sending) then changes no
    counter, which halves the triggers' work on the sender's path. How many are being sent is
    counted directly (`outreach.metrics.deliveries`): a few batches at most."""
    return f"(CASE WHEN {row}.state = 'sending' THEN 'queued' ELSE {row}.state END)"


def delivery_key(row: str, role: str) -> str:
    return _join(
        counted_state(row),
        f"{row}.language",
        role,
        _is_set(f"{row}.clicked_at"),
        _is_set(f"{row}.complained_at"),
    )


def fact_key(row: str) -> str:
    return _join(f"{row}.kind", f"{row}.value")


def active_manufacturer(row: str) -> str:
    return f"({row}.status = 'active' AND {row}.role = 'manufacturer')"


COUNTED_EVENTS = "('status', 'erased')"
_EVENT_CHANGED = " OR ".join(
    ["OLD.subscriber_id IS DISTINCT FROM NEW.subscriber_id"]
    + [f"OLD.{column} <> NEW.{column}" for column in ("at", "action", "old_value", "new_value")]
)


def _change(figure: str, scope: str, key: str, n: int, rest: str = "") -> str:
    """Append one counter change (or one per row of `rest`, a FROM/WHERE clause)."""
    return f"INSERT INTO tally_change (figure, scope, key, n) SELECT '{figure}', {scope}, {key}, {n} {rest}"


# "Unsubscribed within 7 days of a campaign" counts pairs: an unsubscribe, and a message of a
# campaign that started in the 7 days before it, to the same person. Each helper adds or takes
# away the pairs one changed row (NEW or OLD) is part of.
# `|| ''` keeps the planner off the audit trail's (action, at, ...) index, which would read every
# status change, and on the (subscriber_id, at) one, which reads one person's.
_UNSUBSCRIBE = "{a}.action || '' = 'status' AND {a}.new_value = 'unsubscribed'"


def _within_week(d: Dialect, at: str, started_at: str) -> str:
    since = f"{d.epoch.format(at)} - {d.epoch.format(started_at)}"
    return f"{started_at} IS NOT NULL AND {since} >= 0 AND {since} < {WEEK_SECONDS}"


def _unsubscribed_after_event(d: Dialect, a: str, n: int) -> str:
    return _change(
        "unsubscribed_7d",
        "c.id",
        "''",
        n,
        f"FROM delivery m JOIN campaign c ON c.id = m.campaign_id WHERE {_UNSUBSCRIBE.format(a=a)} "
        f"AND m.subscriber_id = {a}.subscriber_id AND {_within_week(d, f'{a}.at', 'c.started_at')}",
    )


def _unsubscribed_after_message(d: Dialect, m: str, n: int) -> str:
    return _change(
        "unsubscribed_7d",
        "c.id",
        "''",
        n,
        f"FROM audit_event a JOIN campaign c ON c.id = {m}.campaign_id WHERE {_UNSUBSCRIBE.format(a='a')} "
        f"AND a.subscriber_id = {m}.subscriber_id AND {_within_week(d, 'a.at', 'c.started_at')}",
    )


def _unsubscribed_after_start(d: Dialect, c: str, n: int) -> str:
    return _change(
        "unsubscribed_7d",
        f"{c}.id",
        "''",
        n,
        f"FROM delivery m JOIN audit_event a ON a.subscriber_id = m.subscriber_id "
        f"WHERE m.campaign_id = {c}.id AND {_UNSUBSCRIBE.format(a='a')} "
        f"AND {_within_week(d, 'a.at', f'{c}.started_at')}",
    )


@dataclass(frozen=True, slots=True)
class Trigger:
    name: str
    table: str
    event: str  # INSERT, UPDATE or DELETE
    when: str  # condition on NEW / OLD, or "" for every row
    body: tuple[str, ...]
    # PostgreSQL only: run once per statement over its transition tables (old_rows, new_rows)
    # instead of once per row, e.g. "REFERENCING NEW TABLE AS new_rows".
    transition: str = ""
    timing: str = "AFTER"  # BEFORE: a DELETE that first does what must be counted while the row is
    # still there


def triggers(d: Dialect) -> list[Trigger]:
    day = d.county_day.format
    moved_role = "OLD.role <> NEW.role"
    return [
        Trigger(
            "tally_subscriber_insert",
            "subscriber",
            "INSERT",
            "",
            (_change("person", "0", person_key("NEW"), 1), _change("zip", "0", zip_key("NEW"), 1)),
        ),
        Trigger(
            "tally_subscriber_update",
            "subscriber",
            "UPDATE",
            "",
            (
                _change(
                    "person", "0", person_key("OLD"), -1, f"WHERE {person_key('OLD')} <> {person_key('NEW')}"
                ),
                _change(
                    "person", "0", person_key("NEW"), 1, f"WHERE {person_key('OLD')} <> {person_key('NEW')}"
                ),
                _change("zip", "0", zip_key("OLD"), -1, f"WHERE {zip_key('OLD')} <> {zip_key('NEW')}"),
                _change("zip", "0", zip_key("NEW"), 1, f"WHERE {zip_key('OLD')} <> {zip_key('NEW')}"),
                # A new role: the person's events and messages are counted under it from now on.
                # (PostgreSQL: first wait for a sender writing one of their messages, so the
                # message is counted again as it is once that sender commits.)
                *(
                    (
                        "PERFORM 1 FROM delivery WHERE subscriber_id = NEW.id AND OLD.role <> NEW.role "
                        "FOR SHARE",
                    )
                    if d.name == "postgres"
                    else ()
                ),
                *(
                    _change(
                        "event",
                        day("a.at"),
                        event_key("a", f"{row}.role"),
                        n,
                        f"FROM audit_event a WHERE a.subscriber_id = NEW.id "
                        f"AND a.action || '' IN {COUNTED_EVENTS} "
                        f"AND {moved_role}",
                    )
                    for row, n in (("OLD", -1), ("NEW", 1))
                ),
                *(
                    _change(
                        "delivery",
                        "m.campaign_id",
                        delivery_key("m", f"{row}.role"),
                        n,
                        f"FROM delivery m WHERE m.subscriber_id = NEW.id AND m.campaign_id + 0 IS NOT NULL "
                        f"AND {moved_role}",
                    )
                    for row, n in (("OLD", -1), ("NEW", 1))
                ),
                # Becoming, or no longer being, an active manufacturer: the profile's facts count or not.
                _change(
                    "fact",
                    "0",
                    fact_key("f"),
                    -1,
                    f"FROM profile_fact f WHERE f.subscriber_id = NEW.id "
                    f"AND {active_manufacturer('OLD')} AND NOT {active_manufacturer('NEW')}",
                ),
                _change(
                    "fact",
                    "0",
                    fact_key("f"),
                    1,
                    f"FROM profile_fact f WHERE f.subscriber_id = NEW.id "
                    f"AND {active_manufacturer('NEW')} AND NOT {active_manufacturer('OLD')}",
                ),
            ),
        ),
        # A person deleted: their events and messages are unlinked and their profile deleted first,
        # as erasure does (each counted again as "erased" while the person is still there to look
        # up), so a row deleted by hand is counted right too; then the person.
        Trigger(
            "tally_subscriber_unlink",
            "subscriber",
            "DELETE",
            "",
            (
                "UPDATE audit_event SET subscriber_id = NULL WHERE subscriber_id = OLD.id",
                "UPDATE delivery SET subscriber_id = NULL WHERE subscriber_id = OLD.id",
                "DELETE FROM business_profile WHERE subscriber_id = OLD.id",
            ),
            timing="BEFORE",
        ),
        Trigger(
            "tally_subscriber_delete",
            "subscriber",
            "DELETE",
            "",
            (_change("person", "0", person_key("OLD"), -1), _change("zip", "0", zip_key("OLD"), -1)),
        ),
        Trigger(
            "tally_event_insert",
            "audit_event",
            "INSERT",
            f"NEW.action IN {COUNTED_EVENTS}",
            (
                _change("event", day("NEW.at"), event_key("NEW", _role("NEW.subscriber_id")), 1),
                _unsubscribed_after_event(d, "NEW", 1),
            ),
        ),
        # Erasure unlinks an event (its role becomes "erased"); the figures' tests date events back.
        Trigger(
            "tally_event_update",
            "audit_event",
            "UPDATE",
            f"(OLD.action IN {COUNTED_EVENTS} OR NEW.action IN {COUNTED_EVENTS}) AND ({_EVENT_CHANGED})",
            (
                _change(
                    "event",
                    day("OLD.at"),
                    event_key("OLD", _role("OLD.subscriber_id")),
                    -1,
                    f"WHERE OLD.action IN {COUNTED_EVENTS}",
                ),
                _change(
                    "event",
                    day("NEW.at"),
                    event_key("NEW", _role("NEW.subscriber_id")),
                    1,
                    f"WHERE NEW.action IN {COUNTED_EVENTS}",
                ),
                _unsubscribed_after_event(d, "OLD", -1),
                _unsubscribed_after_event(d, "NEW", 1),
            ),
        ),
        *(_delivery_statement_triggers(d) if d.name == "postgres" else _delivery_row_triggers(d)),
        Trigger(
            "tally_campaign_started",
            "campaign",
            "UPDATE",
            "OLD.started_at IS DISTINCT FROM NEW.started_at",
            (_unsubscribed_after_start(d, "OLD", -1), _unsubscribed_after_start(d, "NEW", 1)),
        ),
        # A campaign deleted: its messages go first, while the campaign they are counted under is
        # still there (the foreign key's cascade would delete them after it).
        Trigger(
            "tally_campaign_delete",
            "campaign",
            "DELETE",
            "",
            ("DELETE FROM delivery WHERE campaign_id = OLD.id",),
            timing="BEFORE",
        ),
        Trigger(
            "tally_fact_insert",
            "profile_fact",
            "INSERT",
            "",
            (
                _change(
                    "fact",
                    "0",
                    fact_key("NEW"),
                    1,
                    f"FROM subscriber s WHERE s.id = NEW.subscriber_id AND {active_manufacturer('s')}",
                ),
            ),
        ),
        Trigger(
            "tally_fact_delete",
            "profile_fact",
            "DELETE",
            "",
            (
                _change(
                    "fact",
                    "0",
                    fact_key("OLD"),
                    -1,
                    f"FROM subscriber s WHERE s.id = OLD.subscriber_id AND {active_manufacturer('s')}",
                ),
            ),
        ),
        # A profile's facts come from screening it in Python: a changed profile waits in a queue.
        Trigger(
            "tally_profile_insert",
            "business_profile",
            "INSERT",
            "",
            ("INSERT INTO profile_to_screen (profile_id) VALUES (NEW.id)",),
        ),
        Trigger(
            "tally_profile_update",
            "business_profile",
            "UPDATE",
            "",
            ("INSERT INTO profile_to_screen (profile_id) VALUES (NEW.id)",),
        ),
        Trigger(
            "tally_profile_delete",
            "business_profile",
            "DELETE",
            "",
            (
                "DELETE FROM profile_fact WHERE profile_id = OLD.id",
                "DELETE FROM profile_to_screen WHERE profile_id = OLD.id",
            ),
        ),
    ]


def _delivery_row_triggers(d: Dialect) -> list[Trigger]:
    return [
        Trigger(
            "tally_delivery_insert",
            "delivery",
            "INSERT",
            "NEW.campaign_id IS NOT NULL",
            (
                _change("delivery", "NEW.campaign_id", delivery_key("NEW", _role("NEW.subscriber_id")), 1),
                _unsubscribed_after_message(d, "NEW", 1),
            ),
        ),
        Trigger(
            "tally_delivery_update",
            "delivery",
            "UPDATE",
            f"OLD.campaign_id IS NOT NULL AND ({counted_state('OLD')} <> {counted_state('NEW')} "
            "OR OLD.campaign_id IS DISTINCT FROM NEW.campaign_id "
            "OR OLD.language <> NEW.language "
            "OR OLD.subscriber_id IS DISTINCT FROM NEW.subscriber_id "
            "OR (OLD.clicked_at IS NULL) <> (NEW.clicked_at IS NULL) "
            "OR (OLD.complained_at IS NULL) <> (NEW.complained_at IS NULL))",
            (
                _change("delivery", "OLD.campaign_id", delivery_key("OLD", _role("OLD.subscriber_id")), -1),
                _change("delivery", "NEW.campaign_id", delivery_key("NEW", _role("NEW.subscriber_id")), 1),
            ),
        ),
        Trigger(
            "tally_delivery_delete",
            "delivery",
            "DELETE",
            "OLD.campaign_id IS NOT NULL",
            (
                _change("delivery", "OLD.campaign_id", delivery_key("OLD", _role("OLD.subscriber_id")), -1),
                _unsubscribed_after_message(d, "OLD", -1),
            ),
        ),
        # Rare (erasure unlinks the person): kept out of the sender's state changes above.
        Trigger(
            "tally_delivery_relink",
            "delivery",
            "UPDATE",
            "OLD.subscriber_id IS DISTINCT FROM NEW.subscriber_id "
            "OR OLD.campaign_id IS DISTINCT FROM NEW.campaign_id",
            (_unsubscribed_after_message(d, "OLD", -1), _unsubscribed_after_message(d, "NEW", 1)),
        ),
    ]


def _delivery_statement_triggers(d: Dialect) -> list[Trigger]:
    """PostgreSQL: once per statement rather than per row, so each counter a statement moves gets
    one change (a sender's claim of 200 messages: none) instead of a function call and two inserts
    for each message. Measured in docs/benchmarks.md (Metrics: what the counters cost)."""
    grouped = "SELECT m.campaign_id, {key}, {sign}COUNT(*) FROM {rows} m WHERE m.campaign_id IS NOT NULL"
    grouped += " GROUP BY 1, 2"
    counted = "SELECT 'delivery', scope, key, n FROM (" + grouped + ") AS counted (scope, key, n)"
    paired = (
        "SELECT 'unsubscribed_7d', c.id, '', {sign}COUNT(*) FROM {rows} m "
        "JOIN campaign c ON c.id = m.campaign_id JOIN audit_event a ON a.subscriber_id = m.subscriber_id "
        f"WHERE {_UNSUBSCRIBE.format(a='a')} AND {_within_week(d, 'a.at', 'c.started_at')} GROUP BY 2"
    )
    into = "INSERT INTO tally_change (figure, scope, key, n) "
    key = delivery_key("m", _role("m.subscriber_id"))
    # Each side grouped and the two added: what a statement moved from one counter to another
    # (a sender's claim: nothing, so no row is written). No join of the two transition tables:
    # this costs less per statement, and the sender's outcome statements are small.
    update = (
        f"{into}SELECT 'delivery', scope, key, SUM(n) FROM ("
        + grouped.format(key=key, sign="-", rows="old_rows")
        + " UNION ALL "
        + grouped.format(key=key, sign="", rows="new_rows")
        + ") AS moved (scope, key, n) GROUP BY scope, key HAVING SUM(n) <> 0"
    )
    # Rows given another person or campaign (erasure): usually none, so the pair lookups are skipped.
    relinked = (
        "(SELECT {side}.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE "
        "o.subscriber_id IS DISTINCT FROM n.subscriber_id OR o.campaign_id IS DISTINCT FROM n.campaign_id)"
    )
    relink = (
        f"IF EXISTS {relinked.format(side='o')} THEN "
        + into
        + paired.format(sign="-", rows=relinked.format(side="o"))
        + "; "
        + into
        + paired.format(sign="", rows=relinked.format(side="n"))
        + "; END IF"
    )
    return [
        Trigger(
            "tally_delivery_insert",
            "delivery",
            "INSERT",
            "",
            (
                into + counted.format(key=key, sign="", rows="new_rows"),
                into + paired.format(sign="", rows="new_rows"),
            ),
            transition="REFERENCING NEW TABLE AS new_rows",
        ),
        Trigger(
            "tally_delivery_update",
            "delivery",
            "UPDATE",
            "",
            (update, relink),
            transition="REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        ),
        Trigger(
            "tally_delivery_delete",
            "delivery",
            "DELETE",
            "",
            (
                into + counted.format(key=key, sign="-", rows="old_rows"),
                into + paired.format(sign="-", rows="old_rows"),
            ),
            transition="REFERENCING OLD TABLE AS old_rows",
        ),
    ]


def create_statements(d: Dialect) -> list[str]:
    """Statements that (re)create every trigger; safe to run again."""
    found: list[str] = []
    for t in triggers(d):
        body = "; ".join(t.body)
        if d.name == "postgres":
            when = f" WHEN ({t.when})" if t.when else ""
            each = f"{t.transition} FOR EACH STATEMENT" if t.transition else f"FOR EACH ROW{when}"
            back = (
                "OLD" if t.timing == "BEFORE" else "NULL"
            )  # a BEFORE trigger returning NULL cancels the row
            found += [
                f"CREATE OR REPLACE FUNCTION {t.name}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN {body}; RETURN {back}; END $$",
                f"DROP TRIGGER IF EXISTS {t.name} ON {t.table}",
                f"CREATE TRIGGER {t.name} {t.timing} {t.event} ON {t.table} {each} "
                f"EXECUTE FUNCTION {t.name}()",
            ]
        else:
            when = f" WHEN {t.when}" if t.when else ""
            found += [
                f"DROP TRIGGER IF EXISTS {t.name}",
                f"CREATE TRIGGER {t.name} {t.timing} {t.event} ON {t.table} FOR EACH ROW{when} "
                f"BEGIN {body}; END",
            ]
    return found


def drop_statements(d: Dialect) -> list[str]:
    if d.name == "postgres":
        return [
            f"DROP TRIGGER IF EXISTS {t.name} ON {t.table}; DROP FUNCTION IF EXISTS {t.name}()"
            for t in triggers(d)
        ]
    return [f"DROP TRIGGER IF EXISTS {t.name}" for t in triggers(d)]
