"""Synonym groups for the FAQ retrieval: a question's word may match an FAQ word of the
same meaning (外注 ~ 委託, 減らす ~ 低減/削減, 問い合わせ ~ 照会) that shares no character.

The domain does not tokenise (the retrieval counts character bigrams), so the lookup is a
function the runtime provides: `use(fn)` at start-up (actions/services.py registers
actions/sudachi_synonyms.py, Sudachi's synonym group ids from the dictionary GiNZA
already loads); without one, the retrieval is purely lexical (tests, scripts).

A `Synonyms` function maps a text to its words that belong to synonym groups:
(the word's normalised form, the group keys it belongs to).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

SynonymWords = Sequence[tuple[str, tuple[str, ...]]]
Synonyms = Callable[[str], SynonymWords]

_provider: list[Synonyms | None] = [None]


def use(fn: Synonyms | None) -> None:
    """Register the lookup the content built from now on uses (None: none)."""
    _provider[0] = fn


def current() -> Synonyms | None:
    return _provider[0]


__all__ = ["SynonymWords", "Synonyms", "current", "use"]
