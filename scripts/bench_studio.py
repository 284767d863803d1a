"""Benchmark: the content studio on real servers (make bench-studio).

    python scripts/bench_studio.py [--terms 10000]

Starts an action server + Rasa (devtools.launch), logs in a supervisor and measures:

* test all — one term published: every stored example question, every eval case and
  the preview question through the NLU + router with the old and new content (cold:
  the first run parses everything; warm: the NLU results are cached per text);
* published → answered — from the publish response to the first REST reply with the
  new definition (the other processes poll the change marker every second);
* import — a CSV of N *synthetic* terms (scripts/bench_content.py; load only): the
  dry run (read, diff, validate against the whole content), then the apply (test all on
  the grown content, confirmed by the supervisor, one transaction, reload);
* the answer after the import: published → answered with N more terms.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from devtools.console_client import Console, add_agent  # noqa: E402
from devtools.launch import BotServers, custom_payloads, start_servers  # noqa: E402
from scripts.bench_content import synthetic_glossary  # noqa: E402


def term(name: str, definition: str) -> dict:
    return {
        "term": name,
        "reading": "べんちまーく",
        "category": "指標",
        "aliases": [],
        "related": [],
        "definitions": [{"text": definition, "source": "bench"}],
    }


def answered(bot: BotServers, text: str, definition: str, timeout: float = 30) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        p = custom_payloads(bot.say(f"bench-{uuid.uuid4().hex[:8]}", text))
        if p and p[0].get("definitions") == [definition]:
            return time.monotonic() - started
        time.sleep(0.1)
    raise SystemExit(f"{text}: not answered within {timeout} s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--terms", type=int, default=10_000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        bot = start_servers(workdir=Path(tmp))
        try:
            sv = Console(bot.rasa_url)
            sv.login("bench_sv", add_agent(bot.env, "bench_sv", "ベンチ", role="supervisor"))
            for n, label in ((1, "cold"), (2, "warm")):
                definition = f"ベンチマーク用の定義{n}です。"
                r = sv.post(
                    "/agent/api/content/publish",
                    {"changes": [{"kind": "term", "data": term(f"ベンチ用語{n}", definition)}]},
                    timeout=600,
                )
                r.raise_for_status()
                t = r.json()["test_all"]
                rows.append(
                    (
                        f"test all ({label}), 41 terms",
                        f"{t['total']} questions",
                        f"{t['seconds']:.2f} s",
                    )
                )
                rows.append(
                    (
                        f"published → answered ({label})",
                        "REST",
                        f"{answered(bot, f'ベンチ用語{n}とは?', definition):.2f} s",
                    )
                )
            base = synthetic_glossary(41)
            extra = [
                t for t in synthetic_glossary(41 + args.terms).terms if base.get(t.term) is None
            ]
            buf = io.StringIO(newline="")
            w = csv.writer(buf)
            w.writerow(
                ["term", "reading", "aliases", "category", "related", "definition_1", "source_1"]
            )
            for t in extra:
                w.writerow(
                    [
                        t.term,
                        t.reading,
                        "|".join(t.aliases),
                        t.category,
                        "",
                        t.definitions[0].text,
                        "synthetic",
                    ]
                )
            data = buf.getvalue().encode("utf-8")
            started = time.monotonic()
            r = sv.upload("/agent/api/content/import?kind=term&format=csv", data, timeout=1800)
            plan = r.json()["plan"]
            rows.append(
                (
                    f"import {len(extra):,} terms: dry run",
                    f"{plan['counts']['added']:,} added, {plan['counts']['errors']} errors",
                    f"{time.monotonic() - started:.2f} s",
                )
            )
            started = time.monotonic()
            r = sv.upload(
                "/agent/api/content/import?kind=term&format=csv&apply=1&confirm=1", data, timeout=60
            )
            if r.status_code != 202:
                raise SystemExit(
                    f"import apply: HTTP {r.status_code} {r.text[:300]}\n{bot.rasa.tail()}"
                )
            accepted = time.monotonic() - started
            while True:  # the apply is a background job: poll it
                job = sv.get(r.json()["url"]).json()
                if job["status"] != "running":
                    break
                if time.monotonic() - started > 3600:
                    raise SystemExit(
                        f"import apply: still {job['phase']} after an hour\n{bot.rasa.tail()}"
                    )
                time.sleep(0.5)
            status, body = job["http_status"], job["result"] or {}
            if status != 200:
                raise SystemExit(
                    f"import apply: HTTP {status} {str(body)[:300]}\n{bot.rasa.tail()}"
                )
            t = body.get("test_all") or {}
            rows.append(
                (
                    f"import {len(extra):,} terms: apply accepted (202)",
                    "job started",
                    f"{accepted:.2f} s",
                )
            )
            rows.append(
                (
                    f"import {len(extra):,} terms: apply",
                    f"HTTP {status}, rev {body.get('revision')}",
                    f"{time.monotonic() - started:.2f} s",
                )
            )
            if t:
                rows.append(
                    (
                        f"  of which test all ({len(extra) + 43:,} terms)",
                        f"{t['total']:,} questions, {t['counts']['regressions']} regressions",
                        f"{t['seconds']:.2f} s",
                    )
                )
            definition = "大きな用語集での定義です。"
            r = sv.post(
                "/agent/api/content/publish",
                {
                    "changes": [{"kind": "term", "data": term("ベンチ用語3", definition)}],
                    "confirm": True,
                },
                timeout=3600,
            )
            r.raise_for_status()
            rows.append(
                (
                    f"test all (warm), {len(extra) + 43:,} terms",
                    f"{r.json()['test_all']['total']:,} questions",
                    f"{r.json()['test_all']['seconds']:.2f} s",
                )
            )
            rows.append(
                (
                    f"published → answered, {len(extra) + 44:,} terms",
                    "REST",
                    f"{answered(bot, 'ベンチ用語3とは?', definition):.2f} s",
                )
            )
        finally:
            bot.stop()
    width = max(len(r[0]) for r in rows)
    print("\nContent studio (real servers, this machine)")
    for name, what, value in rows:
        print(f"  {name:<{width}}  {what:<32} {value:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
