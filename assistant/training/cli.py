"""Trainer CLI (`make trainees`, `python -m assistant.training.cli`):

(no arguments)       every trainee's sessions and scores, the group's hardest terms,
                     the words trainees asked about that the glossary lacks
show <trainee>       one trainee: sessions, weak terms, per-term boxes
hardest [--limit N]  the group's hardest terms
gaps                 words asked about that the glossary lacks (for its maintainers)
"""

from __future__ import annotations

import argparse
import sys

from ..handoff.settings import HandoffSettings
from .store import TrainingStore


def _store() -> TrainingStore:
    return TrainingStore(HandoffSettings.from_env().db_url)


def show(store: TrainingStore, trainee: str) -> None:
    sessions = store.sessions_of(trainee)
    if not sessions:
        print(f"{trainee}: no sessions")
        return
    print(f"trainee {trainee}: {len(sessions)} sessions")
    for s in sessions:
        scope = s.category or "全カテゴリ"
        done = "" if s.finished else " (unfinished)"
        print(f"  #{s.id} {scope}: {s.correct}/{s.asked} of {s.total}{done}")
    boxes = store.boxes(trainee)
    wrong = store.wrong_counts(trainee)
    weak = store.weak_terms(trainee)
    print("weak terms: " + ("、".join(weak) if weak else "none"))
    print("mastery (box 1 = just missed … 5 = mastered):")
    for term, box in sorted(boxes.items(), key=lambda kv: (kv[1], kv[0])):
        print(f"  box {box}  {term}  (wrong {wrong.get(term, 0)})")


def hardest(store: TrainingStore, limit: int) -> None:
    rows = store.hardest_terms(limit)
    print("hardest terms (wrong / answered):")
    for term, wrong, n in rows:
        print(f"  {term}: {wrong}/{n}")
    if not rows:
        print("  none yet")


def gaps(store: TrainingStore) -> None:
    rows = store.glossary_gaps()
    print("asked about, not in the glossary:")
    for query, n in rows:
        print(f"  {query} ({n})")
    if not rows:
        print("  none")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make trainees", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd")
    p_show = sub.add_parser("show")
    p_show.add_argument("trainee")
    p_hard = sub.add_parser("hardest")
    p_hard.add_argument("--limit", type=int, default=10)
    sub.add_parser("gaps")
    args = parser.parse_args(argv)
    store = _store()
    if args.cmd == "show":
        show(store, args.trainee)
    elif args.cmd == "hardest":
        hardest(store, args.limit)
    elif args.cmd == "gaps":
        gaps(store)
    else:
        for name in store.trainee_names():
            sessions = store.sessions_of(name)
            last = sessions[-1]
            print(f"{name}: {len(sessions)} sessions, last {last.correct}/{last.total}")
        hardest(store, 10)
        gaps(store)
    return 0


if __name__ == "__main__":
    sys.exit(main())
