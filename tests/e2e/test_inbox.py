"""The unanswered inbox in a real browser: a customer asks 「AHTとは?」 twice in the widget
(no such term yet); the editor sees 「AHT」 in /agent/inbox with its count, adds it as a
new term from the inbox, and the inbox shows it resolved; the customer's next ask gets
the new definition. Own servers (a fresh content database): test_content_studio adds
AHT to the session's servers."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from devtools.console_client import add_agent
from devtools.launch import MODEL, REPO, free_port, start_servers
from tests.e2e.conftest import SCREENSHOTS, SOCKET_IO, PageProblems, WebServer
from tests.e2e.test_widget import ask, open_chat
from tests.support.ci import unavailable

HOSTILE = "<img src=x onerror=alert(1)>とは?"
DEFINITION = "1件の応対にかかる平均の時間です(未回答から登録)。"


@pytest.fixture(scope="module")
def web_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def bot(tmp_path_factory, web_port):
    if not MODEL.exists():
        unavailable("no trained model (make train)")
    if not SOCKET_IO.exists():
        unavailable("web/node_modules missing (scripts/install_browser.sh runs npm ci)")
    servers = start_servers(
        workdir=tmp_path_factory.mktemp("inbox-bot"),
        env_extra={
            "CHAT_ALLOWED_ORIGINS": f"http://127.0.0.1:{web_port}",
            "OUTCOME_FLUSH_SECONDS": "0.2",
        },
        credentials=REPO / "credentials.yml",
    )
    yield servers
    servers.stop()


@pytest.fixture(scope="module")
def web(bot, web_port):
    server = WebServer(bot.rasa_url, bot.workdir, web_port)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def editor_password(bot):
    return add_agent(bot.env, "midori", "編集 みどり", role="editor")


@pytest.fixture
def inbox(browser, bot, editor_password):
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, locale="ja-JP", timezone_id="Asia/Tokyo"
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems = PageProblems(page)
    page.goto(bot.rasa_url + "/agent/inbox")
    expect(page).to_have_url(re.compile(r"/agent/login$"))
    page.get_by_test_id("login-username").fill("midori")
    page.get_by_test_id("login-password").fill(editor_password)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/agent/(#.*)?$"))
    expect(page.locator("#inbox-link")).to_be_visible()
    page.locator("#inbox-link").click()
    expect(page).to_have_url(re.compile(r"/agent/inbox$"))
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    yield page
    context.close()
    assert not problems.errors, problems.errors
    assert not problems.dialogs, problems.dialogs


def test_editor_turns_an_unanswered_question_into_a_term(page: Page, inbox: Page, shot):
    open_chat(page)
    for text in ("AHTとは?", "ＡＨＴって何?", HOSTILE):
        ask(page, text)
        expect(page.locator(".cca-row[data-kind='unknown_term']").last).to_be_visible()

    row = inbox.locator("[data-testid='inbox-item'][data-key='aht']")
    deadline = time.monotonic() + 10
    while not row.count():  # the outcome log is written off the hot path
        assert time.monotonic() < deadline, "AHT did not reach the inbox"
        time.sleep(0.5)
        inbox.reload()
        expect(inbox.locator("body")).to_have_attribute("data-ready", "true")
    expect(row.locator(".inbox__label")).to_have_text("AHT")
    hostile = inbox.locator("[data-testid='inbox-item']").filter(has_text="onerror")
    expect(hostile.locator(".inbox__label")).to_contain_text("<img")  # shown as text, not markup
    expect(inbox.locator("#items img")).to_have_count(0)
    # The customer's words, as the example question and in the transcript: text too.
    expect(hostile).to_contain_text(f"例: {HOSTILE}")
    hostile.get_by_test_id("show-transcript").click()
    expect(inbox.get_by_test_id("transcript")).to_contain_text(HOSTILE)
    expect(inbox.locator("#transcript img, #transcript-id img")).to_have_count(0)
    expect(row.get_by_test_id("count")).to_have_text("2件")
    expect(row.get_by_test_id("status")).to_have_text("未対応")
    term_form = row.locator("fieldset[data-fix='term']")
    expect(term_form.get_by_test_id("f-term")).to_have_value("AHT")  # pre-filled
    term_form.get_by_test_id("f-reading").fill("えーえいちてぃー")
    term_form.get_by_test_id("f-category").fill("指標")
    term_form.get_by_test_id("f-definition").fill(DEFINITION)
    row.get_by_test_id("show-transcript").click()
    expect(inbox.get_by_test_id("transcript")).to_contain_text("ＡＨＴって何?")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    inbox.screenshot(path=str(SCREENSHOTS / "inbox.png"), full_page=True)

    term_form.get_by_test_id("do-term").click()
    expect(inbox.locator("#notice")).to_contain_text("「AHT」を登録しました")
    expect(inbox.locator("[data-testid='inbox-item'][data-key='aht']")).to_have_count(
        0
    )  # not open any more
    inbox.get_by_role("tab", name=re.compile("解決済み")).click()
    done = inbox.locator("[data-testid='inbox-item'][data-key='aht']")
    expect(done.get_by_test_id("status")).to_have_text("解決済み")
    expect(done.get_by_test_id("count")).to_have_text("2件")
    expect(done).to_contain_text("用語を新規登録: AHT")
    shot(inbox, "inbox-resolved")

    fixed = time.monotonic()
    while True:
        ask(page, "AHTとは?")
        answer = page.locator(".cca-row[data-kind='definition']").last
        if answer.count() and DEFINITION in (answer.text_content() or ""):
            break
        assert time.monotonic() - fixed < 5, "the widget did not get the new term within 5 s"
        time.sleep(0.3)
    time.sleep(1)
    inbox.reload()
    expect(inbox.locator("body")).to_have_attribute("data-ready", "true")
    inbox.get_by_role("tab", name=re.compile("解決済み")).click()
    expect(
        inbox.locator("[data-testid='inbox-item'][data-key='aht']").get_by_test_id("status")
    ).to_have_text("解決済み")
