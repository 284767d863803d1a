"""How long the unanswered inbox takes to list on a busy log: the deterministic synthetic
outcome log (assistant/outcomes/synthetic.py, 30 days ending today) in SQLite, then
InboxStore.items() (SQL grouping + key merge + status) timed, median of 5.

    python scripts/bench_inbox.py [--messages 1000000] [--days 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scripts.bench_analytics as ba


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    args = ap.parse_args()
    from assistant.handoff.db import make_engine
    from assistant.inbox.store import InboxStore

    ba.FIRST_DAY = date.today() - timedelta(days=args.days - 1)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        turns, rows, secs = ba.load(url, args.days, args.messages)
        store = InboxStore(make_engine(url))
        times, items = [], []
        for _ in range(5):
            t0 = time.perf_counter()
            items = store.items()
            times.append(time.perf_counter() - t0)
        print(
            f"inbox: {turns:,} turns ({rows:,} rows, loaded in {secs:.1f} s)"
            f" over {args.days} days: "
            f"{len(items):,} items, {sum(i.count for i in items):,} misses; "
            f"listing median {statistics.median(times) * 1000:.0f} ms"
            f" (min {min(times) * 1000:.0f} ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
