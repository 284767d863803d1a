"""Memory that stays flat under traffic (issue 21, docs/memory.md).

* The lean Japanese tokenizer (components/lean_tokenizer.py) gives the pipeline what
  spaCy's JapaneseTokenizer gives — every eval question and 3,000 generated messages
  with unseen words (katakana names, numbers, typos), also across vocabulary renewals —
  without a MorphAnalysis per token, and its vocabulary stays bounded while spaCy's grows.
* The soak helpers: the text stream really has the share of unseen words it claims,
  the slope is a least-squares slope, also over sub-windows (warm-up that flattens
  vs growth that goes on); counts registered with `add_gauge` (the console's open
  event streams, assistant/gauges.py) are written with the gauges.
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
from devtools.soak import SoakTexts, eval_texts, slope, window_bounds, window_slopes


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


def test_window_bounds_split_the_run_after_warm_up_evenly():
    assert window_bounds(5000, 105_000, 2) == [5000, 55_000, 105_000]
    assert window_bounds(5000, 105_000, 4) == [5000, 30_000, 55_000, 80_000, 105_000]
    assert window_bounds(10, 10, 4) == [10, 10]  # nothing after warm-up: one empty window


def test_window_slopes_tell_warm_up_from_steady_growth():
    # 1 MiB of warm-up growth over the first 20,000 messages, flat to 50,000, then a
    # real leak of 10 KiB per 1,000: one slope over it all hides both.
    points = [
        (x, 100_000.0 + min(x, 20_000) / 20 + max(0, x - 50_000) / 100)
        for x in range(0, 100_001, 1000)
    ]
    (a_lo, a_hi, a_n, a_slope, a_growth), (b_lo, b_hi, b_n, b_slope, b_growth) = window_slopes(
        points, [0, 50_000, 100_000]
    )
    assert (a_lo, a_hi, b_lo, b_hi) == (0, 50_000, 50_000, 100_000)
    assert a_n == b_n == 51  # the point on the boundary counts in both
    assert b_slope == pytest.approx(10.0) and b_growth == pytest.approx(500.0)
    assert a_growth == pytest.approx(1000.0) and 10 < a_slope < 50
    flat_then = window_slopes(points, [20_000, 50_000])[0]
    assert flat_then[3] == pytest.approx(0.0, abs=1e-9) and flat_then[4] == 0.0
    empty = window_slopes(points, [100_500, 200_000])[0]
    assert empty == (100_500, 200_000, 0, 0.0, 0.0)


def test_registered_counts_are_written_with_the_gauges():
    from assistant.gauges import add_gauge, remove_gauge
    from rasa_runtime.memory import gauges

    open_streams = {"n": 3}
    add_gauge("test_streams", lambda: open_streams["n"])
    add_gauge("test_broken", lambda: 1 // 0)  # a failing count is left out
    try:
        assert gauges()["test_streams"] == 3
        open_streams["n"] = 0
        got = gauges()
        assert got["test_streams"] == 0 and "test_broken" not in got
    finally:
        remove_gauge("test_streams")
        remove_gauge("test_broken")


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
