"""GiNZA's Japanese tokenizer without the memory that never comes back.

spaCy's `JapaneseTokenizer` (spacy/lang/ja, spaCy 3.4) keeps something of every
message for the life of the process:

* `token.morph = MorphAnalysis(vocab, {"Reading": …, "Inflection": …})` per token adds
  the feature string to the StringStore and an entry to the Morphology table, which
  is never pruned; with readings of unseen words (names, numbers, typos) it grows with
  the traffic (explosion/spaCy#13684; spaCy 3.4 has no `memory_zone`);
* every new word, normalized form, lemma and tag becomes a string in the StringStore
  and a Lexeme in the Vocab (explosion/spaCy#285, #5083): they are never freed either;
* in split mode C (ja_ginza) it also splits every token into its A and B sub-tokens,
  for the compound splitter this pipeline does not load.

`LeanJapaneseTokenizer` makes the same `Doc` from the same SudachiPy morphemes —
words, spaces, `tag_`, `pos`, `lemma_`, `norm_`, vectors — with no MorphAnalysis: the
reading, the only morphological feature read here (components/term_extractor.py),
goes to `doc.user_data["readings"]` (read it with `reading()`). The Docs are made in
its own Vocab, replaced by a fresh one once it holds `max_strings` strings; the fresh
one shares the static vectors (the same array, keyed by hash, so no copy) and the
lexical attribute getters. Old Docs keep their Vocab alive as long as they live.

Compatibility: it reuses spaCy's own `_get_dtokens`, `get_dtokens_and_spaces` and
`resolve_pos`, and `install()` checks on a sample that it gives what spaCy's tokenizer
gives; on another spaCy version, another tokenizer class or any difference it leaves
the model's tokenizer in place and logs a warning.
"""

from __future__ import annotations

import logging
import re
from typing import Any, List, Optional

logger = logging.getLogger(__name__)

READINGS = "readings"
# Strings the working Vocab may hold before it is replaced (~0.3 MiB; renewed about
# every 1,500 messages with 40 % unseen words, which costs nothing measurable).
DEFAULT_MAX_STRINGS = 2_000
# The spaCy versions whose JapaneseTokenizer internals this mirrors (checked at install).
TESTED_SPACY = ("3.4.",)
_SELF_CHECK = [
    "ACWとはなんですか?　顧客まんぞく度",
    "オペレーターと話したい。 料金は 1,980円です",
    "ｱﾌﾀｰｺｰﾙﾜｰｸって食べられる?\n  二重  スペース ",
    " ",
    "",
]
_FEATURE_CHARS = re.compile("[=|]")


def reading(token: Any) -> str:
    """The Sudachi reading of a token: from `doc.user_data` for a lean Doc, from
    `token.morph` for a Doc of spaCy's tokenizer."""
    readings: Optional[List[str]] = token.doc.user_data.get(READINGS)
    if readings is not None:
        found: str = readings[token.i]
        return found
    return "".join(token.morph.get("Reading"))


class LeanJapaneseTokenizer:
    """Drop-in for `nlp.tokenizer`: `tokenizer(text) -> Doc`."""

    def __init__(self, stock: Any, max_strings: int = DEFAULT_MAX_STRINGS) -> None:
        from spacy.lang.ja import get_dtokens_and_spaces, resolve_pos

        self._stock = stock  # spaCy's JapaneseTokenizer: its SudachiPy tokenizer and helpers
        self._sudachi = stock.tokenizer
        self._dtokens_and_spaces = get_dtokens_and_spaces
        self._resolve_pos = resolve_pos
        self._base = stock.vocab
        self.max_strings = max_strings
        self.renewals = 0
        self.vocab = self._fresh_vocab()

    # spaCy calls these when it serializes the pipeline; nothing of ours to keep.
    def __reduce__(self) -> Any:  # pragma: no cover - not pickled by Rasa
        return self._stock.__reduce__()

    def to_bytes(self, **kwargs: Any) -> bytes:
        data: bytes = self._stock.to_bytes(**kwargs)
        return data

    def to_disk(self, path: Any, **kwargs: Any) -> None:
        self._stock.to_disk(path, **kwargs)

    def _fresh_vocab(self) -> Any:
        from spacy.strings import StringStore
        from spacy.vectors import Vectors
        from spacy.vocab import Vocab

        base = self._base
        vocab = Vocab(
            lex_attr_getters=base.lex_attr_getters,
            lookups=base.lookups,
            writing_system=base.writing_system,
            get_noun_chunks=base.get_noun_chunks,
        )
        shared = base.vectors
        vectors = Vectors(strings=StringStore(), data=shared.data, name=shared.name)
        vectors.key2row = shared.key2row  # same rows, same hash keys: nothing copied
        vocab.vectors = vectors  # adds the (empty) strings of `vectors`, then shares ours
        return vocab

    def __call__(self, text: str) -> Any:
        from spacy.tokens import Doc

        if len(self.vocab.strings) >= self.max_strings:
            self.vocab = self._fresh_vocab()
            self.renewals += 1
        morphemes = self._sudachi.tokenize(text)
        dtokens = self._stock._get_dtokens(morphemes, need_sub_tokens=False)
        dtokens, spaces = self._dtokens_and_spaces(dtokens, text)
        tags = [d.tag for d in dtokens]
        doc = Doc(self.vocab, words=[d.surface for d in dtokens], spaces=spaces)
        readings: List[str] = []
        next_pos = None
        for idx, (token, dtoken) in enumerate(zip(doc, dtokens, strict=True)):
            token.tag_ = dtoken.tag
            if next_pos:
                token.pos = next_pos
                next_pos = None
            else:
                token.pos, next_pos = self._resolve_pos(
                    token.orth_, dtoken.tag, tags[idx + 1] if idx + 1 < len(tags) else None
                )
            token.lemma_ = dtoken.lemma if dtoken.lemma else dtoken.surface
            token.norm_ = dtoken.norm
            readings.append(_FEATURE_CHARS.sub("_", dtoken.reading) if dtoken.reading else "")
        doc.user_data[READINGS] = readings
        return doc


def view(doc: Any) -> list:
    """What the pipeline reads of each token (the equivalence the self-check and the
    tests compare): text, offset, whitespace, tag, POS, lemma, norm, reading, vector."""
    return [
        (
            t.text,
            t.idx,
            t.whitespace_,
            t.is_space,
            t.tag_,
            t.pos_,
            t.lemma_,
            t.norm_,
            reading(t),
            t.vector.round(6).tobytes(),
        )
        for t in doc
    ]


def install(
    language: Any, max_strings: int = DEFAULT_MAX_STRINGS
) -> Optional[LeanJapaneseTokenizer]:
    """Replace `language.tokenizer` with the lean one if it is spaCy's JapaneseTokenizer of
    a tested version and gives the same tokens on the self-check; else keep it (warning)."""
    import spacy
    from spacy.lang.ja import JapaneseTokenizer

    stock = language.tokenizer
    if type(stock) is not JapaneseTokenizer:
        logger.warning("Lean tokenizer not used: %s is not spaCy's JapaneseTokenizer", type(stock))
        return None
    if not spacy.about.__version__.startswith(TESTED_SPACY):
        logger.warning("Lean tokenizer not used: spaCy %s untested", spacy.about.__version__)
        return None
    lean = LeanJapaneseTokenizer(stock, max_strings)
    for text in _SELF_CHECK:
        if view(lean(text)) != view(stock(text)):
            logger.warning("Lean tokenizer not used: differs from spaCy's on %r", text)
            return None
    language.tokenizer = lean
    return lean
