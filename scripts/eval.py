"""Evaluation: sends tests/eval/cases.yml to the real servers over REST, prints accuracy per group.

    python scripts/eval.py [--url http://localhost:5005] [--min-accuracy 0.95] [--show-failures]

Without --url it starts the action server and Rasa on free ports with the trained model.
Each case is a fresh conversation; the first custom payload of the reply is compared
with the expectation (kind, and term / terms / id where given).
"""
from __future__ import annotations

import argparse
import sys
import uuid
from collections import defaultdict
from pathlib import Path

import requests
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.servers import custom_payloads, start_servers  # noqa: E402

CASES = REPO / "tests" / "eval" / "cases.yml"


def judge(expect: dict, payloads: list[dict]) -> bool:
    if not payloads:
        return False
    got = payloads[0]
    if got.get("kind") != expect["kind"]:
        return False
    if "term" in expect and got.get("term") != expect["term"]:
        return False
    if "terms" in expect and got.get("terms") != expect["terms"]:
        return False
    if "id" in expect and got.get("id") != expect["id"]:
        return False
    return True


def describe(payloads: list[dict]) -> str:
    if not payloads:
        return "(no payload)"
    p = payloads[0]
    detail = p.get("term") or p.get("terms") or p.get("id") or p.get("query") or ""
    return f"{p.get('kind')} {detail}".strip()


def run(rest_url: str, cases: list[dict]) -> list[tuple[dict, bool, str]]:
    results = []
    session = requests.Session()
    for case in cases:
        sender = f"eval-{uuid.uuid4().hex[:12]}"
        r = session.post(rest_url, json={"sender": sender, "message": case["text"]}, timeout=60)
        r.raise_for_status()
        payloads = custom_payloads(r.json())
        results.append((case, judge(case["expect"], payloads), describe(payloads)))
    return results


def report(results: list[tuple[dict, bool, str]], show_failures: bool) -> float:
    by_group: dict[str, list[bool]] = defaultdict(list)
    for case, ok, _ in results:
        by_group[case["group"]].append(ok)
    print(f"{'group':<24}{'n':>5}{'correct':>9}{'accuracy':>10}")
    for group, oks in by_group.items():
        print(f"{group:<24}{len(oks):>5}{sum(oks):>9}{sum(oks) / len(oks):>10.1%}")
    total = sum(ok for _, ok, _ in results)
    accuracy = total / len(results)
    print(f"{'TOTAL':<24}{len(results):>5}{total:>9}{accuracy:>10.1%}")
    failures = [(c, got) for c, ok, got in results if not ok]
    if failures and show_failures:
        print("\nfailures:")
        for case, got in failures:
            print(f"  [{case['group']}] {case['text']!r}: expected {case['expect']}, got {got}")
    return accuracy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="running Rasa server (default: start one)")
    parser.add_argument("--min-accuracy", type=float, default=0.0)
    parser.add_argument("--show-failures", action="store_true", default=True)
    args = parser.parse_args()
    cases = yaml.safe_load(CASES.read_text(encoding="utf-8"))["cases"]
    servers = None
    try:
        if args.url:
            rest_url = args.url.rstrip("/") + "/webhooks/rest/webhook"
        else:
            servers = start_servers()
            rest_url = servers.rest_url
        accuracy = report(run(rest_url, cases), args.show_failures)
    finally:
        if servers:
            servers.stop()
    if accuracy < args.min_accuracy:
        print(f"FAIL: accuracy {accuracy:.1%} < {args.min_accuracy:.0%}")
        return 1
    print(f"OK: accuracy {accuracy:.1%} >= {args.min_accuracy:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
