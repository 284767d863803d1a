"""The first NLU steps on hostile input, with the real components and the real
ja_ginza model (no Rasa server): InputLimiter → LeanSpacyNLP → NormalizingSpacyTokenizer
→ SpacyFeaturizer, as config.yml chains them.

A message made only of control/format characters used to reach GiNZA as blanks:
the doc had no token SpacyFeaturizer could use, it raised, and Rasa dropped the
message (`[]` over REST, no tracker event). It must now parse like an empty one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.spacy_featurizer import SpacyFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from components.input_limiter import InputLimiter, limit_text
from components.lean_spacy import LeanSpacyNLP
from components.tokenizer import NormalizingSpacyTokenizer

REPO = Path(__file__).resolve().parents[2]

CONTROL_ONLY = [
    "\u200b",  # zero-width space
    "\u202e",  # right-to-left override
    "\x00",  # NUL
    "\u00ad",  # soft hyphen
    "\ufeff",  # byte order mark
    "\u200b\u202e\x00\u00ad\ufeff\u2060\u200d\x07\x1b",
    "\u200b \u3000\n\t\u200b",  # blanks mixed with real whitespace
]


@pytest.fixture(scope="module")
def pipeline():
    nlp_config = {**LeanSpacyNLP.get_default_config(), "model": "ja_ginza"}
    spacy_nlp = LeanSpacyNLP(
        LeanSpacyNLP.load_lean_model("ja_ginza", nlp_config["exclude"]), nlp_config
    )
    limiter = InputLimiter({**InputLimiter.get_default_config()})
    tokenizer = NormalizingSpacyTokenizer(NormalizingSpacyTokenizer.get_default_config())
    featurizer = SpacyFeaturizer(
        {**SpacyFeaturizer.get_default_config(), "pooling": "mean", "alias": "spacy"}, "spacy"
    )

    def run(text: str) -> Message:
        messages = limiter.process([Message(data={TEXT: text})])
        messages = spacy_nlp.process(messages, spacy_nlp.provide())
        messages = tokenizer.process(messages)
        return featurizer.process(messages)[0]

    return run


@pytest.mark.parametrize("text", CONTROL_ONLY, ids=repr)
def test_control_only_message_parses_like_an_empty_one(pipeline, text):
    message = pipeline(text)  # raised ValueError in SpacyFeaturizer before
    assert message.get(TEXT) == ""
    assert not message.get(TOKENS_NAMES[TEXT])


def test_real_text_keeps_its_offsets_and_gets_features(pipeline):
    message = pipeline("\u200bACW\u202eとは")
    assert message.get(TEXT) == " ACW とは"  # same length: entity offsets stay valid
    tokens = [t.text for t in message.get(TOKENS_NAMES[TEXT])]
    assert "ACW" in tokens or "acw" in tokens
    _, sentence = message.get_dense_features(TEXT)
    assert sentence is not None and sentence.features.shape[-1] > 0


def test_limit_text():
    assert limit_text("\u200b\u200b", 1000) == ""
    assert limit_text("", 1000) == ""
    assert limit_text("あ" * 2000, 1000) == "あ" * 1000
    assert limit_text("A\x00B", 1000) == "A B"


def test_nlu_and_router_read_the_same_prefix():
    """One limit for what is understood: config.yml's InputLimiter, its default and the
    actions' clean_user_text all read UNDERSTOOD_CHARS; the door keeps more (intake)."""
    import yaml

    from assistant.intake import DEFAULT_MAX_CHARS
    from assistant.normalize import UNDERSTOOD_CHARS, clean_user_text
    from components.input_limiter import InputLimiter

    config = yaml.safe_load((REPO / "config.yml").read_text(encoding="utf-8"))
    limiter = [c for c in config["pipeline"] if c["name"].endswith("InputLimiter")]
    assert [c.get("max_chars", UNDERSTOOD_CHARS) for c in limiter] == [UNDERSTOOD_CHARS]
    assert InputLimiter.get_default_config()["max_chars"] == UNDERSTOOD_CHARS
    assert DEFAULT_MAX_CHARS > UNDERSTOOD_CHARS
    text = "あ" * (UNDERSTOOD_CHARS - 3) + "ACWとは?" + "い" * 3000
    assert clean_user_text(text) == limit_text(text, UNDERSTOOD_CHARS)
    assert clean_user_text("\x00" + text) == limit_text("\x00" + text, UNDERSTOOD_CHARS)
