"""Router cost: how long `routing.decide` takes per message, without Rasa.

    python scripts/bench_routing.py [--rounds 5]

Builds the router's input for every text in tests/eval/cases.yml from the text alone
(term matches from the plain matcher, no intent: the router then leans on the text,
which is the costly path) and times `decide` with the knowledge the action server
builds (assistant/routing.knowledge). Prints the mean and 95th percentile per message.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant import routing  # noqa: E402
from assistant.faq import load_faq  # noqa: E402
from assistant.faq_retrieval import FaqRetriever  # noqa: E402
from assistant.glossary import load_glossary  # noqa: E402
from assistant.matcher import TermMatcher  # noqa: E402

CASES = REPO / "tests" / "eval" / "cases.yml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    glossary = load_glossary()
    entries = load_faq()
    matcher = TermMatcher(glossary)
    kb = routing.knowledge(glossary, entries, FaqRetriever(entries), matcher)
    texts = [c["text"] for c in yaml.safe_load(CASES.read_text(encoding="utf-8"))["cases"]]
    inputs = [routing.RoutingInput(text=t, matches=tuple(matcher.find(t))) for t in texts]
    for inp in inputs:  # warm-up (lazy indexes)
        routing.decide(inp, kb)
    times: list[float] = []
    for _ in range(args.rounds):
        for inp in inputs:
            start = time.perf_counter()
            routing.decide(inp, kb)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    print(f"router (decide) over {len(inputs)} eval texts x {args.rounds}:")
    print(
        f"  mean {statistics.mean(times):.3f} ms   median {statistics.median(times):.3f} ms"
        f"   p95 {p95:.3f} ms   max {times[-1]:.3f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
