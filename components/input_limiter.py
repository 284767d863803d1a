"""First pipeline step: bound what reaches GiNZA.

SudachiPy refuses input over 49,149 bytes (SudachiError, the whole request
fails) and a 10,000-character message already takes seconds to parse. A
question is short: the NLU sees the first MAX_CHARS characters with control
characters blanked out. The tracker still records the full message, and the
handoff stores it in full; only classification works on the prefix. Cutting
at the end keeps entity offsets valid for the original text.

A message left blank by this (only control/format characters such as U+200B,
U+202E, U+FEFF, U+00AD or NUL) becomes "", exactly like an empty message:
SpacyNLP skips empty text, while a doc made of blanks has no token for
SpacyFeaturizer, which then raises and Rasa drops the message (no reply, no
tracker event, nothing on a handoff ticket). "" is classified nlu_fallback and
answered by action_fallback's reply for an empty message.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from assistant.normalize import UNDERSTOOD_CHARS, blank_controls


def limit_text(text: str, max_chars: int) -> str:
    """What the NLU sees: the first `max_chars` characters, control/format
    characters blanked; "" when nothing but blanks is left."""
    limited = blank_controls(text[:max_chars])
    return limited if limited.strip() else ""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class InputLimiter(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"max_chars": UNDERSTOOD_CHARS}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> InputLimiter:
        return cls(config)

    def __init__(self, config: Dict[str, Any]) -> None:
        self._max = int(config["max_chars"])

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str):
                message.set(TEXT, limit_text(text, self._max))
        return messages
