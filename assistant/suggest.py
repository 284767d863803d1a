"""Fuzzy name ranking for もしかして that does not score every name.

`FuzzyNames(names).extract(q, limit, cutoff)` returns exactly what
`rapidfuzz.process.extract(q, names, scorer=fuzz.ratio, limit=limit,
score_cutoff=cutoff)` returns (same names, scores, indices and order: score
descending, then index ascending), but scores only the names that can reach the
cutoff, best possible first.

Why a character (1-gram) index and not bigrams: `fuzz.ratio` is
200·LCS / (len(q) + len(name)), and the longest common subsequence can never be
longer than the characters the two strings share, counted with multiplicity
(「アフターコール」 and 「コールアフター」 share 7 characters but no more). So

    ratio ≤ 200 · shared / (len(q) + len(name))

and every name whose bound is under the cutoff is skipped without being scored.
The bound is exact (no name that could qualify is lost). A bigram index would be
faster but lossy at the cutoff used here (50): a name at half the distance can
share no bigram with the query.

The index keeps, for every (character, k), the names that contain that character
at least k times; the shared count of a name is then the number of the query's
(character, k) pairs it appears under — one `numpy.bincount` over those posting
lists. Candidates are scored with rapidfuzz in batches, highest bound first, until
the `limit`-th best score beats every remaining bound.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

# Occurrence numbers are stored in 16 bits; a name with more repeats of one character
# is counted as if it had 2^16 - 1 (the bound only gets looser, never wrong).
_MAX_OCC = (1 << 16) - 1
_BATCH = 256
# Bounds and rapidfuzz's scores are computed differently; a bound this close to a score
# counts as a tie (so a tie with a lower index is never skipped).
_EPS = 1e-6

IntArray = npt.NDArray[np.int64]


class FuzzyNames:
    def __init__(self, names: Sequence[str]):
        self.names = list(names)
        n = len(self.names)
        self._lengths: IntArray = np.fromiter(map(len, self.names), dtype=np.int64, count=n)
        joined = "".join(self.names)
        total = len(joined)
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        owner = np.repeat(np.arange(n, dtype=np.int64), self._lengths)
        # Group each name's characters: sorted by (name, character).
        order = np.lexsort((codes, owner))
        so, sc = owner[order], codes[order]
        starts = np.ones(total, dtype=bool)
        if total:
            starts[1:] = (so[1:] != so[:-1]) | (sc[1:] != sc[:-1])
        group_start = np.flatnonzero(starts)
        sizes = np.diff(np.append(group_start, total))
        occurrence = np.arange(total, dtype=np.int64) - np.repeat(group_start, sizes) + 1
        keys = (sc << 16) | np.minimum(occurrence, _MAX_OCC)
        by_key = np.argsort(keys, kind="stable")
        keys = keys[by_key]
        self._postings: IntArray = so[by_key]
        uniq, first = np.unique(keys, return_index=True)
        last = np.append(first[1:], total) if total else first
        self._slices: dict[int, tuple[int, int]] = dict(
            zip(uniq.tolist(), zip(first.tolist(), last.tolist(), strict=True), strict=True)
        )

    def __len__(self) -> int:
        return len(self.names)

    def shared_counts(self, query: str) -> IntArray:
        """For every name, how many characters it shares with `query` (with multiplicity)."""
        parts = []
        for ch, count in Counter(query).items():
            code = ord(ch) << 16
            for k in range(1, count + 1):
                span = self._slices.get(code | min(k, _MAX_OCC))
                if span is None:
                    break  # no name has ch k times, so none has it k + 1 times
                parts.append(self._postings[span[0] : span[1]])
        if not parts:
            return np.zeros(len(self.names), dtype=np.int64)
        return np.bincount(np.concatenate(parts), minlength=len(self.names))

    def bounds(self, query: str) -> npt.NDArray[np.float64]:
        """Upper bound of `fuzz.ratio(query, name)` for every name."""
        lensum = self._lengths + len(query)
        return np.asarray(200.0 * self.shared_counts(query) / lensum, dtype=np.float64)

    def candidates(self, query: str, cutoff: float) -> IntArray:
        """Indices (ascending) of the names whose bound reaches `cutoff`."""
        return np.flatnonzero(self.bounds(query) >= cutoff - _EPS)

    def extract(
        self, query: str, limit: int = 20, cutoff: float = 50.0
    ) -> list[tuple[str, float, int]]:
        """`process.extract(query, names, scorer=fuzz.ratio, limit=limit, score_cutoff=cutoff)`."""
        if not query or not self.names or limit <= 0:
            return []
        bound = self.bounds(query)
        idx = np.flatnonzero(bound >= cutoff - _EPS)
        if not len(idx):
            return []
        # Highest bound first; among equal bounds, lower index first.
        idx = idx[np.lexsort((idx, -bound[idx]))]
        found: list[tuple[str, float, int]] = []
        for start in range(0, len(idx), _BATCH):
            if len(found) >= limit:
                found.sort(key=lambda r: (-r[1], r[2]))
                del found[limit:]
                if found[-1][1] > bound[idx[start]] + _EPS:
                    break
            batch = idx[start : start + _BATCH].tolist()
            scored = process.extract(
                query,
                [self.names[i] for i in batch],
                scorer=fuzz.ratio,
                limit=None,
                score_cutoff=cutoff,
            )
            found.extend((name, score, batch[j]) for name, score, j in scored)
        found.sort(key=lambda r: (-r[1], r[2]))
        return found[:limit]
