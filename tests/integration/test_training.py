"""Training mode over REST with both real servers: a whole 5-question session with
right and wrong answers, the score and the stored progress, leaving and coming back,
a definition question during a quiz, and a customer who never enters it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from assistant import contract
from devtools.launch import custom_payloads

QUESTIONS = 5


@pytest.fixture(scope="module")
def training_store(bot):
    from assistant.training.store import TrainingStore

    s = TrainingStore(bot.env["HANDOFF_DB_URL"])
    yield s
    s.engine.dispose()


def say(bot, sender, text):
    payloads = custom_payloads(bot.say(sender, text))
    for p in payloads:
        assert contract.problems(p) == [], p
    return payloads


def kinds(payloads):
    return [p["kind"] for p in payloads]


def pending(store, sender):
    state = store.state(sender)
    assert state is not None and state.pending
    return state.pending


def test_a_whole_session_score_and_stored_progress(bot, training_store):
    sender = f"trainee-{uuid.uuid4().hex[:8]}"
    out = say(bot, sender, f"クイズを{QUESTIONS}問出して")
    assert kinds(out) == ["training_mode", "quiz_question"]
    total = out[-1]["total"]
    assert total == QUESTIONS
    assert out[-1]["number"] == 1 and len(out[-1]["options"]) >= 2
    # During a quiz 「ACWとは?」 still gets the definition; the question stays pending.
    qid = out[-1]["id"]
    assert kinds(say(bot, sender, "ACWとは?")) == ["definition"]
    assert pending(training_store, sender)["id"] == qid
    right = 0
    for n in range(total):
        q = pending(training_store, sender)
        if n in (1, 3):  # wrong, typed
            answer = str((q["answer"] + 1) % len(q["options"]) + 1)
        elif n % 2 == 0:  # right, by the button's payload
            answer = str(q["answer"] + 1)
            right += 1
        else:  # right, typed as the option's text in hiragana/half-width-insensitive form
            answer = q["options"][q["answer"]]
            right += 1
        out = say(bot, sender, answer)
        assert out[0]["kind"] == "quiz_feedback"
        assert out[0]["correct"] == (n not in (1, 3)), (n, q, answer)
        assert out[0]["term"] == q["term"] and out[0]["source"]
        if n + 1 < total:
            assert out[-1]["kind"] == "quiz_question" and out[-1]["number"] == n + 2
    summary = out[-1]
    assert summary["kind"] == "quiz_summary"
    assert (summary["score"], summary["total"]) == (right, total)
    assert len(summary["weak_terms"]) == 2
    # stored: every answer, the session's score, per-term mastery
    answers = training_store.answers_of(sender)
    assert len(answers) == total and sum(a["correct"] for a in answers) == right
    session = training_store.sessions_of(sender)[-1]
    assert (session.correct, session.asked) == (right, total) and session.finished
    boxes = training_store.boxes(sender)
    assert all(boxes[t] == 1 for t in summary["weak_terms"])
    weak = say(bot, sender, "苦手な用語")
    assert kinds(weak) == ["weak_terms"]
    assert {t["term"] for t in weak[0]["terms"]} == set(summary["weak_terms"])
    cats = say(bot, sender, "カテゴリ一覧")
    assert kinds(cats) == ["category_list"] and cats[0]["categories"]
    # leave, come back: progress kept
    stop = say(bot, sender, "終了")
    assert stop[0]["kind"] == "training_mode" and stop[0]["active"] is False
    assert kinds(say(bot, sender, "苦手な用語")) != ["weak_terms"]  # out of training mode
    back = say(bot, sender, "研修モード")
    assert kinds(back) == ["training_mode", "quiz_question"]
    assert set(training_store.weak_terms(sender)) == set(summary["weak_terms"])
    assert len(training_store.sessions_of(sender)) == 2
    # the trainer's CLI sees the trainee and the group's hardest terms
    env = {**os.environ, "HANDOFF_DB_URL": bot.env["HANDOFF_DB_URL"]}
    cli = subprocess.run(
        [sys.executable, "-m", "assistant.training.cli"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert sender in cli and summary["weak_terms"][0] in cli
    shown = subprocess.run(
        [sys.executable, "-m", "assistant.training.cli", "show", sender],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"{right}/{total}" in shown


def test_stop_leaves_and_unknown_words_are_listed_for_the_glossary(bot, training_store):
    sender = f"trainee-{uuid.uuid4().hex[:8]}"
    say(bot, sender, "用語クイズ")
    out = say(bot, sender, "ACW時間とは?")
    assert kinds(out)[0] == "unknown_term"
    assert any(q == "ACW時間" for q, _ in training_store.glossary_gaps())
    out = say(bot, sender, "研修モードを終わる")
    assert out[0]["kind"] == "training_mode" and out[0]["active"] is False
    assert training_store.state(sender).active is False


@pytest.mark.parametrize("text", ["終了", "研修モードを終わる", "カテゴリ一覧", "苦手な用語", "1"])
def test_a_customer_outside_training_mode_sees_no_training(bot, text):
    sender = f"cust-{uuid.uuid4().hex[:8]}"
    out = say(bot, sender, text)
    assert not {
        "training_mode",
        "quiz_question",
        "quiz_feedback",
        "category_list",
        "weak_terms",
    } & set(kinds(out))
