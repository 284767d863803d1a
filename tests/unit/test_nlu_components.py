"""The NLU components that replace TensorFlow and the full GiNZA pipeline
(components/lean_spacy.py, linear_classifier.py, faq_selector.py).

* LeanSpacyNLP gives the pipeline exactly what full ja_ginza gives it (tokens,
  offsets, Sudachi normalized forms, readings, tags, vectors) on every eval question
  and on naughty strings: that is why it may skip the rest of the pipeline.
* The linear classifier and the FAQ selector learn from real Rasa messages with
  sparse + dense features, survive a save and load through Rasa's model storage with
  the same predictions, and the selector writes ResponseSelector's output shape,
  which the router's reader (actions/turn.py) understands.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
import spacy
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.faq_selector import FaqSelector
from components.lean_spacy import GINZA_UNUSED, LeanSpacyNLP
from components.lean_tokenizer import reading
from components.linear_classifier import LinearIntentClassifier

REPO = Path(__file__).resolve().parents[2]
EVAL_TEXTS = [
    c["text"] for c in yaml.safe_load((REPO / "tests/eval/cases.yml").read_text("utf-8"))["cases"]
]
NAUGHTY = [
    "",
    " ",
    "ｱﾌﾀｰｺｰﾙﾜｰｸ",
    "ＡＣＷ",
    "🙇‍♀️",
    "<script>alert(1)</script>",
    "あ" * 300,
    "\u3000改行\nあり",
]


# --- LeanSpacyNLP -------------------------------------------------------------------------
def _view(doc) -> list:
    return [(t.text, t.idx, t.norm_, t.tag_, reading(t), t.vector.round(6).tobytes()) for t in doc]


@pytest.fixture(scope="module")
def ginza_pair():
    lean = LeanSpacyNLP.load_lean_model("ja_ginza", GINZA_UNUSED).model
    return spacy.load("ja_ginza", disable=["parser"]), lean  # Rasa's SpacyNLP loads it so


def test_lean_model_has_no_pipeline_components(ginza_pair):
    _, lean = ginza_pair
    assert lean.pipe_names == []
    assert lean.vocab.vectors.shape[0] > 0


def test_lean_loader_keeps_rasas_spacy_version_check(ginza_pair, tmp_path):
    """Rasa's SpacyNLP refuses a model built for another spaCy; so does the lean loader
    (it once loaded any). The installed ja_ginza fits the installed spaCy."""
    from rasa.nlu.model import InvalidModelError

    from components.lean_spacy import _load_once, check_spacy_fits

    _, lean = ginza_pair
    info = spacy.info("ja_ginza")
    assert isinstance(info, dict)
    assert lean.meta["spacy_version"] == info["spacy_version"]  # Rasa's source
    check_spacy_fits("ja_ginza", lean.meta)
    with pytest.raises(InvalidModelError, match="requires a spaCy runtime version"):
        check_spacy_fits("ja_ginza", lean.meta, runtime="4.0.0")
    other = spacy.blank("xx")
    other.meta["spacy_version"] = ">=9.0.0,<9.1.0"
    other.to_disk(tmp_path / "model")
    with pytest.raises(InvalidModelError, match=r">=9\.0\.0,<9\.1\.0.*" + spacy.about.__version__):
        _load_once(str(tmp_path / "model"), ())


@pytest.mark.parametrize("text", EVAL_TEXTS[::7] + NAUGHTY, ids=repr)
def test_lean_model_gives_what_full_ginza_gives(ginza_pair, text):
    full, lean = ginza_pair
    text = text.lower()  # as SpacyNLP passes it (case_sensitive: false)
    full_doc, lean_doc = full(text), lean(text)
    assert _view(lean_doc) == _view(full_doc)
    assert np.allclose(lean_doc.vector, full_doc.vector)


def test_all_eval_questions_tokenize_identically(ginza_pair):
    full, lean = ginza_pair
    differ = [t for t in EVAL_TEXTS if _view(full(t.lower())) != _view(lean(t.lower()))]
    assert differ == []


# --- linear classifier and FAQ selector ---------------------------------------------------
VOCAB = ["とは", "意味", "ACW", "話し", "人", "料金", "解約", "方法", "ありがとう"]


def _message(text: str, intent: str, response_key: str | None = None) -> Message:
    """A message with the features the pipeline would give: counts over VOCAB and a dense
    vector (here a deterministic function of the text)."""
    counts = np.array([[text.count(w) for w in VOCAB]], dtype=float)
    rng = np.random.default_rng(sum(map(ord, intent)))
    data = {TEXT: text, INTENT: intent}
    if response_key:
        data[INTENT_RESPONSE_KEY] = response_key
    m = Message(data=data)
    m.add_features(Features(scipy.sparse.coo_matrix(counts), "sentence", TEXT, "cvf"))
    m.add_features(Features(rng.normal(size=(1, 8)), "sentence", TEXT, "spacy"))
    return m


TRAIN = [
    *(
        _message(t, "define_term")
        for t in ["ACWとは", "ACWの意味", "ACWとは何", "意味を教えて ACW"]
    ),
    *(
        _message(t, "request_human")
        for t in ["人と話したい", "人と話しをしたい", "人に話し", "人を"]
    ),
    *(_message(t, "thanks") for t in ["ありがとう", "ありがとうございます", "どうもありがとう"]),
    *(_message(t, "faq", "faq/fees") for t in ["料金は", "料金を教えて", "料金の方法"]),
    *(_message(t, "faq", "faq/cancel") for t in ["解約方法", "解約したい", "解約の方法は"]),
]


def _storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def _context(name: str) -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), node_name=name)


@pytest.mark.parametrize("cls", [LinearIntentClassifier, FaqSelector])
def test_untrained_component_leaves_messages_alone(tmp_path, cls):
    storage = _storage(tmp_path)
    component = cls.load(cls.get_default_config(), storage, Resource("nothing"), _context("x"))
    message = _message("ACWとは", "define_term")
    component.process([message])
    assert message.get("intent_ranking") is None and message.get("response_selector") is None


def test_intent_classifier_learns_saves_and_loads(tmp_path):
    storage = _storage(tmp_path)
    resource = Resource("intent")
    config = LinearIntentClassifier.get_default_config()
    trained = LinearIntentClassifier.create(config, storage, resource, _context("intent"))
    trained.train(TrainingData(TRAIN))
    queries = [
        _message("ACWの意味とは", "?"),
        _message("人と話し", "?"),
        _message("ありがとう", "?"),
    ]
    trained.process(queries)
    assert [q.get(INTENT)["name"] for q in queries] == ["define_term", "request_human", "thanks"]
    for q in queries:
        ranking = q.get("intent_ranking")
        assert abs(sum(r["confidence"] for r in ranking) - 1) < 1e-6
        assert ranking == sorted(ranking, key=lambda r: -r["confidence"])

    loaded = LinearIntentClassifier.load(config, storage, resource, _context("intent"))
    again = [_message(q.get(TEXT), "?") for q in queries]
    loaded.process(again)
    assert [q.get("intent_ranking") for q in again] == [q.get("intent_ranking") for q in queries]
    stored = {p.name for p in (tmp_path / resource.name).iterdir()}
    assert stored == {"linear.npz", "linear.json"}  # arrays and JSON, no pickle


def test_faq_selector_writes_response_selector_output(tmp_path):
    storage = _storage(tmp_path)
    resource = Resource("faq")
    config = FaqSelector.get_default_config()
    data = TrainingData(
        TRAIN,
        responses={
            "utter_faq/fees": [{"text": "料金は…"}],
            "utter_faq/cancel": [{"text": "解約は…"}],
        },
    )
    selector = FaqSelector.create(config, storage, resource, _context("faq"))
    selector.train(data)
    loaded = FaqSelector.load(config, storage, resource, _context("faq"))
    message = _message("解約の方法", "?")
    loaded.process([message])
    output = message.get("response_selector")
    assert output["all_retrieval_intents"] == ["faq"]
    response = output["faq"]["response"]
    assert response["intent_response_key"] == "faq/cancel"
    assert response["utter_action"] == "utter_faq/cancel"
    assert response["responses"] == [{"text": "解約は…"}]
    assert 0.5 < response["confidence"] <= 1
    assert {r["intent_response_key"] for r in output["faq"]["ranking"]} == {
        "faq/cancel",
        "faq/fees",
    }
    # only the faq examples were learnt: no intent label leaks into the answers
    assert message.get(INTENT) == "?"


def test_sparse_prediction_equals_the_trained_formula(tmp_path):
    """The run-time shortcut (sparse product, norms applied to the logits) gives what the
    model was trained on: weigh(...) @ coef.T + intercept."""
    storage = _storage(tmp_path)
    component = LinearIntentClassifier.create(
        LinearIntentClassifier.get_default_config(), storage, Resource("i"), _context("i")
    )
    component.train(TrainingData(TRAIN))
    model = component.model
    for text in ["ACWとは", "人と話したい 料金", "ありがとう ありがとう ACW", "", "未知の文"]:
        message = _message(text, "?")
        counts, vector = model.raw_features(message)
        row = model.weigh(counts, vector, model.idf, model.dense_weight)
        expected = row @ model.coef.T + model.intercept
        assert np.allclose(model.logits(message), expected), text
