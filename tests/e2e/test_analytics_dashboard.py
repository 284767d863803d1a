"""The analytics dashboard in a real browser: a supervisor sees the KPIs and the charts
with the numbers of the conversations this test drove (own servers, own databases),
hovers a KPI for its definition and downloads the CSV; an agent gets 403."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from devtools.console_client import add_agent
from devtools.launch import MODEL, REPO, custom_payloads, start_servers
from tests.e2e.conftest import PageProblems
from tests.support.ci import unavailable

CHART_JS = REPO / "web" / "node_modules" / "chart.js" / "dist" / "chart.umd.js"


@pytest.fixture(scope="module")
def abot(tmp_path_factory):
    if not MODEL.exists():
        unavailable("no trained model (make train)")
    if not CHART_JS.exists():
        unavailable("web/node_modules missing (scripts/install_browser.sh runs npm ci)")
    servers = start_servers(
        workdir=tmp_path_factory.mktemp("analytics-e2e"),
        env_extra={"OUTCOME_FLUSH_SECONDS": "0.1", "ANALYTICS_REFRESH_SECONDS": "0"},
    )
    pw = add_agent(servers.env, "sato", "佐藤")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "assistant.livechat.agents_cli",
            "add",
            "boss",
            "--name",
            "上司",
            "--role",
            "supervisor",
            "--password-stdin",
        ],
        input=pw + "\n",
        text=True,
        env=servers.env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    servers.password = pw  # type: ignore[attr-defined]  # for the tests' log-ins
    yield servers
    servers.stop()


def logged_in(browser, abot, username):
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000},
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        accept_downloads=True,
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems = PageProblems(page)
    page.goto(abot.rasa_url + "/agent/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(abot.password)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/agent/(#.*)?$"))
    return context, page, problems


def drive(abot) -> dict:
    """Conversations over REST; what the dashboard must show, from the replies seen."""
    seen = []
    for sender, texts in {
        "e2e-a": ["ACWとは?", "/feedback_positive"],
        "e2e-b": ["あふれ呼とは?", "/feedback_negative"],
        "e2e-c": ["ホゲフガとは?"],
    }.items():
        for text in texts:
            seen.append([p["kind"] for p in custom_payloads(abot.say(sender, text))])
    answered = sum(k[-1] in ("definition", "faq", "comparison") for k in seen)
    unanswered = sum(k[-1] in ("unknown_term", "fallback") for k in seen)
    assert (answered, unanswered) == (2, 1), seen
    return {
        "messages": len(seen),
        "questions": answered + unanswered,
        "answered": answered,
        "conversations": 3,
        "up": 1,
        "down": 1,
    }


def test_supervisor_sees_the_numbers_hovers_a_definition_and_downloads_csv(browser, abot, shot):
    want = drive(abot)
    context, page, problems = logged_in(browser, abot, "boss")
    try:
        page.goto(abot.rasa_url + "/agent/analytics")
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        for _ in range(50):  # the outcome log is written off the turn (0.1 s here)
            if page.get_by_test_id("kpi-messages").text_content() == str(want["messages"]):
                break
            page.wait_for_timeout(200)
            page.get_by_test_id("apply").click()
            expect(page.locator("body")).to_have_attribute("data-ready", "true")
        expect(page.get_by_test_id("kpi-messages")).to_have_text(str(want["messages"]))
        expect(page.get_by_test_id("kpi-conversations")).to_have_text(str(want["conversations"]))
        expect(page.get_by_test_id("kpi-questions")).to_have_text(str(want["questions"]))
        rate = f"{want['answered'] / want['questions'] * 100:.1f}%"
        expect(page.get_by_test_id("kpi-answer_rate")).to_have_text(rate)
        expect(page.get_by_test_id("kpi-accuracy")).to_have_text("50.0%")  # one 👍, one 👎
        expect(page.get_by_test_id("kpi-csat")).to_have_text("—")  # nothing asked: no division

        # the daily chart holds the same numbers (Chart.js on a canvas: read its data)
        data = page.evaluate(
            "() => Chart.getChart('chart-daily').data.datasets.map(d => [d.label, d.data])"
        )
        totals = {label: sum(v) for label, v in data}
        assert totals == {
            "回答(高評価)": 1,
            "回答(評価なし)": 0,
            "回答(低評価)": 1,
            "未回答・対象外": 1,
            "有人対応依頼": 0,
        }
        channels = page.evaluate("() => Chart.getChart('chart-channels').data.datasets[0].data")
        assert channels == [want["messages"]]
        expect(page.get_by_test_id("top-unanswered")).to_contain_text("ホゲフガとは?")
        expect(page.get_by_test_id("top-answers")).to_contain_text("アフターコールワーク")

        # a definition on hover
        tip = page.get_by_test_id("tip-self_resolution")
        expect(tip).to_be_hidden()
        page.get_by_test_id("def-self_resolution").hover()
        expect(tip).to_be_visible()
        expect(tip).to_contain_text("(確定 + 推定) ÷")
        shot(page, "analytics-dashboard")

        # the CSV download: UTF-8 with a BOM, the same numbers
        with page.expect_download() as dl:
            page.get_by_test_id("csv-kpis").click()
        body = Path(dl.value.path()).read_bytes()
        assert body.startswith(b"\xef\xbb\xbf")
        assert f"メッセージ数,messages,{want['messages']}," in body.decode("utf-8-sig")

        # a reversed period: a clear message, no crash
        page.get_by_test_id("from").fill("2026-12-31")
        page.get_by_test_id("to").fill("2026-12-01")
        page.get_by_test_id("apply").click()
        expect(page.get_by_test_id("error")).to_contain_text("期間の指定が正しくありません")
    finally:
        context.close()
    assert not problems.errors, problems.errors  # no CSP violation, no script error


def test_an_agent_gets_403(browser, abot):
    context, page, _problems = logged_in(browser, abot, "sato")
    try:
        resp = page.goto(abot.rasa_url + "/agent/analytics")
        assert resp.status == 403
        expect(page.locator("body")).to_contain_text("スーパーバイザーのみ")
        api = page.request.get(abot.rasa_url + "/agent/api/analytics?from=2026-12-01&to=2026-12-02")
        assert api.status == 403
    finally:
        context.close()
