"""Roll-ups give the same numbers as the formulas on the raw records (SQLite and
PostgreSQL); bad periods are refused with a reason."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from assistant.outcomes.kpi import Summary, kpis, summarize_day
from assistant.outcomes.log import OutcomeLog
from assistant.outcomes.rollup import Analytics, BadRange, check_range, is_final

from .test_kpi import DAY, T0

NOW = T0 + timedelta(days=10)


def shifted(records, days):
    from dataclasses import replace

    return [
        replace(
            r,
            at=r.at + timedelta(days=days),
            conversation=f"{r.conversation}-{days}" if days % 2 else r.conversation,
        )
        for r in records
    ]


@pytest.fixture
def filled(engine):
    log = OutcomeLog(engine, flush_seconds=10)
    recs = DAY + shifted(DAY, 1) + shifted(DAY, 2)
    log.write(recs)
    return recs


def test_report_equals_the_formulas_on_raw_records(engine, filled):
    a = Analytics(engine, refresh_seconds=0)
    rep = a.report("2026-12-01", "2026-12-03", now=NOW)
    expected = Summary()
    by_day: dict[str, list[Any]] = {}
    for r in filled:
        by_day.setdefault(r.day, []).append(r)
    for day, rs in sorted(by_day.items()):
        nxt: dict[Any, Any] = {}
        for r in by_day.get(
            (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat(), []
        ):
            if r.kind == "turn":
                nxt[r.conversation] = min(nxt.get(r.conversation, r.at), r.at)
        for part in summarize_day(rs, nxt, NOW).values():
            expected.add(part)
    users = len({r.conversation for r in filled if r.kind == "turn"})
    assert rep.users == users == 16  # days 1 and 3 share conversation ids, day 2 has its own
    assert rep.kpis == kpis(expected, users)
    assert rep.total.misses == expected.misses and rep.total.answers == expected.answers
    d = rep.as_dict()
    assert [x["day"] for x in d["daily"]] == ["2026-12-01", "2026-12-02", "2026-12-03"]
    assert sum(x["messages"] for x in d["daily"]) == 42
    assert sum(map(sum, d["heatmap"])) == 42
    assert {c["channel"]: c["messages"] for c in d["channels"]} == {"rest": 33, "socketio": 9}
    assert d["top_unanswered"][0]["count"] == 3
    assert {u["example"] for u in d["top_unanswered"]} == {"AHTとは?", "ぽにょ", "天気は?"}
    # day 1's conversations came back on day 2? Only day 3 reuses day 1's ids, after 48 h.
    assert rep.built_days == 3
    assert a.report("2026-12-01", "2026-12-03", now=NOW).built_days == 0  # final: kept


def test_channel_filter(engine, filled):
    a = Analytics(engine, refresh_seconds=0)
    rep = a.report("2026-12-01", "2026-12-03", channel="socketio", now=NOW)
    assert rep.total.messages == 9 and rep.users == 2
    assert rep.total.questions == 6


def test_empty_period(engine):
    a = Analytics(engine, refresh_seconds=0)
    rep = a.report("2025-01-01", "2025-01-31", now=NOW)
    assert rep.total.messages == 0 and rep.users == 0
    assert {k["key"]: k["value"] for k in rep.kpis}["answer_rate"] is None
    assert len(rep.as_dict()["daily"]) == 31


def test_days_not_final_are_rebuilt(engine):
    log = OutcomeLog(engine, flush_seconds=10)
    a = Analytics(engine, refresh_seconds=0)
    now = T0 + timedelta(hours=1)
    log.write(DAY[:1])
    assert a.report("2026-12-01", "2026-12-01", now=now).total.messages == 1
    log.write(DAY[1:3])
    assert a.report("2026-12-01", "2026-12-01", now=now).total.messages == 2
    cached = Analytics(engine, refresh_seconds=3600)
    log.write(DAY[3:4])
    assert cached.report("2026-12-01", "2026-12-01", now=now).total.messages == 2  # within refresh
    a.invalidate()
    assert cached.report("2026-12-01", "2026-12-01", now=now).total.messages == 3


@pytest.mark.parametrize(
    "day_from, day_to, message",
    [
        (None, "2026-12-01", "from"),
        ("2026-12-01", "", "to"),
        ("2026-13-01", "2026-12-01", "from"),
        ("20261201", "2026-12-02", "from"),
        ("2026-12-02", "2026-12-01", "before"),
        ("2020-01-01", "2026-12-01", "at most"),
        ("2026-12-01'; drop", "2026-12-01", "from"),
    ],
)
def test_bad_ranges(day_from, day_to, message):
    with pytest.raises(BadRange, match=message):
        check_range(day_from, day_to)


def test_final_days():
    jst = timezone(timedelta(hours=9))
    assert not is_final("2026-12-01", datetime(2026, 12, 2, 23, 59, tzinfo=jst))
    assert is_final("2026-12-01", datetime(2026, 12, 3, 0, 0, tzinfo=jst))


# -- CSV export and the terminal report ------------------------------------------------


@pytest.mark.parametrize(
    "cell, safe",
    [
        ("=1+1", "'=1+1"),
        ("+81 3", "'+81 3"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("ACWとは?", "ACWとは?"),
        (3, 3),
        (-1, -1),
        (None, ""),
    ],
)
def test_csv_cells_never_start_a_formula(cell, safe):
    from assistant.outcomes.export import safe_cell

    assert safe_cell(cell) == safe


def test_csv_has_a_bom_and_crlf():
    import csv
    import io

    from assistant.outcomes.export import to_csv

    data = to_csv(["質問", "件数"], [['=HYPERLINK("http://x")', 2], ["改行\nあり", 1]])
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows == [["質問", "件数"], ['\'=HYPERLINK("http://x")', "2"], ["改行\nあり", "1"]]


def test_report_cli(engine, filled, db_url, monkeypatch, capsys):
    from assistant.outcomes import cli

    monkeypatch.setenv("HANDOFF_DB_URL", db_url)
    assert cli.main(["--from", "2026-12-01", "--to", "2026-12-03"]) == 0
    out = capsys.readouterr().out
    assert "メッセージ数" in out and "42" in out and "回答率" in out and "AHTとは?" in out
    assert cli.main(["--from", "2026-12-03", "--to", "2026-12-01"]) == 2
    assert "to is before from" in capsys.readouterr().err
    assert cli.main(["--from", "2026-12-01", "--to", "2026-12-03", "--csv", "daily"]) == 0


def test_stale_days_are_refreshed_after_the_report(engine):
    """Today's roll-up older than the refresh: the report answers from it at once and a
    thread rebuilds it (stale while revalidating)."""
    log = OutcomeLog(engine, flush_seconds=10)
    now = T0 + timedelta(hours=1)
    log.write(DAY[:1])
    a = Analytics(engine, refresh_seconds=0.001)
    assert a.report("2026-12-01", "2026-12-01", now=now).total.messages == 1
    log.write(DAY[1:3])
    later = now + timedelta(seconds=1)
    # the old roll-up, unless the thread was quicker than this report
    assert a.report("2026-12-01", "2026-12-01", now=later).total.messages in (1, 2)
    deadline = time.monotonic() + 10
    while a.report("2026-12-01", "2026-12-01", now=later).total.messages != 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_prebuild_builds_missing_days(engine):
    log = OutcomeLog(engine, flush_seconds=10)
    log.write(DAY)
    a = Analytics(engine, refresh_seconds=60)
    assert a.prebuild(days_back=3, now=T0 + timedelta(days=1)) == 3  # Nov 30 (empty), Dec 1, Dec 2
    assert a.report("2026-11-30", "2026-12-02", now=T0 + timedelta(days=1)).built_days == 0


def test_user_ids_are_64_bit_hashes():
    from assistant.outcomes.rollup import uid

    assert uid("ws-abc") == uid("ws-abc") != uid("ws-abd")
    assert -(2**63) <= uid("x" * 500) < 2**63
