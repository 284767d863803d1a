"""Sudachi's synonym group ids as `assistant.synonyms.Synonyms` (no Rasa imports).

sudachidict_core (the dictionary GiNZA tokenises with) gives each morpheme the ids of the
synonym groups it belongs to: 外注 and 委託 share 21422, 減らす and 低減/削減 share 23212,
問い合わせ and 照会 share 225. Only content words count (nouns but pronouns, verbs,
adjectives): 「どこ」 and 「する」 tell no FAQ apart. Results are cached per text (the router
asks several times about one message; the index is built once per content revision).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

_CONTENT_POS = {"名詞", "動詞", "形容詞"}


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from sudachipy import dictionary  # type: ignore[import-untyped]

    return dictionary.Dictionary().create()


@lru_cache(maxsize=4096)
def synonym_words(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(normalised form, synonym group keys) of the content words of `text` in a group."""
    from sudachipy import SplitMode

    out: dict[str, tuple[str, ...]] = {}
    for word in _tokenizer().tokenize(text):
        # A compound's parts too: 外部委託 (group 36) holds 委託 (21422, as 外注).
        parts = word.split(SplitMode.A)
        for m in (word, *parts) if len(parts) > 1 else (word,):
            ids = m.synonym_group_ids()
            if ids and m.part_of_speech()[0] in _CONTENT_POS:
                out.setdefault(m.normalized_form(), tuple(f"syn{i}" for i in ids))
    return tuple(out.items())


__all__ = ["synonym_words"]
