"""Console log-in (assistant/livechat/console_auth.py): sessions stored as hashes, the
CSRF token, the audit log's rate limits on failed log-ins. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from assistant.livechat.console_auth import FAILURE_WINDOW, MAX_FAILURES, AuditLog, ConsoleSessions

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def test_sessions_store_only_a_hash_and_expire(agents, store):
    agents.add("sato", "password1")
    sessions = ConsoleSessions(store.engine)
    token, session = sessions.create("sato", now=T0)
    assert sessions.get(token, now=T0 + timedelta(hours=1)).username == "sato"
    assert sessions.get(token, now=T0 + timedelta(hours=13)) is None
    assert sessions.get("forged", now=T0) is None and sessions.get(None) is None
    with store.engine.begin() as conn:
        assert token not in str(conn.exec_driver_sql("SELECT * FROM handoff_agent_sessions").all())
    assert (
        session.csrf_ok(session.csrf_token)
        and not session.csrf_ok("")
        and not session.csrf_ok(None)
    )
    sessions.delete_for("sato")
    assert sessions.get(token, now=T0) is None


def test_failed_logins_are_rate_limited_per_name_and_address_then_released(store):
    audit = AuditLog(store.engine)
    for i in range(MAX_FAILURES):
        assert audit.login_retry_after("sato", "10.0.0.1", now=T0) == 0
        audit.record("login_failed", "sato", client="10.0.0.1", now=T0 + timedelta(seconds=i))
    wait = audit.login_retry_after("sato", "10.0.0.1", now=T0 + timedelta(seconds=10))
    assert 0 < wait <= FAILURE_WINDOW.total_seconds()
    # a stranger's failures do not lock sato out at another desk
    assert audit.login_retry_after("sato", "10.0.0.9", now=T0 + timedelta(seconds=10)) == 0
    assert audit.login_retry_after("tanaka", "10.0.0.9", now=T0 + timedelta(seconds=10)) == 0
    assert (
        audit.login_retry_after("sato", "10.0.0.1", now=T0 + FAILURE_WINDOW + timedelta(seconds=5))
        == 0
    )
    assert audit.count("login_failed") == MAX_FAILURES


def test_an_attempt_reserves_its_place_before_hashing(store):
    """Check and record are one step: attempts in flight count for the ones after them."""
    audit = AuditLog(store.engine)
    attempts = [audit.begin_login("sato", "10.0.0.1", now=T0) for _ in range(MAX_FAILURES + 3)]
    assert [wait == 0 for _, wait in attempts] == [True] * MAX_FAILURES + [False] * 3
    for attempt, _ in attempts[:MAX_FAILURES]:
        audit.finish_login(attempt, ok=False)
    assert audit.count("login_failed") == MAX_FAILURES and audit.count("login_attempt") == 0


def test_the_global_limit_spares_addresses_the_agent_used_before(store):
    from assistant.livechat.console_auth import MAX_FAILURES_PER_USER, normalize_username

    audit = AuditLog(store.engine)
    audit.record("login", "sato", client="10.0.0.1", now=T0 - timedelta(days=1))
    for i in range(MAX_FAILURES_PER_USER):  # a botnet: one failure from each address
        audit.record("login_failed", "sato", client=f"10.1.{i // 250}.{i % 250}", now=T0)
    assert audit.begin_login("sato", "10.9.9.9", now=T0)[1] > 0  # one more stranger: slowed down
    attempt, wait = audit.begin_login("sato", "10.0.0.1", now=T0)  # the agent's own desk
    assert wait == 0 and attempt is not None
    assert normalize_username(" sato\u3000") == normalize_username("sato\t") == "sato"
