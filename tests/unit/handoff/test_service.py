"""assistant/handoff/service.py: the one way tickets are opened and added to
(the action server, the Rasa process when the action server is down, the live chat)."""

from __future__ import annotations

from assistant.handoff.service import HandoffRequest, HandoffService

EVENTS = [
    {
        "event": "user",
        "text": "ACWとは",
        "timestamp": 1.0,
        "parse_data": {"intent": {"name": "define_term"}},
    },
    {"event": "bot", "text": "アフターコールワークは…", "timestamp": 2.0},
    {
        "event": "user",
        "text": "人と話したい",
        "timestamp": 3.0,
        "parse_data": {"intent": {"name": "request_human"}},
    },
]


def request(sender="cust-1", text="人と話したい", reason="explicit", events=EVENTS, term=None):
    return HandoffRequest(
        sender_id=sender, channel="rest", reason=reason, text=text, term=term, events=events
    )


def test_open_creates_a_ticket_with_the_real_question_transcript_and_suggestions(store):
    asked = []

    def suggest(question: str) -> list[str]:
        asked.append(question)
        return ["アフターコールワーク"]

    service = HandoffService(store, suggest=suggest)
    opened = service.open(request(reason="fallback", term="ACW"))
    assert opened.created
    t = store.get(opened.ticket.id)
    assert (t.reason, t.last_question, t.term, t.candidates) == (
        "fallback",
        "ACWとは",
        "ACW",
        ["アフターコールワーク"],
    )
    assert asked == ["ACWとは"]  # 「人と話したい」 is not the question
    assert [m["text"] for m in t.transcript] == [
        "ACWとは",
        "アフターコールワークは…",
        "人と話したい",
    ]
    assert t.delivery_status == "disabled" and t.messages == []


def test_a_second_request_appends_to_the_open_ticket_and_an_empty_one_is_shown(store):
    service = HandoffService(store)
    first = service.open(request())
    again = service.open(request(text=""))
    assert not again.created and again.ticket.id == first.ticket.id
    assert [m["text"] for m in store.get(first.ticket.id).messages] == ["(空のメッセージ)"]


def test_no_question_no_suggestions(store):
    service = HandoffService(store, suggest=lambda q: ["never"])
    t = store.get(service.open(request(events=EVENTS[2:])).ticket.id)
    assert (t.last_question, t.candidates) == ("", [])


def test_a_webhook_makes_the_ticket_pending_and_is_asked_to_deliver(store):
    delivered = []

    class Notifier:  # records the request; delivery itself is test_notify.py's
        def notify_async(self, ticket_id):
            delivered.append(ticket_id)

    service = HandoffService(store, "https://hooks.example/x", notifier=Notifier)  # type: ignore[arg-type]
    opened = service.open(request())
    assert store.get(opened.ticket.id).delivery_status == "pending"
    assert delivered == [opened.ticket.id]


def test_a_failing_notifier_does_not_lose_the_ticket(store):
    def broken():
        raise RuntimeError("no thread")

    opened = HandoffService(store, "https://hooks.example/x", notifier=broken).open(request())
    assert store.get(opened.ticket.id).delivery_status == "pending"  # delivered later


def test_append_if_open(store):
    service = HandoffService(store)
    t = service.open(request()).ticket
    assert service.append_if_open(t.id, "続きです").id == t.id
    assert service.append_if_open(None, "x") is None
    assert service.append_if_open("NO-SUCH", "x") is None
    assert service.append_if_open("NO-SUCH", "送信者の", sender_id="cust-1").id == t.id
    store.close(t.id)
    assert service.append_if_open(t.id, "閉じた後") is None
    assert service.append_if_open(t.id, "閉じた後", sender_id="cust-1") is None
    assert [m["text"] for m in store.get(t.id).messages] == ["続きです", "送信者の"]
