"""The chat widget in headless chromium against the real Rasa + action servers.

Each test gets a fresh browser profile (empty localStorage, so a new Rasa
session). Every page fails its test if a JavaScript dialog opens, a page error
is thrown or the CSP blocks something (see conftest.PageProblems).
"""

from __future__ import annotations

import re

import requests
from playwright.sync_api import Page, expect

TICKET = re.compile(r"ESC-\d{8}-\d{4}")
HHMM = re.compile(r"^\d{2}:\d{2}$")
XSS_INPUTS = ["<img src=x onerror=alert(1)>", "[x](javascript:alert(1))"]


# ------------------------------------------------------------------ helpers


def open_chat(page: Page) -> None:
    page.get_by_role("button", name=re.compile("チャットで質問する")).click()
    expect(page.get_by_role("dialog", name="サポートチャット")).to_be_visible()
    expect(page.locator(".cca-status")).to_have_attribute("data-state", "online")


def answers(page: Page):
    """Bot rows that came with a payload (every bot answer has one)."""
    return page.locator(".cca-row--bot:not([data-kind='text'])")


def send_and_wait(page: Page, action) -> None:
    """Run `action` (which sends something) and wait for the bot's answer."""
    before = answers(page).count()
    action()
    answers(page).nth(before).wait_for()


def ask(page: Page, text: str) -> None:
    box = page.locator("#cca-input")
    box.fill(text)
    send_and_wait(page, lambda: box.press("Enter"))
    expect(page.locator(".cca-row--user").last.locator(".cca-bubble")).to_have_text(text)


def user_texts(page: Page) -> list[str]:
    return page.locator(".cca-row--user .cca-bubble").all_text_contents()


# -------------------------------------------------------------------- tests


def test_welcome_offers_examples(page: Page):
    open_chat(page)
    welcome = page.locator(".cca-row[data-kind='welcome']")
    expect(welcome.get_by_role("button")).to_have_text(
        ["ACWとは?", "インバウンドとアウトバウンドの違いは?", "オペレーターと話したい"]
    )
    expect(page.locator("#cca-input")).to_have_attribute("placeholder", "質問を入力(例: ACWとは?)")
    expect(page.locator("#cca-input")).to_be_focused()


def test_definition_card(page: Page, shot):
    open_chat(page)
    ask(page, "ACWとは?")
    card = page.locator(".cca-card--definition").last
    expect(card.locator(".cca-card__term")).to_have_text("アフターコールワーク")
    expect(card.locator(".cca-card__def").first).not_to_be_empty()
    expect(card.locator(".cca-card__aliases")).to_contain_text("ACW")
    expect(card.locator(".cca-card__related button").first).to_be_visible()
    # The plain text bubble the payload repeats was replaced, not shown twice.
    expect(page.locator(".cca-row--bot[data-kind='text']")).to_have_count(0)
    row = page.locator(".cca-row[data-kind='definition']").last
    expect(row.get_by_role("button", name="役に立った")).to_be_visible()
    expect(row.get_by_role("button", name="役に立たなかった")).to_be_visible()
    for t in page.locator(".cca-time").all_text_contents():
        assert HHMM.match(t), t
    shot(page, "definition")


def test_related_term_opens_its_card(page: Page):
    open_chat(page)
    ask(page, "ACWとは?")
    related = page.locator(".cca-card--definition .cca-card__related button").first
    term = related.text_content()
    send_and_wait(page, related.click)
    expect(page.locator(".cca-row--user .cca-bubble").last).to_have_text(f"{term}とは?")
    expect(page.locator(".cca-card--definition")).to_have_count(2)
    expect(page.locator(".cca-card--definition").last.locator(".cca-card__term")).to_have_text(term)


def test_comparison_side_by_side(page: Page, shot):
    open_chat(page)
    button = page.get_by_role("button", name="インバウンドとアウトバウンドの違いは?")
    send_and_wait(page, button.click)
    expect(page.locator(".cca-row--user .cca-bubble").last).to_have_text(
        "インバウンドとアウトバウンドの違いは?"
    )
    items = page.locator(".cca-card--comparison .cca-compare__item")
    expect(items.locator(".cca-compare__term")).to_have_text(["インバウンド", "アウトバウンド"])
    a, b = items.nth(0).bounding_box(), items.nth(1).bounding_box()
    assert a["y"] == b["y"] and b["x"] > a["x"], (a, b)  # columns on a desktop
    shot(page, "comparison")


def test_faq_answer_links_its_source(page: Page, shot):
    open_chat(page)
    ask(page, "TMJの公式HPはどこ?")
    card = page.locator(".cca-card--faq").last
    link = card.locator("a.cca-link")
    expect(link).to_have_attribute("href", "https://www.tmj.jp/ec_support/")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    shot(page, "faq")


