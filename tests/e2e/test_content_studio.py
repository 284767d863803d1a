"""The content studio in two real browsers: an editor adds 「AHT」 in /agent/content,
previews and publishes it; a customer in the widget (another browser context) gets the
new definition within 5 s, on the running servers, without any restart."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from devtools.console_client import add_agent
from tests.e2e.conftest import SCREENSHOTS, PageProblems
from tests.e2e.test_widget import ask, open_chat

DEFINITION = "1件の応対にかかる平均の時間(通話時間と後処理時間の合計)です。"


@pytest.fixture(scope="module")
def editor_password(bot):
    return add_agent(bot.env, "henshu", "編集 花子", role="editor")


@pytest.fixture
def studio(browser, bot, editor_password):
    """The editor's own browser profile, logged in through the login page."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, locale="ja-JP", timezone_id="Asia/Tokyo"
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems = PageProblems(page)
    page.goto(bot.rasa_url + "/agent/content")
    expect(page).to_have_url(re.compile(r"/agent/login$"))
    page.get_by_test_id("login-username").fill("henshu")
    page.get_by_test_id("login-password").fill(editor_password)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/agent/(#.*)?$"))
    page.goto(bot.rasa_url + "/agent/content")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    yield page
    context.close()
    assert not problems.errors, problems.errors


def test_editor_adds_a_term_and_a_customer_gets_it_within_5_seconds(page: Page, studio: Page, shot):
    open_chat(page)
    ask(page, "AHTとは?")
    expect(page.locator(".cca-row[data-kind='unknown_term']").last).to_be_visible()

    expect(
        studio.get_by_test_id("items").get_by_role("button", name="アフターコールワーク")
    ).to_be_visible()
    studio.get_by_test_id("new-item").click()
    studio.get_by_test_id("f-term").fill("AHT")
    studio.get_by_test_id("f-reading").fill("えーえいちてぃー")
    studio.get_by_test_id("f-aliases").fill("平均処理時間|Average Handling Time")
    studio.get_by_test_id("f-category").fill("指標")
    studio.get_by_test_id("f-related").fill("アフターコールワーク")
    studio.get_by_test_id("f-definition").first.fill(DEFINITION)
    studio.get_by_test_id("preview-questions").fill("平均処理時間ってなに?")
    studio.get_by_test_id("preview").click()
    report = studio.get_by_test_id("report")
    expect(report).to_contain_text("【AHT】", timeout=60_000)
    expect(report).to_contain_text("平均処理時間ってなに?")
    expect(studio.get_by_test_id("problems")).to_be_empty()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    studio.screenshot(path=str(SCREENSHOTS / "content-studio-preview.png"), full_page=True)

    studio.get_by_test_id("publish").click()
    expect(studio.get_by_test_id("outcome")).to_contain_text("公開しました", timeout=60_000)
    published = time.monotonic()
    shot(studio, "content-studio-published")

    while True:
        ask(page, "AHTとは?")
        row = page.locator(".cca-row[data-kind='definition']").last
        if row.count() and DEFINITION in (row.text_content() or ""):
            break
        assert time.monotonic() - published < 5, "the widget did not get the new term within 5 s"
        time.sleep(0.3)
    print(f"published → answered in the widget: {time.monotonic() - published:.2f} s")
    expect(row).to_contain_text("AHT")

    # The history shows who made it; the list finds it by alias.
    studio.get_by_test_id("search").fill("平均処理")
    expect(studio.get_by_test_id("items").get_by_role("button", name="AHT")).to_be_visible()
    studio.get_by_test_id("items").get_by_role("button", name="AHT").click()
    expect(studio.get_by_test_id("history")).to_contain_text("henshu")


def test_an_import_runs_as_a_job_with_a_progress_bar(studio: Page, tmp_path):
    """差分を確認 then 取り込む: the page follows the server's job (progress bar and phase, text
    only) and reports the new revision; the terms are then in the list."""
    path = tmp_path / "terms.csv"
    rows = ["見出し語,読み,カテゴリ,定義1,出典1"]
    rows += [
        f"画面取込語{n},がめんとりこみご{'いちにさんよんご'[n]},運用,画面から取り込んだ定義{n}です。,e2e.csv"
        for n in range(5)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8-sig")
    studio.get_by_role("tab", name="取り込み・書き出し").click()
    studio.get_by_test_id("import-file").set_input_files(str(path))
    studio.get_by_test_id("import-check").click()
    result = studio.get_by_test_id("import-result")
    expect(result).to_contain_text("追加 5")
    studio.get_by_test_id("import-apply").click()
    expect(studio.get_by_test_id("import-job")).to_be_visible()
    expect(studio.get_by_test_id("import-phase")).not_to_be_empty()
    expect(result).to_contain_text("取り込みました(版", timeout=120_000)
    expect(studio.get_by_test_id("import-job")).to_be_hidden()


def test_a_stale_csrf_token_is_read_again_and_the_change_goes_through(studio: Page):
    """The shared request helper (web/agent/staff-api.js) serves the studio too: a POST
    with a stale token gets 403 csrf, the page re-reads the token and retries once."""
    statuses: list[int] = []
    studio.on(
        "response",
        lambda r: statuses.append(r.status) if r.url.endswith("/content/preview") else None,
    )
    studio.evaluate("window.StaffApi.setCsrf('stale-token')")
    studio.get_by_test_id("new-item").click()
    studio.get_by_test_id("f-term").fill("CSRF再取得語")
    studio.get_by_test_id("f-reading").fill("しーえすあーるえふ")
    studio.get_by_test_id("f-category").fill("運用")
    studio.get_by_test_id("f-definition").first.fill("再取得の確認に使う定義です。")
    studio.get_by_test_id("preview").click()
    expect(studio.get_by_test_id("report")).to_contain_text("CSRF再取得語", timeout=60_000)
    assert statuses == [403, 200]
    expect(studio.locator("#error")).to_be_hidden()


HOSTILE_TERM = "XSS<b>太字</b>確認"  # refused: the chat strips tags from what customers type
# Allowed (a bracket that makes no tag is kept by the chat), and still markup to a parser
# that would read it as HTML: an unfinished 「<b太字」 tag would vanish from the page.
PUBLISHED_TERM = "XSS確認<b太字"
HOSTILE_DEFINITION = "<img src=x onerror=alert(1)>の説明です。"


def test_markup_from_editors_and_questions_shows_as_text(studio: Page):
    """Markup typed by an editor (headword, definition, note, related term) or asked as a
    preview question is shown as the characters typed, in the problems, the preview, the
    list, the history and the recent changes: no element made from it, no script run."""
    dialogs: list[str] = []
    studio.on("dialog", lambda d: dialogs.append(d.message))
    studio.get_by_test_id("new-item").click()
    studio.get_by_test_id("f-term").fill(HOSTILE_TERM)
    studio.get_by_test_id("f-reading").fill("えっくすえすえすかくにん")
    studio.get_by_test_id("f-category").fill("運用")
    studio.get_by_test_id("f-related").fill("<img src=x onerror=alert(3)>")
    studio.get_by_test_id("f-definition").first.fill(HOSTILE_DEFINITION)
    studio.locator("[data-role=note]").first.fill("<img src=x onerror=alert(4)>社内資料")
    studio.get_by_test_id("preview-questions").fill("<img src=x onerror=alert(2)>とは?")
    studio.get_by_test_id("preview").click()
    problems = studio.get_by_test_id("problems")
    expect(problems).to_contain_text("<img src=x onerror=alert(3)>")
    # A headword with a tag could never be answered: refused, the markup quoted as text.
    expect(problems).to_contain_text(f"見出し語「{HOSTILE_TERM}」にはタグのような書き方")
    studio.get_by_test_id("f-related").fill("")
    studio.get_by_test_id("f-term").fill(PUBLISHED_TERM)
    studio.get_by_test_id("preview").click()
    report = studio.get_by_test_id("report")
    expect(report).to_contain_text(f"{PUBLISHED_TERM}とは?", timeout=60_000)
    expect(report).to_contain_text("<img src=x onerror=alert(2)>とは?")
    studio.get_by_test_id("publish").click()
    expect(studio.get_by_test_id("outcome")).to_contain_text("公開しました", timeout=60_000)

    studio.get_by_test_id("search").fill("XSS")
    button = studio.get_by_test_id("items").get_by_role("button", name=PUBLISHED_TERM)
    expect(button).to_have_text(PUBLISHED_TERM)
    button.click()
    expect(studio.get_by_test_id("f-term")).to_have_value(PUBLISHED_TERM)
    expect(studio.get_by_test_id("f-definition").first).to_have_value(HOSTILE_DEFINITION)
    expect(studio.get_by_test_id("history")).to_contain_text("作成")
    studio.get_by_role("tab", name="変更履歴").click()
    expect(studio.locator("#recent")).to_contain_text(f"「{PUBLISHED_TERM}」")
    # Nothing the editor typed became an element, nothing ran.
    expect(studio.locator("main img, body img")).to_have_count(0)
    expect(studio.locator("#items b, #recent b, #report b, #history b")).to_have_count(0)
    assert dialogs == []
