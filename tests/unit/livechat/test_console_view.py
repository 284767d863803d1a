"""What the console shows (assistant/livechat/console_view.py): the queue split into
waiting, mine and others, a ticket's detail. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from assistant.livechat.console_view import queue_view, ticket_detail
from tests.support.tickets import T0, make


def test_queue_view_splits_waiting_mine_and_others(store):
    a, b, c = make(store, "a", 0), make(store, "b", 1), make(store, "c", 2)
    store.claim(b.id, "sato", "佐藤")
    store.claim(c.id, "tanaka", "田中")
    store.append_message(a.id, "まだですか")
    view = queue_view(store.list("open"), "sato", 1, now=T0 + timedelta(minutes=5))
    assert [t["id"] for t in view["waiting"]] == [a.id]
    assert view["waiting"][0]["position"] == 1 and view["waiting"][0]["wait_seconds"] == 300
    assert view["waiting"][0]["last_message"] == "まだですか"
    assert [t["id"] for t in view["mine"]] == [b.id]
    assert [(t["id"], t["owner"]) for t in view["others"]] == [(c.id, "田中")]
    detail = ticket_detail(store.get(a.id), 1)
    assert detail["messages"][0]["role"] == "customer" and "payload" not in detail["messages"][0]
