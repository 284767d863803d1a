"""Rasa NLU component: glossary terms as `term` entities.

GiNZA's NER knows nothing of contact-center jargon, and lookup tables are
regexes over raw text (no width/kana/long-vowel folding). This extractor runs
`assistant.matcher.TermMatcher` over the message and over the GiNZA tokens'
Sudachi normalized forms and readings, and reports each hit as
`{"entity": "term", "value": <headword>, "start", "end"}` at the place the
user wrote it. A running server finds the terms of the live content (the content
studio), not the file: a term published by an editor is found without a retrain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from assistant.content import live, preview
from assistant.glossary import GLOSSARY_PATH, REPO_ROOT, glossary_path, load_glossary
from assistant.matcher import TermMatcher, Token
from assistant.settings import get_settings
from components.lean_tokenizer import reading


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class GlossaryTermExtractor(GraphComponent, EntityExtractorMixin):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"glossary": str(GLOSSARY_PATH.relative_to(REPO_ROOT)), "entity": "term"}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GlossaryTermExtractor:
        return cls(config)

    def __init__(self, config: Dict[str, Any]) -> None:
        self._config = config
        path = Path(config["glossary"])
        if not path.is_absolute():
            path = REPO_ROOT / path  # independent of the server's working directory
        if get_settings().glossary_file:
            path = glossary_path()  # the same override the actions read
        self._matcher = TermMatcher(load_glossary(path))
        preview.set_tokenizer(_lean_tokens)  # the content studio's preview sees what we see

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        # In a running server the content studio's live content (assistant/content/live.py,
        # installed by the agent console at start) replaces the file the model was built with.
        current = live.active()
        matcher = current.current.matcher if current is not None else self._matcher
        for message in messages:
            text = message.get(TEXT) or ""
            tokens = _ginza_tokens(message.get(SPACY_DOCS[TEXT]), text)
            found = [
                {
                    "entity": self._config["entity"],
                    "value": m.term,
                    "start": m.start,
                    "end": m.end,
                    "confidence_entity": 1.0,
                }
                for m in matcher.find(text, tokens)
            ]
            if found:
                others = [
                    e
                    for e in message.get(ENTITIES, [])
                    if e.get("entity") != self._config["entity"]
                ]
                message.set(ENTITIES, others + self.add_extractor_name(found), add_to_output=True)
        return messages


def _ginza_tokens(doc: Optional[Any], text: str) -> Optional[List[Token]]:
    # SpacyNLP may have lowercased the text; offsets stay valid only if lengths agree.
    if doc is None or len(doc.text) != len(text):
        return None
    return [
        Token(
            start=t.idx,
            end=t.idx + len(t.text),
            norm=t.norm_,
            reading=reading(t),
        )
        for t in doc
        if not t.is_space
    ]


def _lean_tokens(text: str) -> Optional[List[Token]]:
    """GiNZA's tokens of `text` from the model LeanSpacyNLP loaded (one shared copy)."""
    from components.lean_spacy import GINZA_UNUSED, _load_once

    nlp = _load_once("ja_ginza", tuple(sorted(GINZA_UNUSED))).model
    return _ginza_tokens(nlp(text), text)
