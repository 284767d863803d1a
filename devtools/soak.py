"""Soak measurement helpers (scripts/soak.py, tests/unit/test_memory.py; docs/memory.md).

* `SoakTexts`: the eval questions mixed with generated unseen words — katakana names,
  numbers, typos of real questions — in a fixed, seeded order, so the growth that
  comes from new strings (spaCy's vocab, per-word caches) shows as well as the
  growth per message;
* `rss_kib`: VmRSS / RssAnon of a process from /proc;
* `read_gauges`: the gauges a server started with MEMTRACE_DIR writes on SIGUSR1
  (rasa_runtime/memory.py), e.g. the agent console's open event streams;
* `slope`: least-squares growth in KiB per 1,000 messages after warm-up;
* `window_bounds` / `window_slopes`: the same slope over sub-windows (e.g. 5k–50k and
  50k–100k), to tell warm-up that flattens from growth that goes on.

The servers' side (tracemalloc on SIGUSR1, malloc_trim) is rasa_runtime/memory.py.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]

KATAKANA = (
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
)
SMALL = "ャュョッー"
TEMPLATES = [
    "{w}とは?",
    "{w}って何ですか",
    "{w}さんと話したい",
    "注文番号{n}の件で{w}に相談したい",
    "{w}の意味を教えて",
    "電話番号は{n}です",
    "{w}{n}",
]


def eval_texts() -> list[str]:
    cases = yaml.safe_load((REPO / "tests/eval/cases.yml").read_text("utf-8"))["cases"]
    return [c["text"] for c in cases if isinstance(c.get("text"), str) and c["text"].strip()]


def _name(rng: random.Random) -> str:
    out = "".join(rng.choice(KATAKANA) for _ in range(rng.randint(2, 5)))
    if rng.random() < 0.5:
        i = rng.randint(1, len(out))
        out = out[:i] + rng.choice(SMALL) + out[i:]
    return out


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text + rng.choice(KATAKANA)
    i = rng.randrange(len(text))
    kind = rng.randrange(3)
    if kind == 0:  # drop a character
        return text[:i] + text[i + 1 :]
    if kind == 1:  # swap two
        j = min(i + 1, len(text) - 1)
        chars = list(text)
        chars[i], chars[j] = chars[j], chars[i]
        return "".join(chars) + rng.choice(KATAKANA)
    return text[:i] + rng.choice(KATAKANA) + text[i:]  # insert one


class SoakTexts:
    """An endless, seeded stream of messages: `unseen` of them (share) carry a word
    made up for that message (a katakana name, a number, or a typo)."""

    def __init__(
        self, unseen: float = 0.4, seed: int = 21, base: Sequence[str] | None = None
    ) -> None:
        self.base = list(base) if base is not None else eval_texts()
        self.unseen = unseen
        self.rng = random.Random(seed)
        self.count = 0
        self.unseen_count = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        rng = self.rng
        self.count += 1
        if rng.random() >= self.unseen:
            return rng.choice(self.base)
        self.unseen_count += 1
        kind = rng.randrange(3)
        if kind == 0:
            return rng.choice(TEMPLATES).format(w=_name(rng), n=rng.randint(10, 10**9))
        if kind == 1:
            return f"{rng.choice(self.base)} {rng.randint(1000, 10**8)}"
        return _typo(rng, rng.choice(self.base)) + _name(rng)


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, RssAnon) of a process in KiB; (0, 0) if it is gone."""
    rss = anon = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("RssAnon:"):
                anon = int(line.split()[1])
    except OSError:
        pass
    return rss, anon


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (messages, KiB) points, in KiB per 1,000 messages."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return 0.0
    sxy = sum((x - mx) * (y - my) for x, y in points)
    return sxy / sxx * 1000


def window_bounds(start: float, end: float, parts: int) -> list[float]:
    """`parts` + 1 boundaries splitting [start, end] into equal windows."""
    if parts < 1 or end <= start:
        return [start, end]
    return [start + (end - start) * i / parts for i in range(parts + 1)]


def window_slopes(
    points: Sequence[tuple[float, float]], bounds: Sequence[float]
) -> list[tuple[float, float, int, float, float]]:
    """The slope of `points` (messages, KiB) within each window between consecutive
    `bounds`: (from, to, points in it, slope in KiB per 1,000, growth in KiB from its
    first point to its last). A window's points are those with from <= x <= to (a point
    on a boundary counts in both windows); fewer than 2 give slope 0.0."""
    out = []
    for lo, hi in itertools.pairwise(bounds):
        inside = [(x, y) for x, y in points if lo <= x <= hi]
        growth = inside[-1][1] - inside[0][1] if inside else 0.0
        out.append((lo, hi, len(inside), slope(inside), growth))
    return out


def read_gauges(pid: int, folder: Path, timeout: float = 60) -> dict:
    """Ask a server started with MEMTRACE_DIR=`folder` for its gauges (SIGUSR1; the first
    signal only starts the snapshots and leaves an empty marker, then one more is sent)."""
    for _ in range(2):
        before = set(folder.glob(f"{pid}-*.snap"))
        os.kill(pid, signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        new: set[Path] = set()
        while not new and time.monotonic() < deadline:
            time.sleep(0.1)
            new = set(folder.glob(f"{pid}-*.snap")) - before
        if not new:
            raise TimeoutError(f"no snapshot from {pid} in {timeout} s")
        gauges = Path(str(sorted(new)[-1]) + ".json")
        if gauges.exists():
            data: dict = json.loads(gauges.read_text())
            return data
    raise RuntimeError(f"{pid} wrote no gauges")
