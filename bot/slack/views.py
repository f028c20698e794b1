"""The eligibility modal: the same questions as `/madeinla eligible KEY=VALUE`, as a form.

Pure functions: build the view, read a submission back into the screener's `key -> text` pairs,
and check them with the screener's own parser, so the form and the command can't disagree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from subscribers.eligibility import ScreenerInputError, parse_screening_inputs

ELIGIBILITY_CALLBACK = "madeinla_eligibility"


@dataclass(frozen=True, slots=True)
class Question:
    key: str  # the screener key; also the block_id and action_id
    label: str
    yes_no: bool = False
    placeholder: str = ""
    hint: str = ""


# In the order a business owner would answer them. The federal keys (federally_funded,
# federal_small) are about a solicitation, not the business: they stay command-only.
QUESTIONS: tuple[Question, ...] = (
    Question("zip", "ZIP code of your main place of business", placeholder="90021"),
    Question(
        "production_zip",
        "ZIP code where your goods are made",
        placeholder="90058",
        hint="Leave empty if it is the same as above.",
    ),
    Question(
        "since", "In Los Angeles County since", placeholder="2019-03", hint="A year, year-month or date."
    ),
    Question("years", "Or: years in Los Angeles County", placeholder="2.5", hint="Fill in this or the date."),
    Question("employees", "Employees, including affiliates", placeholder="12"),
    Question(
        "revenue",
        "Average yearly gross receipts, last 3 years",
        placeholder="$1.2M",
        hint="Including affiliates. 1200000, $1.2M and 950k all work.",
    ),
    Question("manufacturer", "Do you make new products from materials?", yes_no=True),
    Question("naics", "NAICS code", placeholder="315250", hint="2 to 6 digits, if you know it."),
    Question("ca_sb", "Certified as a small business by the State of California (DGS)?", yes_no=True),
    Question("other_cert", "Certified as a small business by another agency, like LA Metro?", yes_no=True),
    Question(
        "garment", "Do you do garment work (sewing, cutting, dyeing, finishing, labeling)?", yes_no=True
    ),
    Question("garment_registration", "Registered with the Labor Commissioner for garment work?", yes_no=True),
    Question("piece_rate", "Do you pay garment workers by the piece?", yes_no=True),
    Question("wage_violations", "Any unpaid wage judgments or citations?", yes_no=True),
    Question("debarred", "Debarred by the County or another government?", yes_no=True),
)

_ANSWERS = (("yes", "Yes"), ("no", "No"), ("unknown", "Not sure"))


def eligibility_modal(*, channel_id: str, response_url: str) -> dict[str, Any]:
    """The modal `/madeinla eligible` opens; `private_metadata` says where to post the answer."""
    metadata = json.dumps({"channel": channel_id, "response_url": response_url})
    return {
        "type": "modal",
        "callback_id": ELIGIBILITY_CALLBACK,
        "private_metadata": metadata if len(metadata) <= 3000 else json.dumps({"channel": channel_id}),
        "title": {"type": "plain_text", "text": "Made in LA screener"},
        "submit": {"type": "plain_text", "text": "Check"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "Does a business look eligible for the County's local small business "
                    "preference (LSBE) and the Made in LA pilot? Answer what you know; "
                    "leave the rest empty. Only you will see the answer.",
                },
            },
            *(_block(question) for question in QUESTIONS),
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "A screening, not a County determination. For a federally funded "
                        "solicitation use `/madeinla eligible federally_funded=yes federal_small=yes ...`",
                    }
                ],
            },
        ],
    }


def _block(question: Question) -> dict[str, Any]:
    if question.yes_no:
        element: dict[str, Any] = {
            "type": "static_select",
            "action_id": question.key,
            "placeholder": {"type": "plain_text", "text": "Choose"},
            "options": [
                {"text": {"type": "plain_text", "text": text}, "value": value} for value, text in _ANSWERS
            ],
        }
    else:
        element = {"type": "plain_text_input", "action_id": question.key, "max_length": 100}
        if question.placeholder:
            element["placeholder"] = {"type": "plain_text", "text": question.placeholder}
    block: dict[str, Any] = {
        "type": "input",
        "block_id": question.key,
        "optional": True,
        "label": {"type": "plain_text", "text": question.label},
        "element": element,
    }
    if question.hint:
        block["hint"] = {"type": "plain_text", "text": question.hint}
    return block


def submitted_answers(view: Mapping[str, Any]) -> dict[str, str]:
    """The answers given, as screener `key -> text` pairs (empty answers left out)."""
    values = (view.get("state") or {}).get("values") or {}
    answers: dict[str, str] = {}
    for question in QUESTIONS:
        field = (values.get(question.key) or {}).get(question.key) or {}
        raw = (field.get("selected_option") or {}).get("value") if question.yes_no else field.get("value")
        if isinstance(raw, str) and raw.strip():
            answers[question.key] = raw.strip()
    return answers


def answer_errors(answers: Mapping[str, str]) -> dict[str, str]:
    """`block_id -> message` for `ack(response_action="errors")`; empty when the answers read."""
    if not answers:
        return {QUESTIONS[0].key: "Answer at least one question, like the ZIP code."}
    errors: dict[str, str] = {}
    for key, text in answers.items():
        try:
            parse_screening_inputs({key: text})
        except ScreenerInputError as error:
            errors[key] = _sentence(error.problems)
    if errors:
        return errors
    try:
        parse_screening_inputs(answers)
    except ScreenerInputError as error:  # a rule across answers, like "years or since, not both"
        named = [key for key in answers if any(key in problem for problem in error.problems)]
        return {named[-1] if named else QUESTIONS[0].key: _sentence(error.problems)}
    return {}


def _sentence(problems: tuple[str, ...]) -> str:
    text = "; ".join(problems)
    return (text[:1].upper() + text[1:])[:300]


def private_metadata(view: Mapping[str, Any]) -> dict[str, str]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return (
        {key: value for key, value in data.items() if isinstance(value, str)}
        if isinstance(data, dict)
        else {}
    )
