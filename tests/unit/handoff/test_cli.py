"""The staff CLI, run as a subprocess on real databases."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 11, 22, 15, 30, tzinfo=timezone.utc)


def run(db_url, *args, **env):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HANDOFF_")}
    full_env.update({"HANDOFF_DB_URL": db_url, **env})
    return subprocess.run(
        [sys.executable, "-m", "assistant.handoff.cli", *args],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        encoding="utf-8",
        errors="replace",
    )


def make(store, **kw):
    args = {
        "sender_id": "user-1",
        "channel": "web",
        "reason": "explicit",
        "last_question": "オペレーターと話したい",
        "term": None,
        "candidates": [],
        "transcript": [
            {"role": "user", "text": "返品したい", "time": "2026-11-22T15:29:00+00:00"},
            {"role": "bot", "text": "返品のご案内です。", "time": "2026-11-22T15:29:01+00:00"},
        ],
        "now": T0,
    }
    args.update(kw)
    return store.create(**args)


def test_list(store, db_url):
    r = run(db_url, "list")
    assert r.returncode == 0 and "no tickets" in r.stdout
    a = make(store, last_question="送料について")
    b = make(store, contact="+819012345678", contact_kind="phone", now=T0 + timedelta(minutes=1))
    store.close(a.id)
    r = run(db_url, "list")
    assert r.returncode == 0, r.stderr
    assert b.id in r.stdout and a.id not in r.stdout
    assert "090-1234-5678" in r.stdout and "2026-11-23 00:31" in r.stdout
    r = run(db_url, "list", "--all")
    assert a.id in r.stdout and b.id in r.stdout and "送料について" in r.stdout
    assert r.stdout.index(b.id) < r.stdout.index(a.id)  # newest first


def test_show(store, db_url):
    t = make(
        store, contact="taro@example.com", contact_kind="email", last_question="質問\x1b[2Jです"
    )
    store.append_message(t.id, "追加の質問です\n二行目", now=T0 + timedelta(minutes=2))
    r = run(db_url, "show", t.id)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for part in [
        t.id,
        "受付番号 / Ticket",
        "対応中 (open)",
        "2026-11-23 00:30 JST",
        "taro@example.com (メール)",
        "お客様/user: 返品したい",
        "ボット/bot: 返品のご案内です。",
        "追加の質問です",
        "二行目",
        "Follow-ups (1)",
        "未送信 (pending, 0 attempts)",
    ]:
        assert part in out, part
    assert "\x1b" not in out and "\\x1b[2J" in out  # user text can't drive the terminal


def test_close(store, db_url):
    t = make(store)
    r = run(db_url, "close", t.id)
    assert r.returncode == 0 and "closed" in r.stdout
    assert store.get(t.id).status == "closed"
    r = run(db_url, "close", t.id)
    assert r.returncode == 0 and "already closed" in r.stdout


@pytest.mark.parametrize(
    "args", [("show", "ESC-20991231-0001"), ("close", "ESC-20991231-0001"), ("show", "garbage")]
)
def test_not_found(db_url, args):
    r = run(db_url, *args)
    assert r.returncode == 1
    assert "not found" in r.stderr and args[1] in r.stderr


@pytest.mark.parametrize(
    "args", [(), ("bogus",), ("show",), ("close", "a", "b"), ("list", "--limit", "x")]
)
def test_usage_errors(db_url, args):
    assert run(db_url, *args).returncode == 2


def test_bad_configuration_is_usage_error(db_url):
    r = run(db_url, "list", HANDOFF_WEBHOOK_FORMAT="xml")
    assert r.returncode == 2 and "HANDOFF_WEBHOOK_FORMAT" in r.stderr


def test_unreachable_database():
    r = run("postgresql+psycopg2://nobody:x@127.0.0.1:1/none", "list")
    assert r.returncode == 3 and "error" in r.stderr


def test_retry(store, deliveries, db_url, receiver):
    r = run(db_url, "retry")
    assert r.returncode == 2 and "HANDOFF_WEBHOOK_URL" in r.stderr

    due = make(store)
    gave_up = make(store)
    deliveries.record_delivery(gave_up.id, False, "old outage", None)
    quiet = make(store, notify=False)

    r = run(db_url, "retry", HANDOFF_WEBHOOK_URL=receiver.url)
    assert r.returncode == 0, r.stderr
    assert f"{due.id}: 送信済 / delivered" in r.stdout and gave_up.id not in r.stdout
    assert receiver.ticket_ids() == [due.id]

    r = run(db_url, "retry", "--include-failed", HANDOFF_WEBHOOK_URL=receiver.url)
    assert r.returncode == 0 and f"{gave_up.id}: 送信済" in r.stdout
    assert sorted(receiver.ticket_ids()) == sorted([due.id, gave_up.id])
    assert store.get(quiet.id).delivery_status == "disabled"

    r = run(db_url, "retry", HANDOFF_WEBHOOK_URL=receiver.url)
    assert r.returncode == 0 and "nothing due" in r.stdout


def test_retry_with_receiver_down(store, db_url, down_receiver):
    t = make(store)
    r = run(db_url, "retry", HANDOFF_WEBHOOK_URL=down_receiver.url, HANDOFF_WEBHOOK_TIMEOUT="0.5")
    assert r.returncode == 0 and f"{t.id}: 失敗" in r.stdout
    got = store.get(t.id)
    assert got.delivery_status == "pending" and got.delivery_attempts == 1


def test_ascii_terminal_does_not_crash(store, db_url):
    t = make(store)
    r = run(db_url, "show", t.id, PYTHONIOENCODING="ascii")
    assert r.returncode == 0 and t.id in r.stdout


def test_user_text_cannot_drive_the_staff_terminal():
    from assistant.handoff.cli import safe

    assert safe("注文\u202eredro\x1b[31m") == "注文\\u202eredro\\x1b[31m"
    assert safe("\u2066x\u2069\u200f") == "\\u2066x\\u2069\\u200f"
    assert safe("👨\u200d👩 日本語") == "👨\u200d👩 日本語"  # joiners in emoji stay
