"""GiNZA tokens with folded text, so featurizers see one spelling per word.

Users write ｵﾍﾟﾚｰﾀｰ, おぺれーたー and オペレータ for the same word; the intent
classifier should not have to learn each. Token offsets stay those of the
original text (entities and the tracker keep what the user wrote); only the
token text and lemma (what CountVectorsFeaturizer reads) are folded:
text = key_form(surface), lemma = key_form(Sudachi normalized form).
"""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.spacy_tokenizer import POS_TAG_KEY, SpacyTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from assistant.normalize import key_form


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class NormalizingSpacyTokenizer(SpacyTokenizer):
    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        doc = self._get_doc(message, attribute)
        if not doc:
            return []
        tokens = []
        for t in doc:
            if not t.text or not t.text.strip():
                continue
            text = key_form(t.text) or t.text
            lemma = key_form(t.norm_ or t.text) or text
            tokens.append(
                Token(
                    text,
                    t.idx,
                    end=t.idx + len(t.text),
                    lemma=lemma,
                    data={POS_TAG_KEY: self._tag_of_token(t)},
                )
            )
        return self._apply_token_pattern(tokens)
