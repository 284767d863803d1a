"""CSAT in the widget (docs/analytics.md): off by default; with csat on, a 1-5 question
after a goodbye, answered once, logged (asked + the score) in the outcome log."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from tests.e2e.conftest import new_page
from tests.e2e.test_widget import ask, open_chat

JST = timezone(timedelta(hours=9))


def csat_rows(bot, session_id):
    from assistant.handoff.db import make_engine
    from assistant.outcomes.log import OutcomeStore

    engine = make_engine(bot.env["HANDOFF_DB_URL"])
    try:
        day = datetime.now(JST).date()
        rows = OutcomeStore(engine).rows(
            (day - timedelta(days=1)).isoformat(),
            (day + timedelta(days=1)).isoformat(),
            kinds=["csat"],
        )
    finally:
        engine.dispose()
    return [(r.decision, r.value, r.channel) for r in rows if r.conversation == session_id]


def test_csat_is_asked_after_a_goodbye_and_logged(browser, web, bot):
    context, page, problems = new_page(browser)
    try:
        # the demo page's config.js sets CCAssistantConfig: the site turns csat on in it
        page.add_init_script("""
            let given = {};
            Object.defineProperty(window, "CCAssistantConfig", {
              configurable: true,
              get: () => given,
              set: (v) => { given = Object.assign({}, v, { csat: true }); },
            });""")
        page.goto(web.url + "/")
        open_chat(page)
        ask(page, "さようなら")
        card = page.locator(".cca-csat")
        expect(card).to_be_visible()
        expect(card).to_contain_text("今回のチャットはいかがでしたか?")
        page.locator(".cca-csat__btn[data-csat='4']").click()
        expect(card).to_contain_text("ご回答ありがとうございました(4 / 5)")
        sid = page.evaluate("() => JSON.parse(localStorage.getItem('ccAssistant.session'))")
        assert isinstance(sid, str) and sid.startswith("ws-"), sid
        deadline = time.monotonic() + 10
        while sorted(csat_rows(bot, sid)) != [
            ("answered", 4.0, "socketio"),
            ("asked", None, "socketio"),
        ]:
            assert time.monotonic() < deadline, csat_rows(bot, sid)
            time.sleep(0.2)
        ask(page, "さようなら")  # asked once per session
        expect(page.locator(".cca-csat")).to_have_count(1)
    finally:
        context.close()
    assert not problems.errors, problems.errors


def test_csat_is_off_by_default(page):
    open_chat(page)
    ask(page, "さようなら")
    expect(page.locator(".cca-row--bot").last).to_have_attribute("data-kind", "goodbye")
    expect(page.locator(".cca-csat")).to_have_count(0)
