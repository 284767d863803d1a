"""Two deployments (Rasa + action server each) sharing one PostgreSQL handoff database:
a term published through the first one's content studio is answered by the second
within 5 s, without a restart."""

from __future__ import annotations

import time
import uuid

import pytest

from devtools.console_client import Console, add_agent
from devtools.launch import MODEL, custom_payloads, start_servers
from tests.integration.conftest import hours_file
from tests.support.ci import unavailable
from tests.support.pg import fresh_pg_database


@pytest.fixture(scope="module")
def pg_url(pg_server_url):
    yield from fresh_pg_database(pg_server_url)


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory, pg_url):
    if not MODEL.exists():
        unavailable("no trained model")
    started = []
    try:
        for name in ("one", "two"):
            workdir = tmp_path_factory.mktemp(f"pg-{name}")
            started.append(
                start_servers(
                    workdir=workdir,
                    env_extra={
                        "HANDOFF_DB_URL": pg_url,
                        "HANDOFF_HOURS_FILE": str(hours_file(workdir / "open.yml", True)),
                    },
                )
            )
        yield started
    finally:
        for s in started:
            s.stop()


def ask(bot, text):
    p = custom_payloads(bot.say(f"pg-{uuid.uuid4().hex[:8]}", text))
    return p[0] if p else {}


def test_a_term_published_on_one_server_is_answered_by_the_other(two_servers):
    one, two = two_servers
    assert ask(two, "WFMとは?")["kind"] == "unknown_term"
    editor = Console(one.rasa_url)
    assert (
        editor.login(
            "pg_editor", add_agent(one.env, "pg_editor", "編集", role="editor")
        ).status_code
        == 200
    )
    definition = "需要を予測して必要な人員を計画し、シフトを管理する仕組みです。"
    r = editor.post(
        "/agent/api/content/publish",
        {
            "changes": [
                {
                    "kind": "term",
                    "data": {
                        "term": "WFM",
                        "reading": "だぶりゅーえふえむ",
                        "category": "システム",
                        "aliases": ["ワークフォースマネジメント"],
                        "related": [],
                        "definitions": [{"text": definition, "source": "editor"}],
                    },
                }
            ]
        },
        timeout=180,
    )
    assert r.status_code == 200, r.text
    published = time.monotonic()
    while True:
        p = ask(two, "WFMとは?")
        if p.get("term") == "WFM":
            break
        assert time.monotonic() - published < 5, f"server two still answers {p}"
        time.sleep(0.2)
    print(f"published on one → answered by two: {time.monotonic() - published:.2f} s")
    assert p["definitions"] == [definition]
    assert ask(two, "ワークフォースマネジメントの意味は?").get("term") == "WFM"
