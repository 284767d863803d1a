"""The training store on SQLite and a real PostgreSQL (the handoff fixtures' db_url):
answers, session scores, boxes, the group's hardest terms, glossary gaps."""

from __future__ import annotations

from assistant.glossary import load_glossary
from assistant.training.session import Trainer
from assistant.training.store import TrainingStore


def test_progress_on_both_databases(db_url):
    store = TrainingStore(db_url)
    TrainingStore(db_url)  # a second server starting on the same database
    trainer = Trainer(store, load_glossary(), total=3)
    trainer.start("a")
    for answer in ("わかりません", "1", "わかりません"):
        trainer.answer("a", answer)
    s = store.sessions_of("a")[0]
    assert s.asked == 3 and s.finished is not None
    assert len(store.answers_of("a")) == 3
    assert len(store.weak_terms("a")) >= 2
    hardest = store.hardest_terms()
    assert hardest and all(wrong >= 1 for _, wrong, _ in hardest)
    store.record_gap("a", "ほげ")
    assert store.glossary_gaps() == [("ほげ", 1)]
    store.engine.dispose()
