"""Benchmark: the glossary matcher at content scale (in-process, no servers).

    python scripts/bench_content.py [--sizes 41,10000,100000] [--queries 400] [--repeat 3]

For each glossary size: the real glossary (41 terms) padded with *synthetic* terms
(made-up katakana / kanji / ASCII names from a fixed seed; load only, never shown to
a user), then

* build   — `TermMatcher(glossary)` (median of --repeat builds),
* lookup  — 「<name>とは?」: `find` + `question.definition_subjects` (what the
            action does per message), p50 / p95 over --queries messages,
* suggest — もしかして for typos of names, glued compounds (「<name>時間」) and
            made-up words: `suggest`, p50 / p95.

Prints one table (`make bench` appends it to the latency table).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from assistant import question  # noqa: E402
from assistant.glossary import Definition, Glossary, Term, load_glossary  # noqa: E402
from assistant.matcher import TermMatcher  # noqa: E402
from assistant.normalize import key_form  # noqa: E402

# -- synthetic glossary ---------------------------------------------------------------

_KANA = (
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
    "ガギグゲゴザジズゼゾダデドバビブベボパピプペポ"
)
_YOON = [
    "キャ",
    "キュ",
    "キョ",
    "シャ",
    "シュ",
    "ショ",
    "チャ",
    "チュ",
    "チョ",
    "ジャ",
    "ジュ",
    "ジョ",
    "リャ",
    "リュ",
    "リョ",
    "ティ",
    "ディ",
    "ファ",
    "フィ",
    "フォ",
    "ウェ",
    "ヴァ",
]
_KANJI = (
    "顧客管理応対品質業務電話受付窓口情報処理通話記録分析評価指標運用支援対応時間率数量件"
    "営業販売契約解約変更申込確認問合返品交換配送請求料金支払口座番号登録本人認証承認保留"
    "転送着信発信自動音声応答待機稼働稼動予測計画人員配置研修教育育成監視改善満足度離脱"
    "放棄完了一次解決平均処理後作業品目在庫注文出荷集計報告会議資料共有連携統合外部委託"
)
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _katakana_word(rng: random.Random, lo: int = 2, hi: int = 6) -> str:
    out = []
    for _ in range(rng.randint(lo, hi)):
        r = rng.random()
        out.append(rng.choice(_YOON) if r < 0.12 else rng.choice(_KANA))
        r = rng.random()
        if r < 0.15:
            out.append("ー")
        elif r < 0.2:
            out.append("ッ")
    return "".join(out).lstrip("ーッ") or "ア"


def _kanji_word(rng: random.Random, lo: int = 2, hi: int = 4) -> str:
    return "".join(rng.choice(_KANJI) for _ in range(rng.randint(lo, hi)))


def _ascii_word(rng: random.Random) -> str:
    return "".join(rng.choice(_UPPER) for _ in range(rng.randint(2, 5)))


def _kana_reading(rng: random.Random, name: str) -> str:
    """A plausible hiragana reading (katakana folded; kanji replaced by made-up sounds)."""
    out = []
    for ch in name:
        if "\u30a1" <= ch <= "\u30f6":
            out.append(chr(ord(ch) - 0x60))
        elif ch == "ー":
            out.append(ch)
        else:
            out.append("".join(chr(ord(k) - 0x60) for k in _katakana_word(rng, 1, 2) if k != "ー"))
    return "".join(out)


def _name(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        return _katakana_word(rng, 3, 7)
    if r < 0.70:
        return _kanji_word(rng)
    if r < 0.85:
        return _katakana_word(rng, 2, 5) + _kanji_word(rng, 1, 3)
    if r < 0.93:
        return _katakana_word(rng, 2, 4) + _katakana_word(rng, 2, 4)
    return _katakana_word(rng, 2, 4) + _ascii_word(rng)


def synthetic_glossary(size: int, seed: int = 20261123, base: Glossary | None = None) -> Glossary:
    """The real glossary (or `base`) padded to `size` terms with made-up ones.

    Deterministic for a given (size, seed). Every key form is new: no synthetic name
    collides with a real one or another synthetic one."""
    base = load_glossary() if base is None else base
    terms = list(base.terms)[:size]
    seen = {key_form(n) for t in terms for n in t.names}
    rng = random.Random(seed)
    cats = ["基本用語", "指標", "システム", "業務", "役割"]
    definition = (Definition(text="(合成データ。ベンチマーク専用)", source="synthetic"),)
    while len(terms) < size:
        head = _name(rng)
        names = [head]
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            names.append(_ascii_word(rng) if rng.random() < 0.4 else _name(rng))
        keys = [key_form(n) for n in names]
        if any(k in seen or len(k) < 2 for k in keys) or len(set(keys)) != len(keys):
            continue
        seen.update(keys)
        terms.append(
            Term(
                term=head,
                reading=_kana_reading(rng, head),
                aliases=tuple(names[1:]),
                category=rng.choice(cats),
                related=(),
                definitions=definition,
            )
        )
    return Glossary(terms=tuple(terms))


def _typo(rng: random.Random, word: str) -> str:
    chars = list(word)
    i = rng.randrange(len(chars))
    op = rng.random()
    if op < 0.4 and len(chars) > 2:
        del chars[i]
    elif op < 0.7:
        chars[i] = rng.choice(_KANA)
    else:
        chars.insert(i, rng.choice(_KANA))
    return "".join(chars)


def suggest_queries(glossary: Glossary, n: int, seed: int = 7) -> list[str]:
    """What reaches もしかして: typos of names, names glued to a noun, made-up words."""
    rng = random.Random(seed)
    names = [name for t in glossary for name in t.names]
    out = [
        "エスカレション",
        "スパーバイザー",
        "コストセンター",
        "ACW時間",
        "チャットボット",
        "ラーメン",
    ]
    while len(out) < n:
        r = rng.random()
        if r < 0.5:
            out.append(_typo(rng, rng.choice(names)))
        elif r < 0.7:
            out.append(rng.choice(names) + rng.choice(["時間", "管理", "担当", "率"]))
        elif r < 0.9:
            out.append(_katakana_word(rng, 3, 7))
        else:
            out.append(_kanji_word(rng, 2, 4))
    return out[:n]


def lookup_queries(glossary: Glossary, n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    names = [name for t in glossary for name in t.names]
    forms = ["{}とは?", "{}って何ですか", "{}の意味を教えて", "研修で{}という言葉が出ました"]
    return [rng.choice(forms).format(rng.choice(names)) for _ in range(n)]


# -- measuring -----------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(q / 100 * (len(values) - 1))))
    return values[k]


def _timed(fn, items: list[str]) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def measure(size: int, n_queries: int, repeat: int) -> dict[str, float]:
    glossary = synthetic_glossary(size)
    builds = []
    matcher = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        matcher = TermMatcher(glossary)
        builds.append(time.perf_counter() - t0)
    assert matcher is not None

    def lookup(text: str) -> None:
        question.definition_subjects(text, matcher.find(text))

    lq = lookup_queries(glossary, n_queries)
    sq = suggest_queries(glossary, n_queries)
    _timed(lookup, lq[:20])  # warm-up
    _timed(matcher.suggest, sq[:20])
    look = _timed(lookup, lq)
    sugg = _timed(matcher.suggest, sq)
    return {
        "terms": len(glossary),
        "names": sum(len(t.names) for t in glossary),
        "build_s": statistics.median(builds),
        "build_min": min(builds),
        "build_max": max(builds),
        "lookup_p50": statistics.median(look),
        "lookup_p95": percentile(look, 95),
        "lookup_max": max(look),
        "suggest_p50": statistics.median(sugg),
        "suggest_p95": percentile(sugg, 95),
        "suggest_max": max(sugg),
    }


def table_rows(sizes: list[int], n_queries: int = 400, repeat: int = 3) -> list[tuple]:
    """Rows in `scripts/bench_latency.py`'s table: (measure, n, p50, p95, max) in ms."""
    rows: list[tuple] = []
    for size in sizes:
        r = measure(size, n_queries, repeat)
        label = f"{r['terms']:,} terms"
        rows += [
            (f"glossary build ({label})", repeat, 1000 * r["build_s"], None, 1000 * r["build_max"]),
            (
                f"term lookup + question ({label})",
                n_queries,
                r["lookup_p50"],
                r["lookup_p95"],
                r["lookup_max"],
            ),
            (
                f"fuzzy suggest ({label})",
                n_queries,
                r["suggest_p50"],
                r["suggest_p95"],
                r["suggest_max"],
            ),
        ]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="41,10000,100000")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3, help="builds per size (median)")
    args = parser.parse_args()
    rows = [measure(int(s), args.queries, args.repeat) for s in args.sizes.split(",")]
    print(
        f"{'glossary (in-process)':<36}{'terms':>8}{'build ms':>10}{'lookup p50/p95 ms':>19}"
        f"{'もしかして p50/p95/max ms':>24}"
    )
    for r in rows:
        print(
            f"{'matcher + question analysis':<36}{r['terms']:>8,}{1000 * r['build_s']:>10,.0f}"
            f"{r['lookup_p50']:>11.3f} /{r['lookup_p95']:>6.3f}"
            f"{r['suggest_p50']:>12.2f} /{r['suggest_p95']:>6.2f} /{r['suggest_max']:>6.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
