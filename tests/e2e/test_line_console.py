"""A LINE customer and an agent in the real console (headless Chromium): the ticket
shows as LINE, the quota line is in the top bar, the agent's message arrives at the
stand-in of LINE's API as a push, the customer's next LINE message shows to the agent,
and the hand-back lets the bot answer again (with a free reply)."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from devtools.console_client import add_agent
from devtools.launch import MODEL, start_servers
from tests.e2e.conftest import PageProblems
from tests.integration.conftest import hours_file
from tests.support.ci import unavailable
from tests.support.line_api import LineStandIn, event, post_webhook

SECRET = "e2e-secret-" + uuid.uuid4().hex
TOKEN = "e2e-token-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def line():
    s = LineStandIn(TOKEN).start()
    s.quota = 200
    yield s
    s.stop()


@pytest.fixture(scope="module")
def lbot(tmp_path_factory, line):
    if not MODEL.exists():
        unavailable("no trained model (make train)")
    workdir = tmp_path_factory.mktemp("line-e2e")
    servers = start_servers(
        workdir=workdir,
        env_extra={
            "HANDOFF_HOURS_FILE": str(hours_file(workdir / "open.yml", True)),
            "LINE_CHANNEL_SECRET": SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
            "LINE_API_BASE": line.url,
            "LINE_QUOTA_CACHE": "0",
        },
    )
    yield servers
    servers.stop()


@pytest.fixture
def console(browser, lbot):
    password = add_agent(lbot.env, "yamada", "山田")
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="ja-JP", timezone_id="Asia/Tokyo"
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems = PageProblems(page)
    page.remove_listener("dialog", problems._dialog)
    page.on("dialog", lambda d: d.accept())
    page.goto(lbot.rasa_url + "/agent/")
    page.get_by_test_id("login-username").fill("yamada")
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/agent/(#.*)?$"))
    yield page
    context.close()
    assert not problems.errors, problems.errors


def send(lbot, line, uid, text):
    ev = event("message", uid, line.reply_token(), text=text)
    assert post_webhook(f"{lbot.rasa_url}/webhooks/line/webhook", SECRET, [ev]).status_code == 200
    return ev


def pushed_texts(line, uid):
    return [m.get("text") for c in line.sent("push", uid) for m in c.body["messages"]]


def test_an_agent_chats_with_a_line_customer_in_the_console(console, lbot, line, shot):
    uid = "U" + uuid.uuid4().hex
    send(lbot, line, uid, "オペレーターと話したい")
    item = console.get_by_test_id("queue-waiting").get_by_test_id("ticket-item")
    expect(item.first).to_contain_text("LINE", timeout=5_000)
    expect(console.get_by_test_id("line-quota")).to_contain_text("/ 200通")
    item.first.click()
    console.get_by_test_id("claim").click()
    expect(console.get_by_test_id("queue-mine").get_by_test_id("ticket-item")).to_have_count(1)
    line.wait_for(lambda: any("山田" in (t or "") for t in pushed_texts(line, uid)))

    console.get_by_test_id("message-input").fill("お待たせしました。山田です。")
    started = time.perf_counter()
    console.get_by_test_id("send").click()
    line.wait_for(lambda: "お待たせしました。山田です。" in pushed_texts(line, uid))
    print(f"\nagent send → push at the stand-in: {(time.perf_counter() - started) * 1000:.0f} ms")

    ev = send(lbot, line, uid, "<b>請求書</b>の件です")
    customer = console.get_by_test_id("messages").locator("[data-role='customer'] .msg__text")
    expect(customer.last).to_have_text("<b>請求書</b>の件です")  # as text, never markup
    assert console.get_by_test_id("messages").locator("b").count() == 0
    assert not [c for c in line.calls if c.body.get("replyToken") == ev["replyToken"]]
    shot(console, "line-console")

    console.get_by_test_id("handback").click()
    line.wait_for(
        lambda: any("ボット" in (t or "") or "戻" in (t or "") for t in pushed_texts(line, uid)[2:])
    )
    answer = send(lbot, line, uid, "ACWとは?")
    line.wait_for(
        lambda: [c for c in line.sent("reply") if c.body["replyToken"] == answer["replyToken"]]
    )
