"""channels/line_api.py against the stand-in of LINE's API (tests/support/line_api.py):
auth, retries, retry keys, ambiguous replies, quota, loading animation."""

from __future__ import annotations

import asyncio

import pytest

from channels.line_api import LineApi
from tests.support.line_api import LineStandIn

TEXT = [{"type": "text", "text": "こんにちは"}]


@pytest.fixture
def line():
    s = LineStandIn("token").start()
    yield s
    s.stop()


def run(line, fn, token="token", timeout=2.0):
    async def go():
        api = LineApi(token, line.url, timeout=timeout, backoff=0.01)
        try:
            return await fn(api)
        finally:
            await api.close()

    return asyncio.run(go())


def test_reply_once_then_the_token_is_spent(line):
    token = line.reply_token()
    first = run(line, lambda api: api.reply(token, TEXT))
    second = run(line, lambda api: api.reply(token, TEXT))
    assert first.ok and not first.ambiguous
    assert second.invalid_token and not second.ambiguous  # a clear refusal: pushing is safe
    assert len(line.sent("reply")) == 1


def test_a_wrong_access_token_is_401(line):
    assert run(line, lambda api: api.reply(line.reply_token(), TEXT), token="wrong").status == 401


def test_a_lost_reply_answer_is_retried_and_reported_ambiguous(line):
    line.fail("reply", 500, after_accepting=True)
    result = run(line, lambda api: api.reply(line.reply_token(), TEXT))
    assert result.ambiguous and result.invalid_token and result.attempts == 2
    assert len(line.sent("reply")) == 1  # delivered exactly once


def test_a_5xx_before_accepting_is_retried_and_delivered(line):
    line.fail("reply", 503)
    result = run(line, lambda api: api.reply(line.reply_token(), TEXT))
    assert result.ok and result.attempts == 2 and len(line.sent("reply")) == 1


def test_a_timeout_is_ambiguous(line):
    line.fail("reply", "timeout", times=3)
    result = run(line, lambda api: api.reply(line.reply_token(), TEXT), timeout=0.3)
    assert result.status is None and result.ambiguous and result.attempts == 3


def test_push_retries_with_the_same_key_and_409_is_success(line):
    line.fail("push", 500, after_accepting=True)
    result = run(line, lambda api: api.push("U1", TEXT, "8a1e0d1c-0000-5000-8000-000000000001"))
    assert (result.ok or result.already_accepted) and not result.ambiguous
    assert len(line.sent("push")) == 1
    keys = {c.headers["X-Line-Retry-Key"] for c in line.calls if c.kind.startswith("push")}
    assert keys == {"8a1e0d1c-0000-5000-8000-000000000001"}


def test_an_exhausted_quota_is_not_retried(line):
    line.quota = 0
    result = run(line, lambda api: api.push("U1", TEXT, "8a1e0d1c-0000-5000-8000-000000000002"))
    assert result.quota_exhausted and result.attempts == 1 and not line.sent("push")


def test_too_many_messages_are_refused_by_the_stand_in(line):
    result = run(line, lambda api: api.push("U1", TEXT * 6, "8a1e0d1c-0000-5000-8000-000000000003"))
    assert result.status == 400 and result.attempts == 1


def test_loading_animation_and_quota(line):
    assert run(line, lambda api: api.loading("U1", 7)).ok
    assert line.sent("loading")[0].body == {"chatId": "U1", "loadingSeconds": 10}
    line.quota = 10
    run(line, lambda api: api.push("U1", TEXT, "8a1e0d1c-0000-5000-8000-000000000004"))
    assert run(line, lambda api: api.quota()) == {"type": "limited", "value": 10, "used": 1}
