"""Memory that stays flat under traffic (issue 21, docs/memory.md).

* The lean Japanese tokenizer (components/lean_tokenizer.py) gives the pipeline what
  spaCy's JapaneseTokenizer gives — every eval question and 3,000 generated messages
  with unseen words (katakana names, numbers, typos), also across vocabulary renewals —
  without a MorphAnalysis per token, and its vocabulary stays bounded while spaCy's grows.
* The soak helpers: the text stream really has the share of unseen words it claims,
  the slope is a least-squares slope.
The short in-process soak with the real model is `make soak-short` (part of `make test`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import spacy

from components.lean_spacy import GINZA_UNUSED, LeanSpacyNLP
from components.lean_tokenizer import LeanJapaneseTokenizer, install, reading, view
from devtools.soak import SoakTexts, eval_texts, slope


@pytest.fixture(scope="module")
def stock():
    return spacy.load("ja_ginza", exclude=list(GINZA_UNUSED))


@pytest.fixture(scope="module")
def lean():
    return LeanSpacyNLP.load_lean_model("ja_ginza", GINZA_UNUSED).model


def test_the_model_runs_the_lean_tokenizer(lean):
    assert isinstance(lean.tokenizer, LeanJapaneseTokenizer)


def test_every_eval_question_gives_the_same_tokens(stock, lean):
    differ = [t for t in eval_texts() if view(lean(t.lower())) != view(stock(t.lower()))]
    assert differ == []


def test_unseen_words_give_the_same_tokens_across_renewals(stock):
    tokenizer = LeanJapaneseTokenizer(stock.tokenizer, max_strings=300)
    texts = SoakTexts(unseen=1.0, seed=5)
    differ = []
    for _ in range(3000):
        text = next(texts).lower()
        if view(tokenizer(text)) != view(stock(text)):
            differ.append(text)
    assert texts.unseen_count == 3000
    assert tokenizer.renewals > 10  # the comparison crossed many fresh vocabularies
    assert differ == []


def test_readings_are_kept_without_morph_analysis(lean):
    doc = lean("顧客まんぞく度")
    assert [reading(t) for t in doc] == ["コキャク", "マンゾク", "ド"]
    assert all(str(t.morph) == "" for t in doc)  # no MorphAnalysis was made
    assert np.allclose(
        doc[0].vector,
        np.asarray(spacy.load("ja_ginza", exclude=list(GINZA_UNUSED))("顧客")[0].vector),
    )


def test_vocabulary_stays_bounded_where_spacys_grows(stock):
    tokenizer = LeanJapaneseTokenizer(stock.tokenizer, max_strings=1000)
    strings_before = len(stock.vocab.strings)
    texts = SoakTexts(unseen=1.0, seed=9)
    batch = [next(texts) for _ in range(1500)]
    for text in batch:
        stock(text)
        tokenizer(text)
    assert len(tokenizer.vocab.strings) <= 1000 + 200  # at most one message past the bound
    assert len(stock.vocab.strings) - strings_before > 1500  # what spaCy's tokenizer keeps


def test_install_refuses_a_tokenizer_it_does_not_mirror():
    blank = spacy.blank("en")
    assert install(blank) is None
    assert not isinstance(blank.tokenizer, LeanJapaneseTokenizer)


def test_soak_texts_have_the_share_of_unseen_words():
    texts = SoakTexts(unseen=0.4, seed=1)
    batch = [next(texts) for _ in range(5000)]
    known = set(texts.base)
    share = sum(t not in known for t in batch) / len(batch)
    assert 0.35 <= share <= 0.45
    assert texts.unseen_count / texts.count == pytest.approx(0.4, abs=0.03)


def test_slope_is_kib_per_thousand_messages():
    assert slope([(0, 100.0), (1000, 110.0), (2000, 120.0)]) == pytest.approx(10.0)
    assert slope([(0, 5.0), (500, 5.0)]) == 0.0


def test_servers_memory_hooks_trace_on_signal_and_trim(tmp_path):
    # What `scripts/soak.py --trace` relies on in both servers (rasa_runtime/memory.py):
    # the first SIGUSR1 starts tracemalloc (a marker file), the second writes a snapshot.
    import os
    import subprocess
    import sys
    import textwrap
    import tracemalloc

    code = textwrap.dedent("""
        import os, signal, sys, time
        from rasa_runtime.memory import install_memory_hooks
        install_memory_hooks()
        os.kill(os.getpid(), signal.SIGUSR1)
        keep = [bytearray(1000) for _ in range(100)]
        os.kill(os.getpid(), signal.SIGUSR1)
        time.sleep(0.2)
    """)
    repo = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": str(repo),
        "MEMTRACE_DIR": str(tmp_path),
        "MALLOC_TRIM_EVERY": "0.05",
    }
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    files = sorted(p.name.split("-", 1)[1] for p in tmp_path.glob("*.snap"))
    assert files == ["0.snap", "1.snap"]
    snap = tracemalloc.Snapshot.load(str(next(tmp_path.glob("*-1.snap"))))
    assert sum(s.size for s in snap.statistics("filename")) >= 100_000  # the 100 KB kept alive
    gauges = json.loads(Path(str(next(tmp_path.glob("*-1.snap"))) + ".json").read_text())
    assert gauges["traced"] >= 100_000
    assert gauges["rss_anon"] > 0 and gauges["threads"] >= 1


def test_gauges_see_memory_below_python():
    # What tracemalloc cannot see: SQLite's page cache and glibc's heap (the soak's
    # table beside every snapshot).
    import sqlite3

    from rasa_runtime.memory import gauges

    before = gauges()
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", [("x" * 200,) for _ in range(5000)])
    after = gauges()
    assert after["sqlite"] - before["sqlite"] > 500_000  # ~1 MB of rows in SQLite's pages
    assert after["malloc_in_use"] > before["malloc_in_use"]
    assert after["pymalloc_arenas"] >= after["pymalloc_used"] > 0  # Python's own arenas
    conn.close()
    assert gauges()["sqlite"] < after["sqlite"]


def test_gauges_only_mode_writes_gauges_without_tracing(tmp_path):
    # `scripts/soak.py --gauges-only`: MEMTRACE_FRAMES=0, the servers run at full speed.
    import os
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import os, signal, tracemalloc
        from rasa_runtime.memory import install_memory_hooks
        install_memory_hooks()
        os.kill(os.getpid(), signal.SIGUSR1)
        os.kill(os.getpid(), signal.SIGUSR1)
        assert not tracemalloc.is_tracing()
    """)
    repo = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": str(repo),
        "MEMTRACE_DIR": str(tmp_path),
        "MEMTRACE_FRAMES": "0",
    }
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    snaps = sorted(tmp_path.glob("*.snap"))
    assert [p.name.split("-", 1)[1] for p in snaps] == ["0.snap", "1.snap"]
    assert all(p.stat().st_size == 0 for p in snaps)
    gauges = json.loads(Path(str(snaps[1]) + ".json").read_text())
    assert "traced" not in gauges
    assert gauges["pymalloc_arenas"] > 0 and gauges["malloc_in_use"] > 0
