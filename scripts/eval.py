"""Evaluation: sends tests/eval/cases.yml to the real servers over REST, prints accuracy per group.

    python scripts/eval.py [--url http://localhost:5005 | --model models/x.tar.gz] [--min-accuracy 0.95]
                           [--min-new-accuracy 0.0] [--new-only] [--no-show-failures]

Without --url it starts the action server and Rasa on free ports with the trained model.
Each case is a fresh conversation; the first custom payload of the reply is compared
with the expectation (kind, and term / terms / id where given).

Cases marked `new: true` (written for the issue "One routing brain" before its routing
changes) are reported in a table of their own. --min-accuracy gates the established
cases only; --min-new-accuracy gates the new ones (0 = report only).
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

from devtools.launch import MODEL, custom_payloads, start_servers  # noqa: E402

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


def is_new(case: dict) -> bool:
    return bool(case.get("new"))


def table(title: str, results: list[tuple[dict, bool, str]]) -> float | None:
    """Prints accuracy per group and in total; returns the total (None without cases)."""
    if not results:
        return None
    by_group: dict[str, list[bool]] = defaultdict(list)
    for case, ok, _ in results:
        by_group[case["group"]].append(ok)
    print(f"\n{title}")
    print(f"{'group':<24}{'n':>5}{'correct':>9}{'accuracy':>10}")
    for group, oks in by_group.items():
        print(f"{group:<24}{len(oks):>5}{sum(oks):>9}{sum(oks) / len(oks):>10.1%}")
    total = sum(ok for _, ok, _ in results)
    accuracy = total / len(results)
    print(f"{'TOTAL':<24}{len(results):>5}{total:>9}{accuracy:>10.1%}")
    return accuracy


def report(
    results: list[tuple[dict, bool, str]], show_failures: bool
) -> tuple[float | None, float | None]:
    """Prints the established and the new cases apart, then all together.
    Returns (accuracy on established cases, accuracy on new cases)."""
    established = table("established cases", [r for r in results if not is_new(r[0])])
    new = table("new cases (new: true)", [r for r in results if is_new(r[0])])
    if established is not None and new is not None:
        total = sum(ok for _, ok, _ in results)
        print(f"\n{'ALL':<24}{len(results):>5}{total:>9}{total / len(results):>10.1%}")
    failures = [(c, got) for c, ok, got in results if not ok]
    if failures and show_failures:
        print("\nfailures:")
        for case, got in failures:
            mark = " new" if is_new(case) else ""
            print(f"  [{case['group']}{mark}] {case['text']!r}: expected {case['expect']}, got {got}")
    return established, new


def gate(name: str, accuracy: float | None, minimum: float) -> bool:
    if accuracy is None or minimum <= 0:
        return True
    if accuracy < minimum:
        print(f"FAIL: {name} accuracy {accuracy:.1%} < {minimum:.0%}")
        return False
    print(f"OK: {name} accuracy {accuracy:.1%} >= {minimum:.0%}")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="running Rasa server (default: start one)")
    parser.add_argument("--model", type=Path, default=MODEL, help="model to serve (without --url)")
    parser.add_argument("--min-accuracy", type=float, default=0.0, help="gate on the established cases")
    parser.add_argument("--min-new-accuracy", type=float, default=0.0, help="gate on the `new: true` cases")
    parser.add_argument("--new-only", action="store_true", help="send only the `new: true` cases")
    parser.add_argument(
        "--show-failures",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="list every wrong answer",
    )
    args = parser.parse_args()
    cases = yaml.safe_load(CASES.read_text(encoding="utf-8"))["cases"]
    if args.new_only:
        cases = [c for c in cases if is_new(c)]
    servers = None
    try:
        if args.url:
            rest_url = args.url.rstrip("/") + "/webhooks/rest/webhook"
        else:
            servers = start_servers(model=args.model)
            rest_url = servers.rest_url
        established, new = report(run(rest_url, cases), args.show_failures)
    finally:
        if servers:
            servers.stop()
    ok = gate("established cases", established, args.min_accuracy)
    ok = gate("new cases", new, args.min_new_accuracy) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
