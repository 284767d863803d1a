"""A Leitner schedule: a right answer moves a term one box up (max 5), a wrong one
back to box 1. The next term is drawn with weight 4**(5 - box): a term in box 1 (just
missed) 16× as often as a new one and 256× as often as one in box 5 (mastered); a term
never asked counts as box 3. With one missed term among 41, a question of the next
session is about it with probability ~0.29 (instead of 1/41)."""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping, Sequence

MAX_BOX = 5
NEW_BOX = 3


def next_box(box: int, correct: bool) -> int:
    return min(box + 1, MAX_BOX) if correct else 1


def weight(box: int | None) -> int:
    return int(4 ** (MAX_BOX - (NEW_BOX if box is None else box)))


def pick_term(
    terms: Sequence[str],
    boxes: Mapping[str, int],
    rng: random.Random,
    exclude: Collection[str] = (),
) -> str | None:
    """A term to ask next, favouring low boxes; none left when all are excluded."""
    pool = [t for t in terms if t not in exclude]
    if not pool:
        return None
    return rng.choices(pool, weights=[weight(boxes.get(t)) for t in pool], k=1)[0]


def weak(boxes: Mapping[str, int], wrong: Mapping[str, int]) -> list[str]:
    """Terms missed and not yet mastered again (box ≤ 2), most missed first."""
    terms = [t for t, b in boxes.items() if b <= 2 and wrong.get(t, 0) > 0]
    return sorted(terms, key=lambda t: (boxes[t], -wrong.get(t, 0), t))