def test_unknown_term_offers_a_person(page: Page, shot):
    open_chat(page)
    ask(page, "アップセルとは?")
    row = page.locator(".cca-row[data-kind='unknown_term']").last
    expect(row).to_contain_text("アップセル")
    human = row.get_by_role("button", name="オペレーターに相談")
    expect(human).to_be_visible()
    shot(page, "unknown_term")
    send_and_wait(page, human.click)
    expect(page.locator(".cca-row--user .cca-bubble").last).to_have_text("オペレーターに相談")
    expect(page.locator(".cca-handoff__ticket")).to_contain_text(TICKET)


def test_feedback_sends_intent_without_a_bubble(page: Page):
    open_chat(page)
    ask(page, "ACWとは?")
    users = page.locator(".cca-row--user").count()
    row = page.locator(".cca-row[data-kind='definition']").last
    send_and_wait(page, row.get_by_role("button", name="役に立たなかった").click)
    expect(row.locator(".cca-feedback__thanks")).to_be_visible()
    expect(page.locator(".cca-row--user")).to_have_count(users)
    # The bot answers a 👎 by offering a person: はい/いいえ buttons.
    offer = page.locator(".cca-row[data-kind='offer_human']").last
    expect(offer.get_by_role("button")).to_have_text(["はい", "いいえ"])
    send_and_wait(page, offer.get_by_role("button", name="はい").click)
    expect(page.locator(".cca-row--user .cca-bubble").last).to_have_text(
        "はい"
    )  # title, not /affirm
    expect(page.locator(".cca-handoff__ticket")).to_contain_text(TICKET)


def test_handoff_banner_and_history_survive_reload(page: Page, shot):
    open_chat(page)
    ask(page, "ACWとは?")
    button = page.locator(".cca-row[data-kind='welcome']").get_by_role(
        "button", name="オペレーターと話したい"
    )
    send_and_wait(page, button.click)
    banner = page.locator(".cca-handoff")
    expect(banner).to_be_visible()
    expect(banner.locator(".cca-handoff__ticket")).to_contain_text(TICKET)
    ticket = TICKET.search(banner.text_content()).group(0)
    expect(page.locator(".cca-card--handoff")).to_contain_text(ticket)
    shot(page, "handoff")
    before = user_texts(page)
    session = page.evaluate("localStorage.getItem('ccAssistant.session')")

    page.reload()
    expect(page.locator("#cca-panel")).to_be_visible()  # reopened in the same tab
    expect(page.locator(".cca-handoff__ticket")).to_contain_text(ticket)
    assert user_texts(page) == before
    expect(page.locator(".cca-card--definition .cca-card__term")).to_have_text(
        "アフターコールワーク"
    )
    assert page.evaluate("localStorage.getItem('ccAssistant.session')") == session
    # Same session over the new socket: the conversation carries on.
    expect(page.locator(".cca-status")).to_have_attribute("data-state", "online")
    ask(page, "ボットに戻る")
    shot(page, "after_reload")


def test_markup_is_shown_as_literal_text(page: Page):
    open_chat(page)
    for text in XSS_INPUTS:
        ask(page, text)  # checks the bubble's text is exactly what was typed
    messages = page.locator(".cca-messages")
    expect(page.locator("img")).to_have_count(0)
    expect(messages.locator("a[href^='javascript:' i]")).to_have_count(0)
    for href in messages.locator("a").evaluate_all("links => links.map(a => a.href)"):
        assert href.startswith(("http://", "https://")), href
    page.wait_for_timeout(500)  # an onerror handler would have fired by now


def test_enter_during_ime_composition_does_not_send(page: Page):
    open_chat(page)
    box = page.locator("#cca-input")
    box.fill("ACWとは")
    users = page.locator(".cca-row--user").count()
    box.dispatch_event("compositionstart", {"data": ""})
    box.dispatch_event(
        "keydown", {"key": "Enter", "code": "Enter", "isComposing": True, "bubbles": True}
    )
    # Some IMEs report keydown with isComposing=false during composition.
    box.dispatch_event("keydown", {"key": "Enter", "code": "Enter", "bubbles": True})
    box.dispatch_event("compositionend", {"data": "ACWとは"})
    # Safari: the confirming Enter arrives after compositionend, as keyCode 229.
    box.evaluate(
        """el => {
            const ev = new KeyboardEvent(
                'keydown', {key: 'Enter', bubbles: true, cancelable: true});
            Object.defineProperty(ev, 'keyCode', {get: () => 229});
            el.dispatchEvent(ev);
        }"""
    )
    page.wait_for_timeout(300)
    expect(page.locator(".cca-row--user")).to_have_count(users)
    expect(box).to_have_value("ACWとは")

    box.press("Shift+Enter")
    expect(page.locator(".cca-row--user")).to_have_count(users)

    box.fill("ACWとは?")
    send_and_wait(page, lambda: box.press("Enter"))
    expect(page.locator(".cca-row--user .cca-bubble").last).to_have_text("ACWとは?")
    expect(box).to_have_value("")


