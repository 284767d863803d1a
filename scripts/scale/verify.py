"""After a load run: every message a client sent, counted in the PostgreSQL tracker
store, and every handoff the clients were shown, looked up in the handoff database.

A message is identified by the tag in its text (``#<16 hex>``, scripts/scale/locustfile.py).
A retried message counts once: it is *lost* when a client got a reply for it and it
is not in the tracker, *duplicated* when it is in the tracker more than once
(whatever the client saw), *given up* when the client never got a reply and it is
not stored (the client saw the error).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

TAG = re.compile(r"#([0-9a-f]{16})\b")


def load_journal(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def tracker_counts(
    tracker_url: str, sender_prefixes: Iterable[str] = ("lt-", "ws-", "burst-")
) -> Counter:
    """How many `user` events of the tracker store carry each tag."""
    counts: Counter = Counter()
    engine = create_engine(tracker_url, future=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT sender_id, data FROM events WHERE type_name = 'user'"))
            for sender, data in rows:
                if not any(sender.startswith(p) for p in sender_prefixes):
                    continue
                message = json.loads(data).get("text") or ""
                for tag in set(TAG.findall(message)):
                    counts[tag] += 1
    finally:
        engine.dispose()
    return counts


def existing_tickets(handoff_url: str, ids: Iterable[str]) -> dict[str, str]:
    """ticket id → sender id, for the given ids that exist."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    engine = create_engine(handoff_url, future=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, sender_id FROM handoff_tickets WHERE id = ANY(:ids)"),
                {"ids": wanted},
            )
            return {r[0]: r[1] for r in rows}
    finally:
        engine.dispose()


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


@dataclass
class Figures:
    sent: int = 0
    acked: int = 0
    errors: int = 0  # failed attempts the clients saw
    retried: int = 0  # messages sent more than once
    lost: int = 0
    duplicated: int = 0
    given_up: int = 0
    interrupted: int = 0  # still being sent when the run ended, not stored
    stored_unacked: int = 0  # never acknowledged, but stored once (fine)
    handoffs: int = 0  # handoff replies with a ticket id
    tickets_missing: int = 0
    handoff_other: int = 0  # handoff requests answered with something else
    latencies: list[float] = field(default_factory=list)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def example(self, kind: str, rec: dict[str, Any]) -> None:
        self.examples.setdefault(kind, [])
        if len(self.examples[kind]) < 5:
            self.examples[kind].append(
                f"{rec['channel']} {rec['sender']} {rec['text']!r} "
                f"sent@{rec.get('first_sent') or 0:.1f} errors={rec['errors']}"
            )


@dataclass
class Report:
    by_channel: dict[str, Figures]
    total: Figures
    unknown_tags: int  # in the tracker, not in the journal (should be 0)

    @property
    def ok(self) -> bool:
        t = self.total
        return t.sent > 0 and t.lost == 0 and t.duplicated == 0 and t.tickets_missing == 0

    def table(self) -> str:
        cols = [*self.by_channel, "total"]
        figs = [*self.by_channel.values(), self.total]

        def ms(v: float | None) -> str:
            return "-" if v is None else f"{v:,.0f} ms"

        rows: list[tuple[str, list[Any]]] = [
            ("messages sent", [f.sent for f in figs]),
            ("acknowledged (reply received)", [f.acked for f in figs]),
            ("client-seen errors (failed attempts)", [f.errors for f in figs]),
            ("messages retried", [f.retried for f in figs]),
            ("lost (acknowledged, not in tracker)", [f.lost for f in figs]),
            ("duplicated (in tracker 2+ times)", [f.duplicated for f in figs]),
            ("given up (never acknowledged, not stored)", [f.given_up for f in figs]),
            ("interrupted by the end of the run", [f.interrupted for f in figs]),
            ("stored once without acknowledgement", [f.stored_unacked for f in figs]),
            ("handoffs shown with a ticket", [f.handoffs for f in figs]),
            ("  tickets missing in handoff DB", [f.tickets_missing for f in figs]),
            ("latency p50 (first send → reply)", [ms(percentile(f.latencies, 50)) for f in figs]),
            ("latency p95", [ms(percentile(f.latencies, 95)) for f in figs]),
            ("latency max", [ms(max(f.latencies) if f.latencies else None) for f in figs]),
        ]
        width = max(len(r[0]) for r in rows)
        w = [max(10, len(c)) for c in cols]
        out = [
            f"| {'':<{width}} | " + " | ".join(f"{c:>{w[i]}}" for i, c in enumerate(cols)) + " |",
            f"|{'-' * (width + 2)}|" + "|".join("-" * (x + 2) for x in w) + "|",
        ]
        for label, values in rows:
            out.append(
                f"| {label:<{width}} | "
                + " | ".join(f"{v!s:>{w[i]}}" for i, v in enumerate(values))
                + " |"
            )
        if self.unknown_tags:
            out.append(f"(tracker has {self.unknown_tags} tagged messages no client recorded)")
        for kind, lines in self.total.examples.items():
            out.append(f"{kind}:")
            out += [f"  {line}" for line in lines]
        return "\n".join(out)


def verify(records: list[dict[str, Any]], counts: Counter, tickets: dict[str, str]) -> Report:
    by_channel: dict[str, Figures] = {}
    total = Figures()
    for rec in records:
        n = counts.get(rec["tag"], 0)
        for f in (by_channel.setdefault(rec["channel"], Figures()), total):
            f.sent += 1
            f.errors += len(rec["errors"])
            f.retried += rec["attempts"] > 1
            if rec["acked"]:
                f.acked += 1
                f.latencies.append(rec["latency_ms"])
                if n == 0:
                    f.lost += 1
                    f.example("lost", rec) if f is total else None
            elif n == 0 and rec.get("interrupted"):
                f.interrupted += 1
                f.example("interrupted by the end of the run", rec) if f is total else None
            elif n == 0:
                f.given_up += 1
                f.example("given up", rec) if f is total else None
            elif n == 1:
                f.stored_unacked += 1
            if n > 1:
                f.duplicated += 1
                f.example("duplicated", rec) if f is total else None
            if rec["step"] == "handoff" and rec["acked"]:
                if rec["ticket"]:
                    f.handoffs += 1
                    if tickets.get(rec["ticket"]) != rec["sender"]:
                        f.tickets_missing += 1
                        f.example("ticket missing", rec) if f is total else None
                else:
                    f.handoff_other += 1
    known = {r["tag"] for r in records}
    return Report(by_channel, total, sum(1 for t in counts if t not in known))
