"""Every payload the bot can send follows the response contract (assistant/contract.py)."""

from __future__ import annotations

import pytest

from assistant import contract, replies
from assistant.faq import load_faq
from assistant.glossary import load_glossary
from assistant.handoff import replies as handoff_replies

GLOSSARY = load_glossary()
FAQ = load_faq()


def all_replies():
    terms = list(GLOSSARY)
    yield from (replies.definition(t) for t in terms)
    yield replies.comparison(terms[0], terms[1])
    yield replies.unknown_term("<b>ロープレ</b>", ["ロールプレイング"])
    yield from (replies.faq(e) for e in FAQ.values())
    yield from (
        replies.fallback(),
        replies.out_of_scope(),
        replies.empty_input(),
        replies.reset(),
        replies.no_reply(),
    )
    yield from (replies.small_talk(k) for k in replies.SMALL_TALK_TEXT)
    yield handoff_replies.handoff_started(
        "ESC-20261125-0001", True, "平日 9:00-18:00", "明日 9:00", 2, 1
    )
    yield handoff_replies.handoff_started(
        "ESC-20261125-0001", False, "平日 9:00-18:00", "明日 9:00"
    )
    yield handoff_replies.agent_joined("ESC-20261125-0001", "佐藤")
    yield handoff_replies.agent_left("ESC-20261125-0001", "佐藤", "handback")
    yield handoff_replies.command_refused("ESC-20261125-0001")
    yield handoff_replies.rate_limited(30)
    yield handoff_replies.ask_contact()
    yield handoff_replies.contact_invalid()
    yield handoff_replies.contact_saved("a@example.com", "ESC-20261125-0001")
    yield handoff_replies.contact_declined("ESC-20261125-0001")
    yield handoff_replies.followup_received("ESC-20261125-0001")
    yield handoff_replies.ticket_closed("ESC-20261125-0001")
    yield handoff_replies.back_to_bot("ESC-20261125-0001")
    yield handoff_replies.offer_human("fallback")
    yield handoff_replies.offer_declined()
    yield handoff_replies.acknowledged()


@pytest.mark.parametrize("reply", list(all_replies()), ids=lambda r: r.payload["kind"])
def test_every_payload_follows_the_contract(reply):
    assert contract.problems(reply.payload) == []
    assert reply.payload["text"] == reply.text


def test_the_contract_refuses_unknown_kinds_and_fields():
    with pytest.raises(ValueError):
        contract.payload("definitio", "x")
    with pytest.raises(ValueError):
        contract.payload("faq", "x", id="tmj")  # fields missing
    assert contract.problems({"kind": "greet", "text": "x", "extra": 1}) == [
        "greet: unexpected extra"
    ]


def test_the_documented_table_lists_exactly_the_contract_kinds():
    """docs/response-contract.md is the documentation of assistant/contract.py."""
    import re
    from pathlib import Path

    from assistant.contract import KINDS

    doc = Path(__file__).resolve().parents[2] / "docs" / "response-contract.md"
    section = doc.read_text(encoding="utf-8")
    documented = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            documented |= set(re.findall(r"`([a-z_]+)`", first_cell))
    assert documented == set(KINDS), {
        "undocumented": set(KINDS) - documented,
        "not in contract": documented - set(KINDS),
    }
