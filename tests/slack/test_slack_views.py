"""The eligibility modal: same keys as the command, within Slack's limits, read back correctly."""

from __future__ import annotations

import json

from bot.slack.views import (
    QUESTIONS,
    answer_errors,
    eligibility_modal,
    private_metadata,
    submitted_answers,
)
from subscribers.eligibility import SCREENING_KEYS


def test_every_question_is_a_screener_key():
    keys = [question.key for question in QUESTIONS]
    assert len(keys) == len(set(keys))
    assert set(keys) <= set(SCREENING_KEYS)
    # Everything about the business is asked; only the solicitation's federal keys are left out.
    assert set(SCREENING_KEYS) - set(keys) == {"federally_funded", "federal_small"}


def test_modal_stays_within_slack_limits():
    view = eligibility_modal(channel_id="C1", response_url="https://hooks.slack.com/commands/T1/1/abc")
    assert len(view["blocks"]) <= 100
    assert len(view["title"]["text"]) <= 24
    assert len(view["private_metadata"]) <= 3000
    for block in view["blocks"]:
        if block["type"] == "input":
            assert len(block["label"]["text"]) <= 2000
            assert block["block_id"] == block["element"]["action_id"]
            assert block["optional"] is True
            placeholder = block["element"].get("placeholder", {}).get("text", "")
            assert len(placeholder) <= 150
    assert len(json.dumps(view)) < 250_000


def test_oversized_response_url_is_dropped_not_truncated():
    view = eligibility_modal(channel_id="C1", response_url="https://x/" + "a" * 4000)
    assert private_metadata(view) == {"channel": "C1"}


def test_submitted_answers_reads_text_and_choices():
    view = {
        "state": {
            "values": {
                "zip": {"zip": {"type": "plain_text_input", "value": " 90021 "}},
                "production_zip": {"production_zip": {"type": "plain_text_input", "value": None}},
                "debarred": {"debarred": {"type": "static_select", "selected_option": {"value": "no"}}},
                "garment": {"garment": {"type": "static_select", "selected_option": None}},
                "unexpected": {"unexpected": {"type": "plain_text_input", "value": "x"}},
            }
        }
    }
    assert submitted_answers(view) == {"zip": "90021", "debarred": "no"}
    assert submitted_answers({}) == {}


def test_answer_errors():
    assert answer_errors({"zip": "90021", "debarred": "unknown"}) == {}
    assert set(answer_errors({"zip": "abc", "revenue": "lots", "naics": "31"})) == {"zip", "revenue"}


def test_private_metadata_tolerates_junk():
    assert private_metadata({"private_metadata": "not json"}) == {}
    assert private_metadata({"private_metadata": "[1, 2]"}) == {}
    assert private_metadata({"private_metadata": '{"channel": "C1", "n": 3}'}) == {"channel": "C1"}