def test_enter_during_real_ime_composition_does_not_send(page: Page):
    """Chromium's own IME path (CDP Input.imeSetComposition), not synthetic events."""
    open_chat(page)
    cdp = page.context.new_cdp_session(page)
    box = page.locator("#cca-input")
    box.focus()
    cdp.send(
        "Input.imeSetComposition", {"text": "えーしー", "selectionStart": 4, "selectionEnd": 4}
    )
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    expect(page.locator(".cca-row--user")).to_have_count(0)
    cdp.send("Input.insertText", {"text": "ACW"})  # commits the composition
    box.fill("ACWとは?")
    send_and_wait(page, lambda: box.press("Enter"))
    expect(page.locator(".cca-row--user")).to_have_count(1)


def test_mobile_full_screen_panel(mobile_page: Page, shot):
    page = mobile_page
    expect(page.locator(".cca-launcher")).to_be_visible()
    open_chat(page)
    box = page.locator("#cca-panel").bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844), box
    expect(page.locator(".cca-launcher")).to_be_hidden()
    ask(page, "インバウンドとアウトバウンドの違いは?")
    items = page.locator(".cca-card--comparison .cca-compare__item")
    a, b = items.nth(0).bounding_box(), items.nth(1).bounding_box()
    assert b["y"] > a["y"] + a["height"] - 1, (a, b)  # stacked on a phone
    ask(page, "ACWとは?")
    expect(page.locator(".cca-card--definition .cca-card__term")).to_have_text(
        "アフターコールワーク"
    )
    shot(page, "mobile")
    page.get_by_role("button", name="チャットを閉じる").click()
    expect(page.locator("#cca-panel")).to_be_hidden()
    expect(page.locator(".cca-launcher")).to_be_visible()


def test_keyboard_and_screen_reader_basics(page: Page):
    launcher = page.locator(".cca-launcher")
    expect(launcher).to_have_attribute("aria-label", re.compile("チャットで質問する"))
    expect(launcher).to_have_attribute("aria-expanded", "false")
    for _ in range(20):
        page.keyboard.press("Tab")
        if launcher.evaluate("el => el === document.activeElement"):
            break
    expect(launcher).to_be_focused()
    page.keyboard.press("Enter")
    panel = page.get_by_role("dialog", name="サポートチャット")
    expect(panel).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".cca-messages")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#cca-input")).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_reconnects_after_network_loss(page: Page):
    open_chat(page)
    page.context.set_offline(True)
    expect(page.locator(".cca-status")).to_have_text("再接続中…")
    page.context.set_offline(False)
    expect(page.locator(".cca-status")).to_have_attribute("data-state", "online", timeout=30_000)
    ask(page, "ACWとは?")
    expect(page.locator(".cca-card--definition")).to_have_count(1)


def test_page_from_another_origin_cannot_connect(bot, web, other_web, new_browser_page):
    page = new_browser_page(other_web.url + "/")
    page.get_by_role("button", name=re.compile("チャットで質問する")).click()
    expect(page.locator(".cca-status")).to_have_attribute("data-state", "reconnecting")
    page.wait_for_timeout(2000)
    expect(page.locator(".cca-status")).not_to_have_attribute("data-state", "online")

    handshake = bot.rasa_url + "/socket.io/?EIO=4&transport=polling"
    refused = requests.get(handshake, headers={"Origin": other_web.url}, timeout=10)
    assert refused.status_code == 400
    allowed = requests.get(handshake, headers={"Origin": web.url}, timeout=10)
    assert allowed.status_code == 200
    # Exactly one Access-Control-Allow-Origin (requests joins repeats with ", ").
    assert allowed.headers["Access-Control-Allow-Origin"] == web.url


def test_long_polling_transport_works(browser, web):
    """The fallback for proxies that block websockets: engine.io long-polling,
    which needs exactly one Access-Control-Allow-Origin on each response."""
    from .conftest import new_page

    context, page, problems = new_page(browser)

    def polling_only(route):
        served = route.fetch()
        body = served.text() + '\nwindow.CCAssistantConfig.transports = ["polling"];\n'
        route.fulfill(response=served, body=body)

    page.route("**/config.js", polling_only)
    ws_opened = []
    page.on("websocket", lambda ws: ws_opened.append(ws.url))
    try:
        page.goto(web.url + "/")
        open_chat(page)
        ask(page, "ACWとは?")
        expect(page.locator(".cca-card--definition .cca-card__term")).to_have_text(
            "アフターコールワーク"
        )
        assert not ws_opened
        assert not problems.errors, problems.errors
    finally:
        context.close()
