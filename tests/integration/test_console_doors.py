"""The console's doors (issue 16, item 6), each found by an attack run against a
running instance, each tested here against the real servers (Rasa + action server).

The servers listen on loopback, which counts as the trusted balancer: every test
sends its own ``X-Forwarded-For`` address, as the balancer would, so the tests'
counters do not mix (and that header being honoured is itself tested)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from assistant.livechat.console_auth import (
    MAX_FAILURES,
    MAX_FAILURES_PER_CLIENT,
    MAX_FAILURES_PER_USER,
)
from devtools.console_client import Console, add_agent
from devtools.launch import MODEL, REPO, start_servers
from tests.integration.conftest import hours_file
from tests.support.ci import unavailable
from tests.support.tracker import events
from tests.support.widget_client import Customer

SECRET = "doors-test-secret"
PASSWORD = "password-123"


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    if not MODEL.exists():
        unavailable("no trained model (make train)")
    workdir = tmp_path_factory.mktemp("doors")
    servers = start_servers(
        workdir=workdir,
        env_extra={
            "HANDOFF_HOURS_FILE": str(hours_file(workdir / "open.yml", True)),
            "CHAT_SESSION_SECRET": SECRET,
            "CONSOLE_HASH_WORKERS": "1",
            "CONSOLE_HASH_QUEUE": "4",
            "HANDOFF_MAX_TICKETS_PER_CLIENT": "3",
        },
    )
    yield servers
    servers.stop()


class Door(Console):
    """A console client behind the balancer: every request carries its address."""

    def __init__(self, base_url: str, address: str, proto: str | None = None):
        super().__init__(base_url)
        self.http.headers["X-Forwarded-For"] = address
        if proto:
            self.http.headers["X-Forwarded-Proto"] = proto


def address() -> str:
    n = uuid.uuid4().int
    return f"198.51.{n % 250}.{(n >> 8) % 250 + 1}"


def agent(bot, name: str | None = None) -> str:
    name = name or f"a{uuid.uuid4().hex[:8]}"
    add_agent(bot.env, name, name, PASSWORD)
    return name


# -- log-in counters -----------------------------------------------------------------------


def test_a_padded_username_shares_the_counter(bot):
    dave, where = agent(bot), address()
    door = Door(bot.rasa_url, where)
    variants = [
        f" {dave}",
        f"{dave}\t",
        f"{dave}\u3000",
        dave.upper().translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)}).lower(),
        dave,
    ]
    codes = [door.login(v, "wrong-password").status_code for v in variants[:MAX_FAILURES]]
    assert codes == [401] * MAX_FAILURES
    assert door.login(f"{dave}\u3000", PASSWORD).status_code == 429  # was 200 while dave was locked
    assert door.login(dave, PASSWORD).status_code == 429


def test_parallel_wrong_passwords_are_counted_before_they_are_hashed(bot):
    erin, where = agent(bot), address()
    doors = [Door(bot.rasa_url, where) for _ in range(60)]
    for d in doors:  # the log-in page's CSRF cookie first
        d.http.get(f"{bot.rasa_url}/agent/login", timeout=10)

    def attempt(d: Door) -> int:
        token = d.http.cookies.get("cc_login_csrf", path="/agent") or ""
        return d.http.post(
            f"{bot.rasa_url}/agent/login",
            json={"username": erin, "password": "nope"},
            headers={"X-CSRF-Token": token},
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(60) as pool:
        codes = list(pool.map(attempt, doors))
    assert codes.count(401) <= MAX_FAILURES, codes  # was 60 × 401
    assert codes.count(429) >= 60 - MAX_FAILURES


def test_forwarded_for_from_the_balancer_gives_each_client_its_own_counter(bot):
    attacker, colleague = address(), address()
    bad = Door(bot.rasa_url, attacker)
    for i in range(MAX_FAILURES_PER_CLIENT):  # many usernames from one address
        assert bad.login(f"nobody{i}-{uuid.uuid4().hex[:4]}", "x").status_code == 401
    assert bad.login("nobody-else", "x").status_code == 429
    real = agent(bot)
    assert Door(bot.rasa_url, colleague).login(real, PASSWORD).status_code == 200  # was 429 for all


def test_a_stranger_cannot_lock_an_agent_out(bot):
    frank, desk, stranger = agent(bot), address(), address()
    assert Door(bot.rasa_url, desk).login(frank, PASSWORD).status_code == 200
    bad = Door(bot.rasa_url, stranger)
    assert [bad.login(frank, "wrong").status_code for _ in range(MAX_FAILURES)] == [
        401
    ] * MAX_FAILURES
    assert bad.login(frank, PASSWORD).status_code == 429  # the stranger's address is slowed down …
    assert Door(bot.rasa_url, address()).login(frank, PASSWORD).status_code == 200  # … frank is not


def test_the_global_back_off_spares_the_agents_own_desk(bot):
    grace, desk = agent(bot), address()
    assert Door(bot.rasa_url, desk).login(grace, PASSWORD).status_code == 200
    with ThreadPoolExecutor(4) as pool:  # a botnet: one wrong password from each of many addresses
        codes = list(
            pool.map(
                lambda _: Door(bot.rasa_url, address()).login(grace, "wrong").status_code,
                range(MAX_FAILURES_PER_USER),
            )
        )
    assert set(codes) <= {401, 429}
    assert (
        Door(bot.rasa_url, address()).login(grace, PASSWORD).status_code == 429
    )  # new address: wait
    assert Door(bot.rasa_url, desk).login(grace, PASSWORD).status_code == 200  # her desk: in


# -- hashing does not slow the customers -----------------------------------------------------


def test_argon2_runs_on_its_own_bounded_pool(bot):
    """40 parallel bad log-ins (each under every limit): hashing is capped at 1 worker + 4
    waiting, the rest is refused at once, and customers' REST replies stay fast."""
    sender = f"doors-{uuid.uuid4().hex[:8]}"

    def rest_ms() -> float:
        t = time.perf_counter()
        requests.post(
            bot.rest_url, json={"sender": sender, "message": "ACWとは?"}, timeout=60
        ).raise_for_status()
        return (time.perf_counter() - t) * 1000

    baseline = statistics.median(rest_ms() for _ in range(5))
    doors = [Door(bot.rasa_url, address()) for _ in range(40)]
    for d in doors:
        d.http.get(f"{bot.rasa_url}/agent/login", timeout=10)
    codes: list[tuple[int, str]] = []

    def flood() -> None:
        def one(d: Door) -> tuple[int, str]:
            token = d.http.cookies.get("cc_login_csrf", path="/agent") or ""
            r = d.http.post(
                f"{bot.rasa_url}/agent/login",
                json={"username": f"x{uuid.uuid4().hex[:6]}", "password": "nope"},
                headers={"X-CSRF-Token": token},
                timeout=120,
            )
            return r.status_code, r.json().get("error", "")

        with ThreadPoolExecutor(40) as pool:
            codes.extend(pool.map(one, doors))

    attack = threading.Thread(target=flood)
    attack.start()
    during = [rest_ms() for _ in range(5)]
    attack.join()
    print(
        f"REST median {baseline:.0f} ms alone, {statistics.median(during):.0f} ms during 40 log-ins"
    )
    assert (429, "busy") in codes, codes  # beyond the pool's queue: refused at once
    assert {c for c, _ in codes} <= {401, 429}
    assert statistics.median(during) < max(1000.0, 4 * baseline)  # was 1.5-2.9 s


