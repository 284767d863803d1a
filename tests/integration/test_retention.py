"""`make forget` / `make purge` (assistant.retention.cli) against the real servers'
databases while they serve: after forget, no row of any table of the tracker store or
the handoff database holds the customer's text or id; malformed arguments change
nothing and say why."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from datetime import datetime, timedelta

from assistant.handoff.db import make_engine
from assistant.outcomes.records import JST, normalized
from assistant.outcomes.rollup import Analytics, uid
from devtools.launch import REPO, custom_payloads
from tests.support.receiver import wait_until
from tests.support.stores import dump, where
from tests.support.tracker import user_texts
from tests.support.widget_client import Customer


def cli(bot, *args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {
        **bot.env,
        "TRACKER_DB_URL": f"sqlite:///{bot.workdir / 'tracker.db'}",
        **(env_extra or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "assistant.retention.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def build_rollups(bot) -> None:
    """What the analytics dashboard's report does: roll up today and yesterday (Japan)."""
    engine = make_engine(bot.env["HANDOFF_DB_URL"])
    try:
        today = datetime.now(JST).date()
        Analytics(engine, refresh_seconds=0).report(
            (today - timedelta(days=1)).isoformat(), today.isoformat()
        )
    finally:
        engine.dispose()


def urls(bot) -> tuple[str, str]:
    return f"sqlite:///{bot.workdir / 'tracker.db'}", bot.env["HANDOFF_DB_URL"]


def test_forget_leaves_no_trace_of_the_customer_in_any_table(bot):
    sender, other = f"forget-{uuid.uuid4().hex}", f"keep-{uuid.uuid4().hex}"
    secret = f"ZQ{uuid.uuid4().hex[:8]}"
    custom_payloads(bot.say(sender, f"ACWとは? 私は山田{secret}です"))
    kinds = [p["kind"] for p in custom_payloads(bot.say(sender, "オペレーターと話したい"))]
    assert "handoff" in kinds
    bot.say(sender, f"電話番号は{secret}、よろしくお願いします")
    bot.say(other, f"ACWとは? {secret}OTHER")
    assert user_texts(bot.workdir, sender) and user_texts(bot.workdir, other)
    assert where(secret, *urls(bot))  # stored in both databases before
    # the analytics log has the question as typed and normalised (written within a second)
    assert wait_until(
        lambda: (
            len(where(sender, urls(bot)[1])) >= 3
            and any(
                h.startswith("analytics_outcomes:") and secret in h
                for h in where(secret, urls(bot)[1])
            )
        ),
        timeout=15,
    )
    # a dashboard report rolls the day up (the roll-up tables hold the day's conversations)
    build_rollups(bot)
    assert any(
        h.startswith("analytics_rollup_users:") for h in where(str(uid(sender)), urls(bot)[1])
    )

    done = cli(bot, "forget", sender)
    assert done.returncode == 0, done.stderr
    assert "events=" in done.stdout and "handoff_tickets=1" in done.stdout
    assert "analytics_outcomes=" in done.stdout

    for text in (secret, normalized(secret) or secret, str(uid(sender))):
        remaining = [hit for hit in where(text, *urls(bot)) if other not in hit]
        assert remaining == [], text
    assert where(sender, *urls(bot)) == []
    assert where(f"{secret}OTHER", *urls(bot))  # the other customer is untouched
    audit = [r for r in dump(urls(bot)[1])["handoff_audit"] if "forget" in r]
    assert audit and all(sender not in r and secret not in r for r in audit)
    # the customer can start again: a new conversation, answered
    assert custom_payloads(bot.say(sender, "ACWとは?"))[0]["kind"] == "definition"


def test_forget_a_widget_session(bot):
    secret = f"WS{uuid.uuid4().hex[:8]}"
    customer = Customer(bot.rasa_url)
    try:
        customer.say(f"ACWとは? {secret}")
        customer.wait_for("definition")
    finally:
        customer.close()
    assert user_texts(bot.workdir, customer.session_id)
    # the outcome log is written by a thread about once a second: wait for this turn's row
    assert wait_until(lambda: where(customer.session_id, urls(bot)[1]), timeout=15)
    done = cli(bot, "forget", customer.session_id)
    assert done.returncode == 0, done.stderr
    assert where(secret, *urls(bot)) == [] and where(customer.session_id, *urls(bot)) == []


def test_malformed_or_unknown_arguments_change_nothing_and_say_why(bot):
    sender = f"stay-{uuid.uuid4().hex}"
    bot.say(sender, "ACWとは?")
    assert user_texts(bot.workdir, sender)
    # the outcome log is written by a thread: wait for this turn (and so every earlier one)
    assert wait_until(lambda: where(sender, urls(bot)[1]), timeout=15)
    before = [dump(u) for u in urls(bot)]
    for args, code, says in [
        (["forget", ""], 2, "sender id or a ticket number"),
        (["forget", "ESC-2026"], 2, "ESC-YYYYMMDD-NNNN"),
        (["forget", f" {sender}"], 2, "spaces"),
        (["forget", "a\u202eb"], 2, "control"),
        (["forget", "ESC-20991231-0001"], 1, "no ticket"),
        (["forget", f"unknown-{uuid.uuid4().hex}"], 1, "nothing stored"),
    ]:
        done = cli(bot, *args)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert says in done.stderr and "nothing changed" in done.stderr, done.stderr
    bad = cli(bot, "purge", env_extra={"RETENTION_TICKETS_DAYS": "90日"})
    assert bad.returncode == 2 and "RETENTION_TICKETS_DAYS" in bad.stderr
    assert [dump(u) for u in urls(bot)] == before


def test_purge_while_serving(bot):
    """Purge runs in short transactions: customers keep getting replies meanwhile."""
    failures: list[str] = []
    stop = threading.Event()
    # a message with an id: the receipts table exists and is purged too
    import requests

    requests.post(
        bot.rest_url,
        json={
            "sender": f"rcpt-{uuid.uuid4().hex}",
            "message": "ACWとは?",
            "message_id": str(uuid.uuid4()),
        },
        timeout=30,
    ).raise_for_status()

    def chat() -> None:
        sender = f"busy-{uuid.uuid4().hex}"
        while not stop.is_set():
            try:
                if not bot.say(sender, "ACWとは?", timeout=20):
                    failures.append("empty reply")
            except Exception as exc:  # noqa: BLE001  (any failure is the finding)
                failures.append(repr(exc))

    worker = threading.Thread(target=chat)
    worker.start()
    try:
        for _ in range(3):
            done = cli(bot, "purge", env_extra={"RETENTION_CONVERSATIONS_DAYS": "1"})
            assert done.returncode == 0, done.stderr
            assert done.stdout.startswith("purged:")
    finally:
        stop.set()
        worker.join(30)
    assert failures == []
    registry = cli(bot, "registry")
    assert registry.returncode == 0 and "handoff_tickets" in registry.stdout
