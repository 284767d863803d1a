"""FAQ answer selection with the linear model of components/linear_classifier.py
instead of Rasa's TensorFlow ResponseSelector.

Same input (the pipeline's sentence features) and the same output as
ResponseSelector (`response_selector.faq`: response with confidence,
intent_response_key and utter_action, and a ranking), so the router
(actions/turn.py) and Rasa's `utter_faq` read it unchanged. Trained on the
examples of the retrieval intent (`faq/<id>`) only; the router checks the
confidence (assistant/routing.py) and asks the lexical retriever when it is low.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.nlu.training_data.util import intent_response_key_to_template_key

from components.linear_classifier import LinearIntentClassifier


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FaqSelector(LinearIntentClassifier):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.responses: Dict[str, List[Dict[str, Any]]] = {}

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**LinearIntentClassifier.get_default_config(), "retrieval_intent": "faq"}

    @property
    def retrieval_intent(self) -> str:
        return str(self.config["retrieval_intent"])

    def training_examples(self, training_data: TrainingData) -> List[Tuple[Message, str]]:
        return [
            (e, e.get(INTENT_RESPONSE_KEY))
            for e in training_data.intent_examples
            if e.get(INTENT) == self.retrieval_intent and e.get(INTENT_RESPONSE_KEY) and e.get(TEXT)
        ]

    def train(self, training_data: TrainingData) -> Resource:
        prefix = f"utter_{self.retrieval_intent}/"
        self.responses = {k: v for k, v in training_data.responses.items() if k.startswith(prefix)}
        return super().train(training_data)

    def set_prediction(self, message: Message, ranking: List[Tuple[str, float]]) -> None:
        key, confidence = ranking[0]
        utter = intent_response_key_to_template_key(key)
        selector = dict(message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {})
        selector[RESPONSE_SELECTOR_RETRIEVAL_INTENTS] = [self.retrieval_intent]
        selector[self.retrieval_intent] = {
            RESPONSE_SELECTOR_PREDICTION_KEY: {
                RESPONSE_SELECTOR_RESPONSES_KEY: self.responses.get(utter, []),
                PREDICTED_CONFIDENCE_KEY: confidence,
                INTENT_RESPONSE_KEY: key,
                RESPONSE_SELECTOR_UTTER_ACTION_KEY: utter,
            },
            RESPONSE_SELECTOR_RANKING_KEY: [
                {INTENT_RESPONSE_KEY: k, PREDICTED_CONFIDENCE_KEY: p}
                for k, p in ranking[: self.config["ranking_length"]]
            ],
        }
        message.set(RESPONSE_SELECTOR_PROPERTY_NAME, selector, add_to_output=True)

    def extra_to_persist(self) -> Dict[str, Any]:
        return {"responses": self.responses}

    def restore_extra(self, meta: Dict[str, Any]) -> None:
        self.responses = meta.get("responses") or {}
