"""Training mode in the widget (headless chromium, real servers): a quiz answered by
clicking, with the progress line, correct/incorrect feedback and the score."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.test_widget import answers, ask, open_chat, send_and_wait


def test_a_quiz_answered_by_clicking(page: Page, shot):
    open_chat(page)
    ask(page, "クイズを3問出して")
    card = page.locator(".cca-card--quiz").last
    expect(card.locator(".cca-quiz__progress")).to_have_text("1/3")
    for n in range(3):
        card = page.locator(".cca-card--quiz").nth(n)
        expect(card.locator(".cca-quiz__progress")).to_have_text(f"{n + 1}/3")
        options = card.locator(".cca-quiz__option")
        assert options.count() >= 2
        if n == 0:  # keyboard: focus the first option and press Enter
            options.first.focus()
            send_and_wait(page, lambda: page.keyboard.press("Enter"))
        else:
            send_and_wait(page, options.nth(1).click)
        expect(options.first).to_be_disabled()
        feedback = page.locator(".cca-card--feedback").last
        expect(feedback).to_be_visible()
        expect(feedback).to_have_class(re.compile("cca-quiz--(correct|incorrect)"))
        expect(feedback.locator(".cca-quiz__verdict")).to_have_text(re.compile("正解|不正解"))
        expect(feedback.locator(".cca-card__source")).to_contain_text("出典")
        if n < 2:
            expect(page.locator(".cca-card--quiz")).to_have_count(n + 2)
    summary = page.locator(".cca-card--summary")
    expect(summary).to_be_visible()
    expect(summary.locator(".cca-quiz__result")).to_contain_text("/ 3 問正解")
    shot(page, "training-quiz")
    ask(page, "苦手な用語")
    expect(answers(page).last).to_have_attribute("data-kind", "weak_terms")
    ask(page, "終了")
    expect(answers(page).last).to_have_attribute("data-kind", "training_mode")


def test_customer_welcome_has_no_training_button(page: Page):
    open_chat(page)
    welcome = page.locator(".cca-row[data-kind='welcome']")
    expect(welcome.get_by_role("button", name="研修モード")).to_have_count(0)
