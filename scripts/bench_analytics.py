"""Analytics bench (part of `make bench`; alone: `make bench-analytics`).

1. Hot path: what the action server adds to a turn for the outcome log
   (actions/outcomes.turn: the record built from the router's decision, queued), and a
   👍 turn (which also reads the tracker for the rated answer), per message.
2. Scale: the deterministic synthetic log (assistant/outcomes/synthetic.py: 30 days,
   1,000,000 messages) loaded into the handoff database on SQLite and on PostgreSQL
   (a throwaway server, scripts/pg_test_server.sh), then the dashboard's report
   (/agent/api/analytics) over the 30 days: cold (roll-ups built), warm (roll-ups read),
   by channel, and one busy day's roll-up rebuilt (what a refresh of today costs).

    python scripts/bench_analytics.py [--messages 1000000] [--days 30] [--no-pg] [--no-hot]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

FIRST_DAY = date(2026, 11, 1)
COLUMNS = [
    "at",
    "day",
    "hour",
    "kind",
    "conversation",
    "channel",
    "decision",
    "detail",
    "term",
    "faq_id",
    "confidence",
    "latency_ms",
    "question",
    "normalized",
    "message_id",
    "ticket_id",
    "agent",
    "value",
    "after_answer",
]


def hot_path(n: int = 20_000) -> list[tuple[str, float, float, float]]:
    """Microseconds per call of what a turn adds, with the writer thread running:
    (what, p50 µs, p99 µs, mean µs)."""
    tmp = tempfile.mkdtemp(prefix="bench-outcomes-")
    os.environ["HANDOFF_DB_URL"] = f"sqlite:///{tmp}/handoff.db"
    os.environ["OUTCOME_FLUSH_SECONDS"] = "1.0"  # as served: the writer thread inserts every second
    from rasa_sdk import Tracker

    from actions import outcomes, services
    from actions.turn import Turn
    from assistant import routing
    from assistant.question import Subject

    log = services.outcomes()
    log.max_queue = 10**9
    events: list[dict[str, Any]] = []
    for i in range(20):  # a 20-message conversation
        events += [
            {
                "event": "user",
                "text": "ACWとは?",
                "message_id": f"m{i}",
                "timestamp": time.time(),
                "input_channel": "rest",
            },
            {"event": "action", "name": "action_route"},
            {
                "event": "bot",
                "text": "…",
                "data": {"custom": {"kind": "definition", "term": "アフターコールワーク"}},
            },
        ]
    events.append(
        {
            "event": "user",
            "text": "/feedback_positive",
            "message_id": "fb",
            "timestamp": time.time(),
            "input_channel": "rest",
        }
    )
    tracker = Tracker(
        "bench",
        {},
        {"text": "ACWとは?", "intent": {"name": "define_term"}},
        events,
        False,
        None,
        {},
        "action_listen",
    )
    facts = routing.RoutingInput(text="ACWとは?", intent="define_term", intent_confidence=0.97)
    # content=None: the outcome log reads only the decision and the tracker,
    # not the content revision
    answer = Turn(
        facts,
        routing.Decision(routing.Route.DEFINITION, (Subject("ACW", "アフターコールワーク"),)),
        None,  # type: ignore[arg-type]
    )
    thumbs = Turn(
        routing.RoutingInput(
            text="/feedback_positive", intent="feedback_positive", intent_confidence=1.0
        ),
        routing.Decision(routing.Route.SMALL_TALK, small_talk="feedback_thanks"),
        None,  # type: ignore[arg-type]
    )
    out = []
    for name, turn in (
        ("answer turn (record queued)", answer),
        ("👍 turn (+ rated answer from the tracker)", thumbs),
    ):
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            outcomes.turn(turn, tracker)
            times.append((time.perf_counter() - t0) * 1e6)
            time.sleep(0.00005)  # ~20,000 messages/s: the writer keeps up, as when serving
        times.sort()
        out.append(
            (name, times[len(times) // 2], times[int(len(times) * 0.99)], statistics.fmean(times))
        )
    log.flush()
    # the writer's side, for the record: one batched insert of 500 rows
    from assistant.outcomes.records import Outcome

    rows = [
        Outcome(
            datetime.now(timezone.utc),
            "turn",
            f"c{i}",
            "rest",
            "definition",
            term="ACW",
            question="ACWとは?",
        )
        for i in range(500)
    ]
    t0 = time.perf_counter()
    log.write(rows)
    per_row = (time.perf_counter() - t0) * 1e6 / 500
    out.append(
        (
            "writer thread (not the turn): 500 rows in one INSERT, per row",
            per_row,
            float("nan"),
            float("nan"),
        )
    )
    services.reset()
    return out


def load(url: str, days: int, messages: int) -> tuple[int, int, float]:
    """Insert the synthetic log; (turns, rows, seconds)."""
    from assistant.handoff.db import create_schema, make_engine
    from assistant.outcomes import rollup  # noqa: F401  (tables)
    from assistant.outcomes.synthetic import generate

    engine = make_engine(url)
    create_schema(engine)
    t0 = time.perf_counter()
    turns = rows = 0
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("BEGIN")
            batch = []
            for r in generate(days, messages, FIRST_DAY):
                turns += r["kind"] == "turn"
                rows += 1
                r = dict(r, at=r["at"].replace(tzinfo=None).isoformat(sep=" "))
                batch.append(tuple(r[c] for c in COLUMNS))
                if len(batch) >= 20_000:
                    cur.executemany(
                        f"INSERT INTO analytics_outcomes ({','.join(COLUMNS)}) VALUES "
                        f"({','.join('?' * len(COLUMNS))})",
                        batch,
                    )
                    batch = []
            if batch:
                cur.executemany(
                    f"INSERT INTO analytics_outcomes ({','.join(COLUMNS)}) VALUES "
                    f"({','.join('?' * len(COLUMNS))})",
                    batch,
                )
            cur.execute("COMMIT")
        else:
            buf = io.StringIO()

            def flush() -> None:
                buf.seek(0)
                cur.copy_expert(
                    f"COPY analytics_outcomes ({','.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)",
                    buf,
                )
                buf.seek(0)
                buf.truncate()

            import csv

            w = csv.writer(buf)
            for r in generate(days, messages, FIRST_DAY):
                turns += r["kind"] == "turn"
                rows += 1
                w.writerow(
                    [
                        "" if r[c] is None else (r[c].isoformat() if c == "at" else r[c])
                        for c in COLUMNS
                    ]
                )
                if rows % 50_000 == 0:
                    flush()
            flush()
            raw.commit()
            cur.execute("ANALYZE analytics_outcomes")
            raw.commit()
    finally:
        raw.close()
    engine.dispose()
    return turns, rows, time.perf_counter() - t0


def dashboard(url: str, days: int) -> list[tuple[str, float]]:
    from assistant.handoff.db import make_engine
    from assistant.outcomes.rollup import Analytics

    engine = make_engine(url)
    a = Analytics(engine)
    day_from = FIRST_DAY.isoformat()
    day_to = (FIRST_DAY + timedelta(days=days - 1)).isoformat()
    now = datetime.combine(FIRST_DAY + timedelta(days=days + 3), datetime.min.time(), timezone.utc)
    out = []
    t0 = time.perf_counter()
    rep = a.report(day_from, day_to, now=now)
    rep.as_dict()
    out.append(("report, cold: every day's roll-up built", time.perf_counter() - t0))
    warm = []
    for _ in range(5):
        t0 = time.perf_counter()
        rep = a.report(day_from, day_to, now=now)
        rep.as_dict()
        warm.append(time.perf_counter() - t0)
    out.append(("report, warm (median of 5)", statistics.median(warm)))
    t0 = time.perf_counter()
    a.report(day_from, day_to, channel="socketio", now=now).as_dict()
    out.append(("report, one channel", time.perf_counter() - t0))
    busiest = max(rep.daily.items(), key=lambda kv: kv[1].messages)[0]
    t0 = time.perf_counter()
    a.build_day(busiest, now)
    out.append(
        (
            f"rebuild one day's roll-up ({rep.daily[busiest].messages:,} messages,"
            " a refresh of today)",
            time.perf_counter() - t0,
        )
    )
    out.append(
        (f"(messages in the report: {rep.total.messages:,}, users {rep.users:,})", float("nan"))
    )
    engine.dispose()
    return out


def pg_server() -> tuple[str | None, dict]:
    state = tempfile.mkdtemp(prefix="bench-analytics-pg-")
    env = dict(os.environ, PG_TEST_DIR=state)
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "pg_test_server.sh"), "start"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        print("PostgreSQL unavailable:", proc.stderr.strip()[-500:])
        return None, env
    return proc.stdout.strip().splitlines()[-1], env


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--messages", type=int, default=1_000_000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--no-pg", action="store_true")
    p.add_argument("--no-hot", action="store_true")
    args = p.parse_args()
    if not args.no_hot:
        print("\n| outcome log on the hot path | p50 µs | p99 µs | mean µs |\n|---|---|---|---|")
        for name, p50, p99, mean in hot_path():
            cells = ["" if v != v else f"{v:.1f}" for v in (p50, p99, mean)]
            print(f"| {name} | " + " | ".join(cells) + " |")
    results: dict[str, list[tuple[str, float]]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench-analytics-"))
    backends = [("SQLite", f"sqlite:///{tmp / 'handoff.db'}")]
    pg_env = None
    if not args.no_pg:
        admin, pg_env = pg_server()
        if admin:
            from sqlalchemy import create_engine
            from sqlalchemy.engine import make_url

            name = f"bench_{uuid.uuid4().hex[:8]}"
            with create_engine(admin, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            backends.append(
                (
                    "PostgreSQL",
                    make_url(admin).set(database=name).render_as_string(hide_password=False),
                )
            )
    try:
        for label, url in backends:
            turns, rows, secs = load(url, args.days, args.messages)
            results[label] = [
                (f"load {rows:,} rows ({turns:,} messages)", secs),
                *dashboard(url, args.days),
            ]
    finally:
        if pg_env is not None:
            subprocess.run(
                ["bash", str(REPO / "scripts" / "pg_test_server.sh"), "stop"],
                env=pg_env,
                capture_output=True,
                timeout=120,
            )
    labels = list(results)
    print(f"\n| {args.days} days, {args.messages:,} messages | " + " | ".join(labels) + " |")
    print("|---|" + "---|" * len(labels))
    for i, (what, _) in enumerate(results[labels[0]]):
        cells = []
        for lab in labels:
            v = results[lab][i][1]
            cells.append("" if v != v else f"{v:.3f} s")
        print(f"| {what} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
