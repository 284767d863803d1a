"""assistant/conversation.py: the conversation's state spelled once (table tests)."""

from pathlib import Path

import pytest
import yaml

from assistant import conversation as c

REPO = Path(__file__).parents[2]


@pytest.mark.parametrize(
    "offered, slot, expected",
    [
        (True, "fallback", "fallback"),
        (True, "feedback", "feedback"),
        (True, "explicit", "explicit"),
        (True, None, "explicit"),
        (True, "", "explicit"),
        (True, "made-up", "explicit"),  # never a reason the ticket store refuses
        (False, "fallback", "explicit"),  # an offer no longer pending does not count
        (False, None, "explicit"),
    ],
)
def test_handoff_reason(offered, slot, expected):
    assert c.handoff_reason(offered, slot) == expected


@pytest.mark.parametrize(
    "text, stored",
    [
        ("こんにちは", "こんにちは"),
        ("", "(空のメッセージ)"),
        (None, "(空のメッセージ)"),
        ("  ", "  "),  # callers strip where they mean to (the store cleans the rest)
    ],
)
def test_ticket_text(text, stored):
    assert c.ticket_text(text) == stored


@pytest.mark.parametrize(
    "url, notify", [("https://hooks.example/x", True), ("", False), (None, False)]
)
def test_should_notify(url, notify):
    assert c.should_notify(url) is notify


def test_slot_names_are_the_domains():
    domain = yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))
    names = {
        v for k, v in vars(c).items() if k.isupper() and isinstance(v, str) and k != "EMPTY_MESSAGE"
    }
    names -= {c.HANDOFF_FORM, c.REQUESTED_SLOT}
    assert names <= set(domain["slots"]), names - set(domain["slots"])
    assert c.HANDOFF_FORM in domain["forms"]


def test_the_reset_set_ends_the_form_and_every_handoff_slot():
    reset = dict(c.RESET_AFTER_HANDOFF)
    assert len(reset) == len(c.RESET_AFTER_HANDOFF)  # each slot once
    assert reset == {
        "handoff_ticket": None,
        "needs_contact": None,
        "contact": None,
        "followup": None,
        "requested_slot": None,
        "handoff_offered": False,
        "failed_turns": 0.0,
    }


def test_not_a_question_intents_exist():
    intents = set(yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))["intents"])
    assert intents >= c.NOT_A_QUESTION


def test_ticket_reasons_are_the_stores():
    from assistant.handoff.schema import REASONS

    assert REASONS == c.HANDOFF_REASONS
