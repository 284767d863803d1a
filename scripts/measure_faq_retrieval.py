"""Measures FAQ retrieval on the eval: the ResponseSelector against the lexical retriever
over the FAQ text (assistant/faq_retrieval.py), and the two combined as the actions use them.

    python scripts/measure_faq_retrieval.py [--url http://localhost:5005]

Without --url it starts the servers with the trained model (and Rasa's HTTP API, for
/model/parse). For every case of tests/eval/cases.yml that expects an FAQ answer it asks:

* ResponseSelector: its top answer (and whether it is >= 0.5, what action_answer_faq trusts);
* lexical: the retriever's top entry, and whether `best` calls it a clear winner;
* combined: the ResponseSelector when it is sure, else the lexical clear winner.

For the other cases it counts the lexical clear winners, and lists those naming no glossary
term: answers that would be wrong if the actions asked the retriever (they ask only when
the classifiers are unsure and the message names no glossary term).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import requests
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.faq import load_faq  # noqa: E402
from assistant.faq_retrieval import FaqRetriever  # noqa: E402
from assistant.glossary import load_glossary  # noqa: E402
from assistant.matcher import TermMatcher  # noqa: E402
from devtools.launch import start_servers  # noqa: E402

CASES = REPO / "tests" / "eval" / "cases.yml"
SURE = 0.5  # actions/faq_actions.py MIN_ANSWER_CONFIDENCE


def parse(rasa_url: str, text: str) -> tuple[str, float]:
    r = requests.post(f"{rasa_url}/model/parse", json={"text": text}, timeout=60)
    r.raise_for_status()
    picked = r.json().get("response_selector", {}).get("faq", {}).get("response", {})
    return (picked.get("intent_response_key") or "").split("/")[-1], picked.get("confidence") or 0.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="running Rasa server started with --enable-api")
    args = parser.parse_args()
    cases = yaml.safe_load(CASES.read_text(encoding="utf-8"))["cases"]
    retriever = FaqRetriever(load_faq())
    servers = None
    try:
        if args.url:
            rasa_url = args.url.rstrip("/")
        else:
            servers = start_servers(enable_api=True)
            rasa_url = servers.rasa_url
        rows = []
        for case in cases:
            rs_id, rs_conf = parse(rasa_url, case["text"])
            hit = retriever.best(case["text"])
            rows.append((case, rs_id, rs_conf, retriever.rank(case["text"])[0][0], hit))
    finally:
        if servers:
            servers.stop()

    faq = [r for r in rows if r[0]["expect"]["kind"] == "faq"]
    measures = {
        "ResponseSelector top-1": lambda rs, conf, top, hit: rs,
        "ResponseSelector >= 0.5": lambda rs, conf, top, hit: rs if conf >= SURE else None,
        "lexical top-1": lambda rs, conf, top, hit: top,
        "lexical clear winner": lambda rs, conf, top, hit: hit.id if hit else None,
        "combined (RS if sure, else lexical)": lambda rs, conf, top, hit: (
            rs if conf >= SURE else (hit.id if hit else None)
        ),
    }
    subsets = {
        "all": faq,
        "established": [r for r in faq if not r[0].get("new")],
        "new": [r for r in faq if r[0].get("new")],
    }
    print(f"FAQ cases: {len(faq)}; right answers (wrong answers)")
    print(f"{'':38}" + "".join(f"{k:>16}" for k in subsets))
    for name, pick in measures.items():
        cells = []
        for subset in subsets.values():
            picks = [(pick(*r[1:]), r[0]["expect"]["id"]) for r in subset]
            right = sum(p == want for p, want in picks)
            wrong = sum(p is not None and p != want for p, want in picks)
            cells.append(f"{right}/{len(subset)} ({wrong})")
        print(f"{name:38}" + "".join(f"{c:>16}" for c in cells))
    others = [r for r in rows if r[0]["expect"]["kind"] != "faq"]
    stray = [r for r in others if r[4] is not None]
    matcher = TermMatcher(load_glossary())
    termless = [r for r in stray if not matcher.find(r[0]["text"])]
    print(
        f"\nother cases with a lexical clear winner: {len(stray)} of {len(others)}, "
        f"{len(termless)} of them naming no glossary term:"
    )
    for case, *_, hit in termless:
        assert hit is not None  # stray: a lexical clear winner
        print(
            f"  [{case['group']}] {case['text']!r} -> {hit.id} ({hit.score:.1f}, +{hit.margin:.1f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
