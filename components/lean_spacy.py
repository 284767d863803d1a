"""SpacyNLP that loads only the GiNZA parts this pipeline reads.

Rasa's SpacyNLP loads all of `ja_ginza` (tok2vec, parser, NER, morphologizer,
compound splitter, bunsetu recognizer) and runs all but the parser on every
message: ~10 ms a message on 2 cores. The pipeline reads only what the Sudachi
tokenizer and the static vectors give: token text and offsets, Sudachi's
normalized form (`norm_`), the reading (`morph`), the tag, and `token.vector`
(from the vectors table, since `ja_ginza` has one). Those are identical without
the other components (measured on the 427 eval questions: 0 differences), and a
parse takes ~0.2 ms. `exclude` lists what is not loaded at all. As Rasa's SpacyNLP
does, loading fails with InvalidModelError when the installed spaCy is not one the
model was built for (the model's `spacy_version` requirement).

The tokenizer itself is replaced by `lean_tokenizer.LeanJapaneseTokenizer`: the same
Doc without the MorphAnalysis and vocabulary entries spaCy keeps forever for every
new word (docs/memory.md); readings are read with `lean_tokenizer.reading(token)`.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Dict, List, Tuple

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.model import InvalidModelError
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP

from assistant.settings import get_settings
from components import lean_tokenizer

logger = logging.getLogger(__name__)

# Everything ja_ginza has after its tokenizer; none of it is read downstream.
GINZA_UNUSED = [
    "tok2vec",
    "parser",
    "ner",
    "morphologizer",
    "compound_splitter",
    "bunsetu_recognizer",
]


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.MODEL_LOADER,
        DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER,
    ],
    is_trainable=False,
    model_from="LeanSpacyNLP",
)
class LeanSpacyNLP(SpacyNLP):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**SpacyNLP.get_default_config(), "exclude": list(GINZA_UNUSED)}

    @staticmethod
    def load_lean_model(name: str, exclude: List[str]) -> SpacyModel:
        return _load_once(name, tuple(sorted(exclude)))

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LeanSpacyNLP:
        config = {**cls.get_default_config(), **config}
        logger.info(f"Loading spaCy model '{config['model']}' without {config['exclude']}.")
        model = cls.load_lean_model(config["model"], list(config["exclude"]))
        cls.ensure_proper_language_model(model.model)
        return cls(model, config)


# Rasa's graph creates the component twice (the `provide_` node that hands the model to
# others and the `run_` node that parses), and SpacyNLP.create loads the model each
# time: two copies of GiNZA + Sudachi, ~300 MiB each (measured: `rasa run` RSS 1,164 MiB
# with two, ~860 with one). Both nodes get the same read-only Language object here.
@functools.lru_cache(maxsize=4)
def _load_once(name: str, exclude: Tuple[str, ...]) -> SpacyModel:
    import spacy

    try:
        language = spacy.load(name, exclude=list(exclude))
    except OSError as e:
        raise InvalidModelError(f"spaCy model '{name}' is not installed: {e}") from e
    check_spacy_fits(name, language.meta)
    if language.vocab.vectors.shape[0] == 0:
        # Without a vectors table token.vector would come from the excluded tok2vec.
        raise InvalidModelError(f"'{name}' has no static vectors; use SpacyNLP")
    # The tokenizer without the per-message memory spaCy never frees (lean_tokenizer.py).
    # LEAN_TOKENIZER=0 keeps spaCy's (for before/after measurements: scripts/soak.py).
    lean = lean_tokenizer.install(language) if get_settings().lean_tokenizer else None
    # The name keeps the exclusions: a different set is a different feature source.
    suffix = "-lean-tokenizer" if lean else ""
    return SpacyModel(model=language, model_name=f"{name}-{'-'.join(exclude)}{suffix}")


def check_spacy_fits(name: str, meta: Dict[str, Any], runtime: str = "") -> None:
    """Rasa's check in `SpacyNLP.load_model`: the running spaCy must satisfy the
    model's `spacy_version` requirement (its meta.json, which `spacy.info` reads)."""
    import spacy

    runtime = runtime or spacy.about.__version__
    required = meta.get("spacy_version", "") if isinstance(meta, dict) else ""
    if not spacy.util.is_compatible_version(runtime, required):
        raise InvalidModelError(
            f"The specified model - {name} requires a spaCy runtime version {required} "
            f"and is not compatible with the current spaCy runtime version {runtime}"
        )
