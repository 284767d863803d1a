"""The widget's message ids (web/widget.js, channels/exactly_once.py) in headless Chromium:
every message carries an id kept in localStorage until the server acknowledges the stored
turn; a page that died before the acknowledgement re-sends the same id when it
reconnects, the server processes it once, and a replay is not shown twice."""

from __future__ import annotations

import json
import re
import uuid

from playwright.sync_api import Page, expect

from tests.support.tracker import events
from tests.support.widget_client import Customer

from .test_widget import ask, open_chat

UUID = re.compile(r"^[0-9a-f-]{32,36}$")


def pending(page: Page) -> list:
    return json.loads(page.evaluate("localStorage.getItem('ccAssistant.pending') || '[]'"))


def stored_user_events(bot, session: str) -> list[dict]:
    return [e for e in events(bot.workdir, session) if e.get("event") == "user"]


def test_each_message_has_an_id_until_acknowledged(bot, page: Page):
    open_chat(page)
    ask(page, "ACWとは?")
    page.wait_for_function(
        "JSON.parse(localStorage.getItem('ccAssistant.pending') || '[]').length === 0"
    )
    session = json.loads(page.evaluate("localStorage.getItem('ccAssistant.session')"))
    stored = stored_user_events(bot, session)
    assert [e["text"] for e in stored] == ["ACWとは?"]
    assert UUID.match(stored[0]["message_id"])


def test_an_unacknowledged_message_is_resent_with_its_id_and_processed_once(bot, page: Page):
    # a session the page held before it died, and the message it had sent
    first = Customer(bot.rasa_url)
    session, token = first.session_id, first.token
    first.close()
    mid = str(uuid.uuid4())
    seed = {"session": session, "token": token, "pending": [{"id": mid, "message": "ACWとは?"}]}
    page.evaluate(
        """(s) => {
        localStorage.setItem('ccAssistant.session', JSON.stringify(s.session));
        localStorage.setItem('ccAssistant.token', JSON.stringify(s.token));
        localStorage.setItem('ccAssistant.pending', JSON.stringify(s.pending));
    }""",
        seed,
    )
    page.reload()
    open_chat(page)
    expect(page.locator(".cca-card--definition")).to_have_count(1)
    page.wait_for_function(
        "JSON.parse(localStorage.getItem('ccAssistant.pending') || '[]').length === 0"
    )
    assert [e.get("message_id") for e in stored_user_events(bot, session)] == [mid]

    # the acknowledgement was lost: the next page load sends the same id again
    page.evaluate(
        "(p) => localStorage.setItem('ccAssistant.pending', JSON.stringify(p))", seed["pending"]
    )
    page.reload()  # the panel was open: the widget reopens it and reconnects
    expect(page.locator(".cca-status")).to_have_attribute("data-state", "online")
    page.wait_for_function(
        "JSON.parse(localStorage.getItem('ccAssistant.pending') || '[]').length === 0"
    )
    page.wait_for_timeout(1000)
    expect(page.locator(".cca-card--definition")).to_have_count(1)  # from the history only
    assert [e.get("message_id") for e in stored_user_events(bot, session)] == [mid]
