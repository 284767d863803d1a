"""Intent classification with a linear model, without TensorFlow.

The features are the pipeline's sentence features: the sparse counts of both
CountVectorsFeaturizers (character n-grams and words) and the mean GiNZA vector.
Raw counts make long messages look certain (large logits), so the sparse block is
weighted like TF-IDF (log counts × inverse document frequency learnt from the
training examples) and each block is scaled to unit length; then a multinomial
logistic regression (scikit-learn) is trained. At run time the model is a sparse
product and a softmax in numpy (~0.1 ms), and it is stored as plain arrays (.npz +
JSON), not as a pickle.

Why not DIET: it is what keeps TensorFlow's runtime and ~400 MiB in the server and
~4 ms in every parse (README, Measurements); the router (assistant/routing.py)
takes the intent as one piece of evidence, so what matters is a calibrated
confidence, which the eval measures.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Sequence, Tuple, Type

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)
ARRAYS_FILE = "linear.npz"
META_FILE = "linear.json"


class LinearModel:
    """Feature weighting + multinomial logistic regression, as plain arrays."""

    def __init__(
        self,
        labels: Sequence[str],
        coef: np.ndarray,
        intercept: np.ndarray,
        idf: np.ndarray,
        dense_weight: float,
    ) -> None:
        self.labels = list(labels)
        self.coef = coef
        self.intercept = intercept
        self.idf = idf
        self.dense_weight = dense_weight

    @staticmethod
    def sparse_entries(message: Message) -> Tuple[np.ndarray, np.ndarray, int]:
        """The sparse sentence features of the text (every sparse featurizer, side by
        side in pipeline order) as column indices and counts, read straight from the
        features: Message.get_sparse_features stacks scipy matrices on every call,
        which cost ~1 ms a message here."""
        cols, values, width = [], [], 0
        for f in message.features:
            if f.attribute == TEXT and f.type == "sentence" and f.is_sparse():
                coo = f.features.tocoo()  # type: ignore[union-attr]  # is_sparse(): scipy's
                cols.append(coo.col.astype(np.int64) + width)
                values.append(coo.data.astype(np.float64))
                width += coo.shape[1]
        if not cols:
            return np.zeros(0, np.int64), np.zeros(0), 0
        col, value = np.concatenate(cols), np.concatenate(values)
        unique, inverse = np.unique(col, return_inverse=True)
        if len(unique) < len(col):  # repeated entries add up, as in a sparse matrix
            summed = np.zeros(len(unique))
            np.add.at(summed, inverse, value)
            col, value = unique, summed
        return col, value, width

    @staticmethod
    def dense_vector(message: Message) -> np.ndarray:
        parts = [
            np.asarray(f.features, dtype=np.float64).reshape(-1)
            for f in message.features
            if f.attribute == TEXT and f.type == "sentence" and not f.is_sparse()
        ]
        return np.concatenate(parts).reshape(1, -1) if parts else np.zeros((1, 0))

    @classmethod
    def raw_features(cls, message: Message) -> Tuple[scipy.sparse.csr_matrix, np.ndarray]:
        col, value, width = cls.sparse_entries(message)
        counts = scipy.sparse.csr_matrix(
            (value, (np.zeros(len(col), np.int64), col)), shape=(1, width)
        )
        return counts, cls.dense_vector(message)

    @staticmethod
    def learn_idf(counts: scipy.sparse.csr_matrix) -> np.ndarray:
        document_frequency = np.bincount(counts.indices, minlength=counts.shape[1])
        idf: np.ndarray = np.log((1 + counts.shape[0]) / (1 + document_frequency)) + 1.0
        return idf

    @staticmethod
    def weigh(
        counts: scipy.sparse.csr_matrix, vector: np.ndarray, idf: np.ndarray, dense_weight: float
    ) -> np.ndarray:
        """Rows of log(1 + count) × idf at unit length, beside the unit-length vector."""
        counts = counts.tocsr().astype(np.float64)
        counts.data = np.log1p(counts.data)
        weighted = counts.multiply(idf.reshape(1, -1)).toarray()
        weighted /= np.maximum(np.linalg.norm(weighted, axis=1, keepdims=True), 1e-12)
        vector = vector / np.maximum(np.linalg.norm(vector, axis=1, keepdims=True), 1e-12)
        return np.hstack([weighted, vector * dense_weight])

    def logits(self, message: Message) -> np.ndarray:
        """The same as weigh(...) @ coef.T + intercept, without building the row: a
        message has a few dozen n-grams out of tens of thousands, so a prediction
        costs its non-zeros times the labels."""
        n_sparse = self.idf.shape[0]
        col, value, _ = self.sparse_entries(message)
        keep = col < n_sparse  # (a featurizer never grows after training; be safe)
        col, value = col[keep], np.log1p(value[keep]) * self.idf[col[keep]]
        out = self.intercept.astype(np.float64).copy()
        norm = np.sqrt(np.dot(value, value))
        if norm > 0:
            out += (self.coef[:, col] @ value) / norm
        vector = self.dense_vector(message).reshape(-1)
        vector_norm = np.linalg.norm(vector)
        if vector.size and vector_norm > 0:
            out += (self.coef[:, n_sparse:] @ vector) * (self.dense_weight / vector_norm)
        return out.reshape(1, -1)

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        if logits.shape[1] == 1:  # scikit-learn's binary form: one column for labels[1]
            p = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.stack([1 - p, p], axis=1)
        logits = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        probabilities: np.ndarray = e / e.sum(axis=1, keepdims=True)
        return probabilities

    def ranking(self, message: Message) -> List[Tuple[str, float]]:
        p = self.probabilities(self.logits(message))[0]
        order = np.argsort(-p, kind="stable")
        return [(self.labels[i], float(p[i])) for i in order]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> List[Type]:
        return [Featurizer]

    @staticmethod
    def required_packages() -> List[str]:
        return ["sklearn"]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "C": 50.0,  # inverse regularisation (unit-length features need little)
            "dense_weight": 1.0,  # the GiNZA vector's share beside the counts
            "max_iter": 2000,
            "random_state": 42,
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        name: Optional[str],  # Rasa's ExecutionContext.node_name
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[LinearModel] = None,
    ) -> None:
        self.name = name
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, execution_context.node_name, model_storage, resource)

    # --- what is learnt: overridden by the FAQ selector ---------------------------------
    def training_examples(self, training_data: TrainingData) -> List[Tuple[Message, str]]:
        return [
            (e, e.get(INTENT))
            for e in training_data.intent_examples
            if e.get(INTENT) and e.get(TEXT)
        ]

    def set_prediction(self, message: Message, ranking: List[Tuple[str, float]]) -> None:
        shown = [{"name": k, "confidence": p} for k, p in ranking[: self.config["ranking_length"]]]
        message.set(INTENT, shown[0], add_to_output=True)
        message.set("intent_ranking", shown, add_to_output=True)

    # --- training and prediction ---------------------------------------------------------
    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        examples = self.training_examples(training_data)
        labels = sorted({label for _, label in examples})
        if len(labels) < 2:
            logger.debug(f"{self.name}: fewer than two labels, not trained.")
            return self._resource
        raw = [LinearModel.raw_features(m) for m, _ in examples]
        counts = scipy.sparse.vstack([c for c, _ in raw]).tocsr()
        vectors = np.vstack([v for _, v in raw])
        idf = LinearModel.learn_idf(counts)
        dense_weight = float(self.config["dense_weight"])
        X = LinearModel.weigh(counts, vectors, idf, dense_weight)
        y = [label for _, label in examples]
        clf = LogisticRegression(
            C=float(self.config["C"]),
            class_weight="balanced",
            max_iter=int(self.config["max_iter"]),
            random_state=int(self.config["random_state"]),
        )
        clf.fit(X, y)
        self.model = LinearModel(
            [str(c) for c in clf.classes_], clf.coef_, clf.intercept_, idf, dense_weight
        )
        self.persist()
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        if self.model is None:
            return messages
        for message in messages:
            self.set_prediction(message, self.model.ranking(message))
        return messages

    def persist(self) -> None:
        if self.model is None:
            return
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(
                directory / ARRAYS_FILE,
                coef=self.model.coef,
                intercept=self.model.intercept,
                idf=self.model.idf,
            )
            meta = {"labels": self.model.labels, "dense_weight": self.model.dense_weight}
            meta.update(self.extra_to_persist())
            (directory / META_FILE).write_text(json.dumps(meta, ensure_ascii=False), "utf-8")

    def extra_to_persist(self) -> Dict[str, Any]:
        return {}

    def restore_extra(self, meta: Dict[str, Any]) -> None:
        pass

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        component = cls(config, execution_context.node_name, model_storage, resource)
        try:
            with model_storage.read_from(resource) as directory:
                arrays = np.load(directory / ARRAYS_FILE, allow_pickle=False)
                meta = json.loads((directory / META_FILE).read_text("utf-8"))
        except (ValueError, OSError):
            logger.debug(f"{cls.__name__}: nothing stored for '{resource.name}' (not trained).")
            return component
        component.model = LinearModel(
            meta["labels"],
            arrays["coef"],
            arrays["intercept"],
            arrays["idf"],
            float(meta["dense_weight"]),
        )
        component.restore_extra(meta)
        return component
