"""Evaluation: sends tests/eval/cases.yml to the real servers over REST, prints accuracy per group.

    python scripts/eval.py [--url http://localhost:5005 | --model models/x.tar.gz]
                           [--min-accuracy 0.95] [--min-new-accuracy 0.0] [--new-only]
                           [--no-show-failures]

Without --url it starts the action server and Rasa on free ports with the trained model.
Each case is a fresh conversation; the first custom payload of the reply is compared
with the expectation (kind, and term / terms / id where given).

Cases marked `new: true` (written for the issue "One routing brain" before its routing
changes) are reported in a table of their own. --min-accuracy gates the established
cases only; --min-new-accuracy gates the new ones (0 = report only).

Cases marked `set: <name>` (issue 17: `fresh`, written before its code changes; `holdout`,
written before its results were looked at) are reported per set; --min-set-accuracy gates
every set except those named by --report-only (the blind holdout).

False handoffs: a case that does not expect a handoff but gets one (a person called and a
ticket opened for a question the bot can answer) fails the run on every set, whatever the
accuracy (--no-false-handoff-gate to report only).
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
# Further dated sets (tests/eval/cases_<name>_<date>.yml), each written before it was run.
EXTRA_CASES = sorted((REPO / "tests" / "eval").glob("cases_*.yml"))


# Sets of an extra file marked `gate: false`: reported, never gated.
UNGATED: set[str] = set()


def load_cases() -> list[dict]:
    cases: list[dict] = yaml.safe_load(CASES.read_text(encoding="utf-8"))["cases"]
    for path in EXTRA_CASES:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        cases += data["cases"]
        if data.get("gate") is False:
            UNGATED.update(c["set"] for c in data["cases"] if "set" in c)
    return cases


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
    return "query" not in expect or got.get("query") == expect["query"]


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
        if payloads and payloads[0].get("kind") == "fallback":
            OFFERED.append((case, payloads[0].get("candidates") or []))
    return results


# Misses answered with "did you mean" buttons: (case, the candidates offered).
OFFERED: list[tuple[dict, list[dict]]] = []


def did_you_mean_report() -> None:
    """How often the right answer is among the buttons offered on a miss."""
    misses = [(c, offered) for c, offered in OFFERED if c["expect"]["kind"] != "fallback"]
    if not misses:
        return

    def right(case: dict, offered: list[dict]) -> bool:
        e = case["expect"]
        return any(
            (o.get("kind") == "faq" and o.get("id") == e.get("id"))
            or (o.get("kind") == "term" and o.get("term") == e.get("term"))
            for o in offered
        )

    with_buttons = [m for m in misses if m[1]]
    hits = sum(right(c, o) for c, o in misses)
    print(
        f"\ndid you mean: {len(misses)} misses answered with a fallback, {len(with_buttons)} with"
        f" buttons, the right answer among them in {hits}"
    )


def is_new(case: dict) -> bool:
    return bool(case.get("new")) and "set" not in case


def set_of(case: dict) -> str | None:
    return case.get("set")


def false_handoffs(results: list[tuple[dict, bool, str]]) -> list[tuple[dict, str]]:
    """Cases routed to a person although they do not ask for one."""
    return [
        (case, got)
        for case, _, got in results
        if case["expect"]["kind"] != "handoff" and got.split(" ")[0] == "handoff"
    ]


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
    established = table(
        "established cases", [r for r in results if not is_new(r[0]) and not set_of(r[0])]
    )
    new = table("new cases (new: true)", [r for r in results if is_new(r[0])])
    if established is not None and new is not None:
        total = sum(ok for _, ok, _ in results)
        print(f"\n{'ALL':<24}{len(results):>5}{total:>9}{total / len(results):>10.1%}")
    failures = [(c, got) for c, ok, got in results if not ok]
    if failures and show_failures:
        print("\nfailures:")
        for case, got in failures:
            mark = " new" if is_new(case) else (f" {set_of(case)}" if set_of(case) else "")
            print(
                f"  [{case['group']}{mark}] {case['text']!r}: expected {case['expect']}, got {got}"
            )
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
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="running Rasa server (default: start one)")
    parser.add_argument("--model", type=Path, default=MODEL, help="model to serve (without --url)")
    parser.add_argument(
        "--min-accuracy", type=float, default=0.0, help="gate on the established cases"
    )
    parser.add_argument(
        "--min-new-accuracy", type=float, default=0.0, help="gate on the `new: true` cases"
    )
    parser.add_argument("--new-only", action="store_true", help="send only the `new: true` cases")
    parser.add_argument(
        "--min-set-accuracy", type=float, default=0.0, help="gate on each `set:` (issue 17)"
    )
    parser.add_argument(
        "--report-only", action="append", default=[], help="a set reported but not gated"
    )
    parser.add_argument("--set", dest="only_set", help="send only the cases of this set")
    parser.add_argument(
        "--skip-set", action="append", default=[], help="leave this set out (e.g. the holdout)"
    )
    parser.add_argument(
        "--false-handoff-gate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="fail when a case that asks no person gets a handoff",
    )
    parser.add_argument(
        "--show-failures",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="list every wrong answer",
    )
    args = parser.parse_args()
    cases = load_cases()
    cases = [c for c in cases if set_of(c) not in args.skip_set]
    if args.new_only:
        cases = [c for c in cases if is_new(c)]
    if args.only_set:
        cases = [c for c in cases if set_of(c) == args.only_set]
    servers = None
    try:
        if args.url:
            rest_url = args.url.rstrip("/") + "/webhooks/rest/webhook"
        else:
            servers = start_servers(model=args.model)
            rest_url = servers.rest_url
        results = run(rest_url, cases)
        established, new = report(results, args.show_failures)
    finally:
        if servers:
            servers.stop()
    sets: dict[str, float | None] = {}
    for name in dict.fromkeys(s for c, _, _ in results if (s := set_of(c))):
        sets[name] = table(f"set: {name}", [r for r in results if set_of(r[0]) == name])
    did_you_mean_report()
    wrong_handoffs = false_handoffs(results)
    print(f"\nfalse handoffs (a person called for a case that asks none): {len(wrong_handoffs)}")
    for case, got in wrong_handoffs:
        print(f"  [{case['group']}] {case['text']!r}: expected {case['expect']}, got {got}")
    ok = gate("established cases", established, args.min_accuracy)
    ok = gate("new cases", new, args.min_new_accuracy) and ok
    for name, accuracy in sets.items():
        if name in args.report_only or name in UNGATED:
            print(f"report only: set {name} {accuracy:.1%}" if accuracy is not None else "")
            continue
        ok = gate(f"set {name}", accuracy, args.min_set_accuracy) and ok
    if wrong_handoffs and args.false_handoff_gate:
        print(f"FAIL: {len(wrong_handoffs)} false handoff(s)")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
