"""Staff templates render in a LimitedSandbox: heavy templates are refused at create, quickly and small."""

from __future__ import annotations

import re
import shutil
import tracemalloc
from pathlib import Path

import pytest

from bot.runtime import build_runtime, message_options
from bot.settings import Settings
from outreach.campaigns import CampaignError, check_template_renders, create_campaign
from outreach.messages import MessageBuilder
from outreach.models import Campaign
from outreach.rendering import EMAIL_TEMPLATES_DIR, EmailTemplates, TemplateError
from outreach.sandbox import MAX_LOOP_STEPS, MAX_SECONDS, LimitedSandbox, TemplateLimitError

# Either limit may come first (tracemalloc slows each step), and either is the right refusal.
LOOPS = f"(its loops ran more than {MAX_LOOP_STEPS:,} times|it took more than {MAX_SECONDS:g} seconds)"
HEAVY = {
    "nested range(100000) loops": (
        "{% for a in range(100000) %}{% for b in range(100000) %}{{ a }}{% endfor %}{% endfor %}",
        "range() of 100,000 numbers",
    ),
    "nested loops within range's limit": (
        "{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}",
        LOOPS,
    ),
    "nested loops over a list": (
        "{% set xs = range(5000)|list %}{% for a in xs %}{% for b in xs %}{% endfor %}{% endfor %}",
        LOOPS,
    ),
    "string repetition": ("{{ 'x' * 300000000 }}", "repeating text 300,000,000 times"),
    "repetition the other way round": ("{{ 300000000 * 'x' }}", "repeating text"),
    "list repetition": ("{{ [0] * 300000000 }}", "repeating text"),
    "a huge power": ("{{ 2 ** 1000000000 }}", "a power of 1,000,000,000"),
    "a %-format width": ("{{ '%300000000s' % 1 }}", "a %-format with that width"),
    "a str.format width": ("{{ '{:>300000000}'.format(1) }}", "a format with that width"),
    "the format filter": ("{{ '%300000000s'|format(1) }}", "a format with that width"),
    "the center filter": ("{{ 'x'|center(300000000) }}", "the center filter"),
    "a padding method": ("{{ 'x'.ljust(300000000) }}", "that text would make"),
    "the indent filter": ("{{ 'x\ny'|indent(300000000) }}", "indenting text"),
    "replace growing text": (
        "{% set s = 'xxxxxxxxxx' %}{{ s|replace('x', s)|replace('x', s)|replace('x', s)|replace('x', s)"
        "|replace('x', s)|replace('x', s)|replace('x', s) }}",
        "the replace filter",
    ),
    "doubling with ~": (
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "joining text with ~",
    ),
    "doubling with +": (
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
        "joining text with +",
    ),
    "a join with a long separator": ("{{ range(10000)|join('x' * 100000) }}", "the join filter"),
    "batch filling": ("{{ [1]|batch(300000000, 0)|list }}", "the batch filter"),
}


@pytest.mark.parametrize("name", HEAVY)
def test_heavy_template_is_refused_quickly_without_eating_memory(name: str) -> None:
    source, problem = HEAVY[name]
    sandbox = LimitedSandbox()
    tracemalloc.start()
    try:
        with pytest.raises(TemplateLimitError, match=problem if problem is LOOPS else re.escape(problem)):
            sandbox.render_limited(sandbox.from_string(source), {})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 30_000_000, f"{peak:,} bytes"


def test_lipsum_is_gone_and_ordinary_templates_still_work() -> None:
    sandbox = LimitedSandbox()
    source = (
        "{% for t in topics %}{{ loop.index }}:{{ t|upper }} {% endfor %}{{ 'ab' * 3 }} {{ '%3s' % 1 }}"
        "{{ 'x'|center(5) }}{{ topics|join(', ') }}{{ 'a' ~ 'b' }}{{ 2 ** 10 }}{{ '{:>4}'.format(7) }}"
    )
    text = sandbox.render_limited(sandbox.from_string(source), {"topics": ["a", "b"]})
    assert text == "1:A 2:B ababab   1  x  a, bab1024   7"
    with pytest.raises(Exception, match="lipsum"):
        sandbox.render_limited(sandbox.from_string("{{ lipsum(100000000) }}"), {})


def test_the_sandbox_is_immutable() -> None:
    sandbox = LimitedSandbox()
    with pytest.raises(Exception, match=r"unsafe|not safely"):
        sandbox.render_limited(sandbox.from_string("{{ xs.append(1) }}"), {"xs": []})


def _folder_with(tmp_path: Path, name: str, body: str) -> Path:
    folder = tmp_path / "email"
    shutil.copytree(EMAIL_TEMPLATES_DIR, folder)
    heavy = folder / name / "en"
    heavy.mkdir(parents=True)
    (heavy / "subject.txt").write_text("Hello")
    (heavy / "body.txt").write_text(body)
    (heavy / "body.html").write_text("<p>Hello</p>")
    return folder


def test_email_templates_name_the_part_and_the_limit(tmp_path: Path) -> None:
    templates = EmailTemplates(_folder_with(tmp_path, "heavy", "{{ 'x' * 300000000 }}"))
    with pytest.raises(TemplateError) as caught:
        templates.render("heavy", "en", {})
    assert str(caught.value).startswith(
        "template heavy/en/body.txt asks too much: repeating text 300,000,000"
    )


@pytest.mark.parametrize("name", ["nested range(100000) loops", "string repetition"])
async def test_create_refuses_a_heavy_template_with_a_clear_error(
    db: str, settings: Settings, tmp_path: Path, name: str
) -> None:
    runtime = build_runtime(settings)
    builder = MessageBuilder(
        message_options(settings),
        EmailTemplates(_folder_with(tmp_path, "heavy", HEAVY[name][0])),
        runtime.signer,
    )
    with pytest.raises(
        CampaignError, match=re.escape("template heavy/en/body.txt asks too much: " + HEAVY[name][1])
    ):
        await create_campaign(
            kind="pilot_update", template="heavy", builder=builder, immediately=True, created_by="t"
        )
    assert await Campaign.all().count() == 0


async def test_create_refuses_a_value_that_is_not_utf8(db: str, settings: Settings) -> None:
    builder = build_runtime(settings).builder
    values = {
        "meeting_when": "caf\udce9",
        "meeting_where": "Online",
    }  # bytes b"caf\xe9" from a Latin-1 terminal
    with pytest.raises(CampaignError, match="campaign value meeting_when is not valid UTF-8 text"):
        await create_campaign(
            kind="working_group_notice",
            template="working_group_notice",
            builder=builder,
            immediately=True,
            values=values,
            created_by="t",
        )
    assert await Campaign.all().count() == 0


def test_check_template_renders_uses_the_limits(settings: Settings, tmp_path: Path) -> None:
    runtime = build_runtime(settings)
    folder = _folder_with(tmp_path, "heavy", "{{ 'x' * 300000000 }}")
    builder = MessageBuilder(message_options(settings), EmailTemplates(folder), runtime.signer)
    with pytest.raises(CampaignError, match="asks too much"):
        check_template_renders(builder, "heavy", "pilot_update", {})
