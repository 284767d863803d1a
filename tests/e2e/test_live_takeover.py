"""Live agent takeover in two real browsers: a customer in the widget, an agent in
the console (served by the Rasa server at /agent/), both on the real servers."""

from __future__ import annotations

import re
import time

import pytest
import requests
from playwright.sync_api import Page, expect

from devtools.console_client import add_agent
from tests.e2e.conftest import PageProblems
from tests.e2e.test_widget import ask, open_chat

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def agent_password(bot):
    return add_agent(bot.env, "suzuki", "鈴木")


@pytest.fixture
def console(browser, bot, agent_password):
    """The agent's own browser profile, logged in through the login page."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="ja-JP", timezone_id="Asia/Tokyo"
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems = PageProblems(page)
    page.remove_listener("dialog", problems._dialog)
    page.on("dialog", lambda d: d.accept())  # the console asks before handing back / closing
    page.goto(bot.rasa_url + "/agent/")
    expect(page).to_have_url(re.compile(r"/agent/login$"))
    page.get_by_test_id("login-username").fill("suzuki")
    page.get_by_test_id("login-password").fill(agent_password)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/agent/(#.*)?$"))
    yield page
    context.close()
    assert not problems.errors, problems.errors


def agent_rows(page: Page):
    return page.locator(".cca-row[data-kind='agent_message']")


def bot_answers(page: Page):
    """Rows the bot itself produced (not the agent's, not system lines about the agent)."""
    return page.locator(".cca-row--bot:not([data-kind^='agent_']):not([data-kind='text'])")


def test_customer_talks_to_an_agent_in_the_widget_and_back_to_the_bot(
    page: Page, console: Page, bot, shot
):
    open_chat(page)
    ask(page, "オペレーターと話したい")
    expect(page.locator(".cca-row[data-kind='handoff']")).to_be_visible()

    # The ticket shows in the agent's queue within 2 s, without a reload.
    item = console.get_by_test_id("queue-waiting").get_by_test_id("ticket-item")
    expect(item.first).to_be_visible(timeout=2_000)
    item.first.click()
    console.get_by_test_id("claim").click()
    expect(console.get_by_test_id("queue-mine").get_by_test_id("ticket-item")).to_have_count(1)
    expect(page.locator(".cca-row[data-kind='agent_joined']")).to_contain_text("鈴木")

    # The agent's reply reaches the widget, shown as from a person.
    box = console.get_by_test_id("message-input")
    box.fill("お待たせしました。担当の鈴木です。")
    started = time.perf_counter()
    console.get_by_test_id("send").click()
    expect(agent_rows(page).last).to_contain_text("お待たせしました。担当の鈴木です。")
    print(f"\nagent send → widget display: {(time.perf_counter() - started) * 1000:.0f} ms")
    expect(agent_rows(page).last).to_contain_text("鈴木")

    # The bot stays silent for the customer's next two messages; the agent sees them.
    answered = bot_answers(page).count()
    for text in ("ACWとは?", XSS):
        page.locator("#cca-input").fill(text)
        page.locator("#cca-input").press("Enter")
    messages = console.get_by_test_id("messages").locator("[data-role='customer'] .msg__text")
    expect(messages).to_have_text(["ACWとは?", XSS], timeout=5_000)
    assert console.get_by_test_id("messages").locator("img").count() == 0  # shown as text
    time.sleep(1.0)  # a late bot answer would show up by now
    assert bot_answers(page).count() == answered
    expect(page.locator(".cca-typing")).to_be_hidden()
    shot(page, "live-widget-agent")
    shot(console, "live-console")

    # A reload on either side keeps the history.
    page.reload()  # the widget reopens by itself after a reload in the same tab
    expect(page.get_by_role("dialog", name="サポートチャット")).to_be_visible()
    expect(agent_rows(page).last).to_contain_text("お待たせしました。担当の鈴木です。")
    console.reload()
    expect(console.get_by_test_id("messages").locator("[data-role='agent']").last).to_contain_text(
        "担当の鈴木です"
    )
    expect(
        console.get_by_test_id("messages").locator("[data-role='customer'] .msg__text").last
    ).to_have_text(XSS)

    # What the agent writes while the customer's page is away arrives when it is back.
    url = page.url
    page.goto("about:blank")
    box.fill("ページを離れている間のメッセージです")
    console.get_by_test_id("send").click()
    expect(console.get_by_test_id("messages").locator("[data-role='agent']").last).to_contain_text(
        "離れている間"
    )
    page.goto(url)
    expect(agent_rows(page).last).to_contain_text("ページを離れている間のメッセージです")
    expect(agent_rows(page)).to_have_count(2)  # nothing shown twice

    # Hand back: the bot answers the next question again.
    console.get_by_test_id("handback").click()
    expect(page.locator(".cca-row[data-kind='agent_left']")).to_be_visible()
    ask(page, "ACWとは?")
    expect(page.locator(".cca-row[data-kind='definition']").last).to_contain_text(
        "アフターコールワーク"
    )


def test_console_pages_need_a_login(bot, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(bot.rasa_url + "/agent/")
    expect(page).to_have_url(re.compile(r"/agent/login$"))
    assert requests.get(bot.rasa_url + "/agent/api/queue", timeout=10).status_code == 401
    context.close()


def test_wrong_password_shows_an_error(bot, browser, agent_password):
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    page.goto(bot.rasa_url + "/agent/login")
    page.get_by_test_id("login-username").fill("suzuki")
    page.get_by_test_id("login-password").fill("not-the-password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("パスワードが違います")
    expect(page).to_have_url(re.compile(r"/agent/login$"))
    context.close()