# -- sessions and cookies ----------------------------------------------------------------------


def _open_stream(door: Door, bot) -> tuple[threading.Event, list[Any]]:
    ended, lines = threading.Event(), []

    def read() -> None:
        try:
            with door.http.get(f"{bot.rasa_url}/agent/api/events", stream=True, timeout=60) as r:
                for line in r.iter_lines(decode_unicode=True):
                    lines.append(line)
        except requests.RequestException:
            pass
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 10
    while not lines and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lines, "the event stream did not open"
    return ended, lines


def test_the_event_stream_closes_on_log_out(bot):
    name = agent(bot)
    door = Door(bot.rasa_url, address())
    assert door.login(name, PASSWORD).status_code == 200
    ended, lines = _open_stream(door, bot)
    assert door.post("/agent/logout").status_code == 200
    assert ended.wait(10), "the stream kept going after log-out"
    assert "event: logged_out" in lines


def test_the_event_stream_closes_when_the_account_is_disabled(bot):
    name = agent(bot)
    door = Door(bot.rasa_url, address())
    assert door.login(name, PASSWORD).status_code == 200
    ended, _ = _open_stream(door, bot)
    subprocess.run(
        [sys.executable, "-m", "assistant.livechat.agents_cli", "disable", name],
        env=bot.env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    assert ended.wait(15), "the stream kept going after disable"


def test_cookies_are_secure_behind_https_and_cleared_on_log_out(bot):
    name = agent(bot)
    plain = Door(bot.rasa_url, address())
    r = plain.login(name, PASSWORD)
    assert r.status_code == 200 and "secure" not in r.headers["set-cookie"].lower()
    # Behind the balancer's HTTPS (X-Forwarded-Proto from a trusted peer). The client
    # here speaks plain HTTP, so the cookies are sent by hand.
    headers = {"X-Forwarded-For": address(), "X-Forwarded-Proto": "https"}
    page = requests.get(f"{bot.rasa_url}/agent/login", headers=headers, timeout=10)
    login_csrf = page.cookies.get("cc_login_csrf")
    assert "secure" in page.headers["set-cookie"].lower()
    r = requests.post(
        f"{bot.rasa_url}/agent/login",
        json={"username": name, "password": PASSWORD},
        headers={**headers, "X-CSRF-Token": login_csrf, "Cookie": f"cc_login_csrf={login_csrf}"},
        timeout=10,
    )
    assert r.status_code == 200
    session = next(c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("cc_agent="))
    assert "Secure" in session and "HttpOnly" in session and "Path=/agent" in session
    token = r.cookies.get("cc_agent")
    me = requests.get(
        f"{bot.rasa_url}/agent/api/me",
        headers={**headers, "Cookie": f"cc_agent={token}"},
        timeout=10,
    ).json()
    out = requests.post(
        f"{bot.rasa_url}/agent/logout",
        headers={**headers, "Cookie": f"cc_agent={token}", "X-CSRF-Token": me["csrf_token"]},
        timeout=10,
    )
    assert out.status_code == 200
    cleared = out.raw.headers.getlist("Set-Cookie")
    for cookie in ("cc_agent", "cc_login_csrf"):
        c = next(c for c in cleared if c.startswith(cookie + "="))
        assert "Max-Age=0" in c and "Path=/agent" in c, c
    assert (
        requests.get(
            f"{bot.rasa_url}/agent/api/me", headers={"Cookie": f"cc_agent={token}"}, timeout=10
        ).status_code
        == 401
    )


# -- customer channels -----------------------------------------------------------------------------


def test_socketio_metadata_has_a_size_limit(bot):
    customer = Customer(bot.rasa_url)
    try:
        customer.sio.emit(
            "user_uttered",
            {
                "message": "ACWとは?",
                "session_id": customer.session_id,
                "metadata": {"blob": "x" * 900_000},
            },
        )
        customer.wait_for("definition")
        customer.sio.emit(
            "user_uttered",
            {
                "message": "CRMとは?",
                "session_id": customer.session_id,
                "metadata": {"page": "/faq"},
            },
        )
        customer.wait_for("definition", 2)
        time.sleep(0.5)
        users = [e for e in events(bot.workdir, customer.session_id) if e.get("event") == "user"]
        assert "blob" not in (users[0].get("metadata") or {})  # was 900 kB in the tracker
        assert (users[1].get("metadata") or {}).get("page") == "/faq"
    finally:
        customer.close()


def test_agent_messages_cursor_and_rate_limit(bot):
    url = f"{bot.rasa_url}/webhooks/rest/agent_messages"
    for after in ("9" * 30, "-1", "1e9", "１", "x"):
        r = requests.get(url, params={"sender": "someone", "after": after}, timeout=10)
        assert r.status_code == 400, (after, r.status_code)  # 9…9 was a 500
    where = address()
    codes = [
        requests.get(
            url,
            params={"sender": f"poll-{where}", "after": "0"},
            headers={"X-Forwarded-For": where},
            timeout=10,
        ).status_code
        for _ in range(40)
    ]
    assert codes.count(200) >= 1 and codes.count(429) >= 1, codes  # was 40 × 200
    assert (
        int(
            requests.get(
                url,
                params={"sender": f"poll-{where}"},
                headers={"X-Forwarded-For": where},
                timeout=10,
            ).headers["Retry-After"]
        )
        > 0
    )


def _legacy_token(session_id: str) -> str:
    mac = hmac.new(SECRET.encode(), session_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _token(session_id: str, issued: int) -> str:
    mac = hmac.new(SECRET.encode(), f"{session_id}|{issued}".encode(), hashlib.sha256).digest()
    return f"{issued}." + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def test_widget_session_tokens_expire_and_rotate(bot):
    first = Customer(bot.rasa_url)
    sid, token = first.session_id, first.token
    first.close()
    again = Customer(bot.rasa_url, sid, token)  # fresh: same session, same token
    assert (again.session_id, again.token) == (sid, token)
    again.close()
    hours_ago = Customer(bot.rasa_url, sid, _token(sid, int(time.time()) - 2 * 3600))
    assert hours_ago.session_id == sid and hours_ago.token != _token(
        sid, int(time.time()) - 2 * 3600
    )
    hours_ago.close()  # rotated: a new token for the same session
    expired = Customer(bot.rasa_url, sid, _token(sid, int(time.time()) - 8 * 24 * 3600))
    assert expired.session_id != sid  # a week-old pair reads nothing
    expired.close()
    legacy = Customer(bot.rasa_url, sid, _legacy_token(sid))
    assert legacy.session_id != sid  # tokens without a time never expired: refused
    legacy.close()


def test_one_client_cannot_open_ticket_after_ticket(bot):
    """A new sender id per message used to open 120 tickets a minute from one address."""
    from assistant.handoff.tickets import TicketStore

    store = TicketStore(bot.env["HANDOFF_DB_URL"])
    try:
        where = address()

        def ask(sender: str, at: str) -> list[str]:
            r = requests.post(
                bot.rest_url,
                json={"sender": sender, "message": "オペレーターと話したい"},
                headers={"X-Forwarded-For": at},
                timeout=30,
            )
            r.raise_for_status()
            return [m["custom"]["kind"] for m in r.json() if isinstance(m.get("custom"), dict)]

        senders = [f"cap-{uuid.uuid4().hex[:8]}" for _ in range(4)]
        assert ["handoff" in ask(s, where) for s in senders] == [True, True, True, False]
        assert "rate_limited" in ask(f"cap-{uuid.uuid4().hex[:8]}", where)
        assert store.open_for_sender(senders[3]) is None  # no ticket, so no webhook either
        assert "handoff" in ask(f"cap-{uuid.uuid4().hex[:8]}", address())  # another client: fine
        assert "handoff_message" in ask(
            senders[0], where
        )  # a sender with a ticket still reaches it
    finally:
        store.dispose()
