"""Analytics over the real servers: conversations driven over REST and socket.io
(answered, unanswered, 👍, 👎, a handoff claimed by an agent) → the KPI API returns
exactly the counts this test computes from the replies it saw. Own servers (own
databases), so the numbers are this test's alone."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import requests

from devtools.console_client import Console, add_agent
from devtools.launch import custom_payloads, start_servers
from tests.integration.conftest import hours_file
from tests.support.widget_client import Customer

JST = timezone(timedelta(hours=9))
ANSWERED = {"definition", "comparison", "faq"}
UNANSWERED = {"unknown_term", "fallback"}


@pytest.fixture(scope="module")
def abot(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("analytics")
    servers = start_servers(
        workdir=workdir,
        env_extra={
            "HANDOFF_HOURS_FILE": str(hours_file(workdir / "open.yml", True)),
            "OUTCOME_FLUSH_SECONDS": "0.1",
            "ANALYTICS_REFRESH_SECONDS": "0",
        },
    )
    yield servers
    servers.stop()


@pytest.fixture(scope="module")
def accounts(abot):
    pw = add_agent(abot.env, "sato", "佐藤")  # an agent
    import subprocess
    import sys

    from devtools.launch import REPO

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
        env=abot.env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    agent, boss = Console(abot.rasa_url), Console(abot.rasa_url)
    assert agent.login("sato", pw).status_code == 200
    assert boss.login("boss", pw).status_code == 200
    return agent, boss


class Expected:
    """What the KPI API must say, from the replies the customers got."""

    def __init__(self):
        self.convs: dict[str, list[tuple[str, str]]] = {}  # conv → [(what, reply kind)]

    def saw(self, conv: str, what: str, kinds: list[str]) -> None:
        main = next(
            (
                k
                for k in kinds
                if k
                in ANSWERED
                | UNANSWERED
                | {"out_of_scope", "feedback_thanks", "offer_human", "handoff", "thanks"}
            ),
            kinds[0] if kinds else "none",
        )
        self.convs.setdefault(conv, []).append((what, main))

    def counts(self) -> dict:
        c: Counter[str] = Counter()
        for turns in self.convs.values():
            c["conversations"] += 1
            c["messages"] += len(turns)
            qs = [k for _, k in turns if k in ANSWERED | UNANSWERED | {"out_of_scope"}]
            c["questions"] += len(qs)
            c["answered"] += sum(k in ANSWERED for k in qs)
            c["unanswered"] += sum(k in UNANSWERED for k in qs)
            up = any(w == "up" for w, _ in turns)
            down = any(w == "down" for w, _ in turns)
            handoff = any(k == "handoff" for _, k in turns)
            c["up"] += up
            c["down"] += down
            c["with_handoff"] += handoff
            if qs:
                c["with_question"] += 1
                if not handoff and up:
                    c["confirmed"] += 1
        return c


def rest_turn(bot, exp, conv, text, what="say"):
    kinds = [p["kind"] for p in custom_payloads(bot.say(conv, text))]
    exp.saw(conv, what, kinds)
    return kinds


def widget_turn(customer, exp, text, what, kind_before):
    n = len(customer.kinds())
    customer.say(text)
    deadline = time.monotonic() + 15
    while len(customer.kinds()) == n:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)  # the rest of the reply
    exp.saw(customer.session_id, what, customer.kinds()[n:])


def report(console, day_from, day_to, **params):
    return console.get(
        f"/agent/api/analytics?from={day_from}&to={day_to}"
        + "".join(f"&{k}={v}" for k, v in params.items())
    )


def kpi(r):
    return {k["key"]: k for k in r["kpis"]}


def test_kpi_api_counts_what_the_customers_saw(abot, accounts):
    agent, boss = accounts
    exp = Expected()
    today = datetime.now(JST).date()
    start, end = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()
    u = lambda: f"an-{uuid.uuid4().hex[:8]}"  # noqa: E731

    a, b, c, d = u(), u(), u(), u()
    assert rest_turn(abot, exp, a, "ACWとは?")[-1] == "definition"
    rest_turn(abot, exp, a, "/feedback_positive", "up")
    assert rest_turn(abot, exp, b, "あふれ呼とは?")[-1] == "definition"
    rest_turn(abot, exp, b, "/feedback_negative", "down")
    assert "unknown_term" in rest_turn(abot, exp, c, "ホゲフガとは?")
    assert "faq" in rest_turn(abot, exp, d, "TMJって何してる会社?")
    assert "handoff" in rest_turn(abot, exp, d, "オペレーターと話したい")

    ticket = None
    for _ in range(50):
        waiting = [t for t in agent.queue()["waiting"] if t["id"] and t.get("last_question")]
        mine = list(agent.queue()["waiting"])
        ticket = next((t["id"] for t in mine if t["id"]), None)
        if ticket:
            break
        time.sleep(0.1)
    assert ticket and len(waiting) == 1
    assert agent.claim(ticket).status_code == 200
    assert agent.say(ticket, "担当の佐藤です。").status_code == 201
    assert agent.post(f"/agent/api/tickets/{ticket}/close").status_code == 200

    w = Customer(abot.rasa_url)
    try:
        widget_turn(w, exp, "ACWとは?", "say", None)
        widget_turn(w, exp, "/feedback_positive", "up", None)
    finally:
        w.close()

    want = exp.counts()
    assert (want["questions"], want["up"], want["down"]) == (5, 2, 1), exp.convs  # ran as meant

    deadline = time.monotonic() + 20
    while True:  # the log is written off the turn: wait for the rows
        r = report(boss, start, end)
        assert r.status_code == 200, r.text
        got = kpi(r.json())
        if got["messages"]["value"] == want["messages"] and r.json()["agents"]["claims"] == 1:
            break
        assert time.monotonic() < deadline, (got["messages"], want)
        time.sleep(0.2)
    time.sleep(0.5)
    data = report(boss, start, end).json()
    got = kpi(data)
    assert got["messages"]["value"] == want["messages"]
    assert got["conversations"]["value"] == want["conversations"] == 5
    assert got["users"]["value"] == 5
    assert got["questions"]["value"] == want["questions"]
    assert (got["answer_rate"]["numerator"], got["answer_rate"]["denominator"]) == (
        want["answered"],
        want["questions"],
    )
    assert got["unanswered_rate"]["numerator"] == want["unanswered"]
    assert (got["handoff_rate"]["numerator"], got["handoff_rate"]["denominator"]) == (
        want["with_handoff"],
        want["conversations"],
    )
    assert (got["accuracy"]["numerator"], got["accuracy"]["denominator"]) == (
        want["up"],
        want["up"] + want["down"],
    )
    assert got["self_resolution_confirmed"]["numerator"] == want["confirmed"]
    # nobody is "assumed" resolved yet: their 24 h are not over, or they were disqualified
    assert got["self_resolution_assumed"]["numerator"] == 0
    assert (
        got["self_resolution"]["denominator"]
        == want["with_question"] - data["pending_conversations"]
    )
    assert data["feedback"] == {"up": want["up"], "down": want["down"]}
    assert data["handoff"] == {"requests": 1, "after_answer": 1}
    assert data["agents"]["claims"] == 1 and data["agents"]["per_agent"] == [
        {"agent": "sato", "conversations": 1}
    ]
    assert (
        data["agents"]["first_reply_p50"] is not None and data["agents"]["handle_p50"] is not None
    )
    assert {ch["channel"]: ch["messages"] for ch in data["channels"]} == {
        "rest": sum(len(t) for cv, t in exp.convs.items() if not cv.startswith("ws-")),
        "socketio": len(exp.convs[w.session_id]),
    }
    assert [x["example"] for x in data["top_unanswered"]] == ["ホゲフガとは?"]
    top = {a["name"]: (a["count"], a["up"], a["down"]) for a in data["top_answers"]}
    assert top["アフターコールワーク"] == (2, 2, 0)
    day = today.isoformat()
    daily = {x["day"]: x for x in data["daily"]}
    assert daily[day]["answered_up"] == 2 and daily[day]["answered_down"] == 1
    assert daily[day]["unanswered"] == 1 and daily[day]["handoff"] == 1
    assert sum(map(sum, data["heatmap"])) == want["messages"]

    only_widget = kpi(report(boss, start, end, channel="socketio").json())
    assert only_widget["messages"]["value"] == 2 and only_widget["conversations"]["value"] == 1

    # the CSV: UTF-8 with a BOM, the same numbers
    csv = boss.get(f"/agent/api/analytics/export.csv?table=kpis&from={start}&to={end}")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith("\ufeff".encode())
    text = csv.content.decode("utf-8-sig")
    assert f"メッセージ数,messages,{want['messages']}," in text
    daily_csv = boss.get(f"/agent/api/analytics/export.csv?table=daily&from={start}&to={end}")
    assert daily_csv.status_code == 200 and day in daily_csv.content.decode("utf-8-sig")


def test_only_supervisors_see_analytics(abot, accounts):
    agent, boss = accounts
    assert agent.get("/agent/api/analytics?from=2026-01-01&to=2026-01-02").json() == {
        "error": "forbidden"
    }
    assert agent.get("/agent/api/analytics?from=2026-01-01&to=2026-01-02").status_code == 403
    assert (
        agent.get("/agent/api/analytics/export.csv?from=2026-01-01&to=2026-01-02").status_code
        == 403
    )
    assert agent.get("/agent/analytics").status_code == 403
    assert agent.get("/agent/api/me").json()["role"] == "agent"
    assert boss.get("/agent/api/me").json()["role"] == "supervisor"
    nobody = requests.get(
        abot.rasa_url + "/agent/api/analytics?from=2026-01-01&to=2026-01-02", timeout=10
    )
    assert nobody.status_code == 401
    page = requests.get(abot.rasa_url + "/agent/analytics", timeout=10, allow_redirects=False)
    assert page.status_code == 302
    ok = boss.get("/agent/analytics")
    assert ok.status_code == 200 and "分析ダッシュボード" in ok.text
    assert (
        "script-src" not in ok.headers["content-security-policy"]
        or "'unsafe-inline'" not in ok.text
    )
    assert boss.get("/agent/vendor/chart.umd.js").status_code == 200


@pytest.mark.parametrize(
    "query, reason",
    [
        ("", "from"),
        ("from=2026-01-01", "to"),
        ("from=2026-02-01&to=2026-01-01", "before"),
        ("from=2026-01-01&to=2029-01-01", "at most"),
        ("from=2026-02-30&to=2026-03-01", "from"),
        ("from=%27%3B--&to=2026-01-01", "from"),
        ("from=2026-01-01&to=2026-01-02&channel=" + "x" * 40, "channel"),
    ],
)
def test_bad_periods_are_400(abot, accounts, query, reason):
    _agent, boss = accounts
    r = boss.get(f"/agent/api/analytics?{query}")
    assert (
        r.status_code == 400 and r.json()["error"] == "bad_range" and reason in r.json()["reason"]
    )
    r = boss.get(f"/agent/api/analytics/export.csv?{query}")
    assert r.status_code == 400
    assert (
        boss.get(
            "/agent/api/analytics/export.csv?from=2026-01-01&to=2026-01-02&table=x"
        ).status_code
        == 400
    )
