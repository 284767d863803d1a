"""The content studio's domain: records, validation, revisions and conflicts, the live
swap, import / export, test all (SQLite and PostgreSQL, no servers)."""

from __future__ import annotations

import csv
import io
import threading
import time

import pytest

from assistant.content import preview, transfer
from assistant.content.live import LiveContent
from assistant.content.model import clean_term, from_files
from assistant.content.service import ContentService, check_changes
from assistant.content.store import Change, Conflict, Rejected
from assistant.handoff.db import make_engine
from tests.support.pg import fresh_pg_database, pg_server_url  # noqa: F401  (fixture)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        e = make_engine(f"sqlite:///{tmp_path / 'content.db'}")
        yield e
        e.dispose()
        return
    for url in fresh_pg_database(request.getfixturevalue("pg_server_url")):
        e = make_engine(url)
        yield e
        e.dispose()


@pytest.fixture
def service(engine):
    s = ContentService(engine)
    s.ensure_seeded()
    return s


def aht(definition="平均処理時間です。", **extra):
    return {
        "term": "AHT",
        "reading": "えーえいちてぃー",
        "category": "指標",
        "aliases": extra.pop("aliases", ["平均処理時間"]),
        "related": extra.pop("related", []),
        "definitions": [{"text": definition, "source": "editor"}],
    }


def test_seeded_once_from_the_files_and_equal_to_them(service, engine):
    files = from_files()
    content = service.content()
    assert [t.term for t in content.glossary] == [t.term for t in files.glossary]
    assert content.glossary == files.glossary and dict(content.faqs) == dict(files.faqs)
    assert ContentService(engine).store.seed([], []) is False  # a second server does not seed again


def test_a_change_is_a_revision_with_who_before_and_after(service):
    first = service.create_term(aht(), "sato")
    item = service.find("term", "AHT")
    second = service.save("term", aht("新しい定義です。"), "suzuki", item.id, item.revision)
    assert second > first
    history = service.store.history(item.id)
    assert [(h["action"], h["actor"]) for h in history] == [
        ("update", "suzuki"),
        ("create", "sato"),
    ]
    assert history[0]["before"]["definitions"][0]["text"] == "平均処理時間です。"
    assert history[0]["after"]["definitions"][0]["text"] == "新しい定義です。"
    assert service.store.marker() == second


def test_a_stale_edit_is_a_conflict_with_the_newer_item(service):
    service.create_term(aht(), "sato")
    item = service.find("term", "AHT")
    service.save("term", aht("Aの定義です。"), "sato", item.id, item.revision)
    with pytest.raises(Conflict) as err:
        service.save("term", aht("Bの定義です。"), "suzuki", item.id, item.revision)
    assert err.value.current.data["definitions"][0]["text"] == "Aの定義です。"


def test_concurrent_saves_of_one_revision_have_one_winner(service):
    service.create_term(aht(), "sato")
    item = service.find("term", "AHT")
    results: list[str] = []
    barrier = threading.Barrier(4)

    def save(i: int) -> None:
        barrier.wait()
        try:
            service.save("term", aht(f"定義{i}です。"), f"editor{i}", item.id, item.revision)
            results.append("ok")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=save, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict"] * 3 + ["ok"]


def test_restore_brings_back_an_old_record_as_a_new_revision(service):
    service.create_term(aht("古い定義です。"), "sato")
    item = service.find("term", "AHT")
    service.save("term", aht("新しい定義です。"), "sato", item.id, item.revision)
    service.set_enabled("term", item.id, False, "sato")
    assert service.content().glossary.get("AHT") is None
    oldest = service.store.history(item.id)[-1]["id"]
    service.restore(oldest, "suzuki")
    assert service.content().glossary.get("AHT").definitions[0].text == "古い定義です。"
    assert len(service.store.history(item.id)) == 4


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"term": ""}, "term", "見出し語を入力"),
        ({"reading": "ahtee"}, "reading", "ひらがなかカタカナ"),
        ({"reading": ""}, "reading", "読みを入力"),
        ({"category": ""}, "category", "カテゴリを入力"),
        ({"aliases": ["ａｃｗ"]}, "aliases", "アフターコールワーク"),
        ({"aliases": ["ー時"]}, "aliases", "1文字"),
        ({"term": "オペレータ"}, "term", "オペレーター"),
        ({"related": ["ないもの"]}, "related", "用語集にありません"),
        ({"related": ["AHT"]}, "related", "自分自身"),
        ({"definitions": []}, "definitions", "定義を一つ以上"),
        ({"definitions": [{"text": "", "source": "x"}]}, "definitions", "本文を入力"),
        ({"definitions": [{"text": "x" * 2001, "source": "x"}]}, "definitions", "2000文字以内"),
    ],
)
def test_bad_terms_are_rejected_with_a_message_and_nothing_is_written(
    service, change, field, words
):
    before = service.store.marker()
    with pytest.raises(Rejected) as err:
        service.create_term({**aht(), **change}, "sato")
    assert any(p["field"] == field and words in p["message"] for p in err.value.problems), (
        err.value.problems
    )
    assert service.store.marker() == before


@pytest.mark.parametrize(
    "change, field",
    [
        ({"id": "Bad ID"}, "id"),
        ({"id": "contact_center_basics"}, "id"),
        ({"title": ""}, "title"),
        ({"answer": ""}, "answer"),
        ({"url": "javascript:alert(1)"}, "url"),
    ],
)
def test_bad_faqs_are_rejected(service, change, field):
    faq = {
        "id": "new_faq",
        "title": "題",
        "answer": "答え。",
        "source": "editor",
        "questions": ["問い"],
    }
    with pytest.raises(Rejected) as err:
        service.apply([Change("faq", {**faq, **change})], "sato")
    assert any(p["field"] == field for p in err.value.problems)


def test_inbox_seams_add_an_alias_and_an_example_question(service):
    service.add_alias("アフターコールワーク", "あとしょり作業", "sato")
    assert service.content().matcher.find("あとしょり作業って何")[0].term == "アフターコールワーク"
    service.add_faq_question("contact_center_basics", "窓口って結局なんなの", "sato")
    assert "窓口って結局なんなの" in service.content().faqs["contact_center_basics"].questions
    with pytest.raises(Rejected):
        service.add_alias("アウトバウンド", "ACW", "sato")  # ACW is another term's name


def test_live_content_swaps_on_the_marker_and_turns_keep_their_revision(engine):
    writer = ContentService(engine)
    writer.ensure_seeded()
    live = LiveContent(engine, poll=0.05).start()
    try:
        held = live.current
        writer.create_term(aht(), "sato")
        deadline = time.monotonic() + 3
        while live.current.glossary.get("AHT") is None:
            assert time.monotonic() < deadline, "not swapped within 3 s"
            time.sleep(0.02)
        assert held.glossary.get("AHT") is None  # what a turn took stays whole
        assert live.current.matcher.find("AHTとは")[0].term == "AHT"
        assert live.current.knowledge is not held.knowledge
    finally:
        live.stop()


# -- import / export ----------------------------------------------------------------


def csv_bytes(rows, encoding="utf-8"):
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


@pytest.mark.parametrize(
    "kind, fmt", [("term", "csv"), ("faq", "csv"), ("term", "xlsx"), ("faq", "xlsx")]
)
def test_export_import_round_trip_is_unchanged(service, kind, fmt):
    snap = service.snapshot()
    rows = transfer.export_rows(kind, [i.data for i in snap.enabled(kind)])
    data = transfer.to_csv(rows) if fmt == "csv" else transfer.to_xlsx(rows, kind)
    plan = transfer.plan_import(kind, data, fmt, snap, check_changes)
    assert (plan.errors, plan.added, plan.changed) == ([], [], [])
    assert plan.unchanged == len(snap.enabled(kind))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_csv_encodings(service, encoding):
    data = csv_bytes(
        [
            ["見出し語", "読み", "カテゴリ", "定義1", "出典1", "別名"],
            [
                "取込",
                "とりこみ",
                "運用",
                "取り込みの定義です。",
                "a.csv",
                "インポート|取り込み作業",
            ],
        ],
        encoding,
    )
    plan = transfer.plan_import("term", data, "csv", service.snapshot(), check_changes)
    assert plan.errors == [] and plan.added == [{"row": 2, "key": "取込"}]
    assert plan.changes[0].data["aliases"] == ["インポート", "取り込み作業"]


def test_import_changed_rows_name_their_fields_and_errors_their_rows(service):
    snap = service.snapshot()
    acw = next(i for i in snap.items if i.key == "アフターコールワーク").data
    data = csv_bytes(
        [
            ["term", "reading", "category", "aliases", "related", "definition_1", "source_1"],
            [
                acw["term"],
                acw["reading"],
                "別のカテゴリ",
                "|".join(acw["aliases"]),
                "|".join(acw["related"]),
                acw["definitions"][0]["text"],
                acw["definitions"][0]["source"],
            ],
            ["重複", "ちょうふく", "運用", "", "", "定義です。", "x"],
            ["重複", "ちょうふく", "運用", "", "", "定義です。", "x"],
            ["読み不正", "yomi", "運用", "", "", "定義です。", "x"],
        ]
    )
    plan = transfer.plan_import("term", data, "csv", snap, check_changes)
    assert (
        plan.changed[0]["key"] == "アフターコールワーク" and "category" in plan.changed[0]["fields"]
    )
    assert [(e["row"], e["field"]) for e in plan.errors] == [(4, "term"), (5, "reading")]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    "column, value",
    [
        ("term", "XSS<b>太字</b>"),
        ("aliases", "取込語|<img src=x onerror=alert(1)>"),
        ("related", "<i>アフターコールワーク</i>"),
        ("term", "取込\u200b語"),
    ],
)
def test_an_import_with_a_name_the_chat_cannot_answer_is_refused_whole(service, fmt, column, value):
    """The import goes through the same validator: one row with markup (or a control
    character) in a name is an error by row, and nothing of the file is written."""
    good = {"term": "良い取込語", "aliases": "", "related": ""}
    bad = {"term": "悪い取込語", "aliases": "", "related": "", column: value}
    rows = [["term", "reading", "category", "aliases", "related", "definition_1", "source_1"]] + [
        [r["term"], "とりこみご", "運用", r["aliases"], r["related"], "A<Bの定義です。", "a.csv"]
        for r in (good, bad)
    ]
    data = csv_bytes(rows) if fmt == "csv" else transfer.to_xlsx(rows, "term")
    before = service.store.marker()
    plan = transfer.plan_import("term", data, fmt, service.snapshot(), check_changes)
    assert [(e["row"], e["field"]) for e in plan.errors] == [(3, column)], plan.errors
    assert "<" in plan.errors[0]["message"] or "制御文字" in plan.errors[0]["message"]
    with pytest.raises(Rejected):  # the write re-checks: the good row is not written alone
        service.apply(plan.changes, "sato")
    assert service.store.marker() == before
    assert service.content().glossary.get("良い取込語") is None


@pytest.mark.parametrize(
    "data, fmt, words",
    [
        (b"", "csv", "空"),
        (b"\x00\x01\x02", "csv", "バイナリ"),
        (b"\x81\x20abc", "csv", "文字コード"),
        (b"term,reading\n", "csv", "必要な列"),
        (b"not a zip", "xlsx", "XLSX"),
        (b"a" * (transfer.MAX_BYTES + 1), "csv", "大きすぎ"),
    ],
)
def test_malformed_files_are_one_clear_error(service, data, fmt, words):
    plan = transfer.plan_import("term", data, fmt, service.snapshot(), check_changes)
    assert len(plan.errors) == 1 and words in plan.errors[0]["message"] and plan.changes == []


def test_too_many_rows_is_refused(service):
    rows = [["term", "reading", "category", "definition_1", "source_1"]] + [
        ["x", "え", "c", "d", "s"]
    ] * (transfer.MAX_ROWS + 1)
    plan = transfer.plan_import("term", csv_bytes(rows), "csv", service.snapshot(), check_changes)
    assert "行が多すぎます" in plan.errors[0]["message"]


@pytest.mark.parametrize(
    "value, exported",
    [
        ("=1+1", "'=1+1"),
        ("+81", "'+81"),
        ("-x", "'-x"),
        ("@SUM", "'@SUM"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("普通の文", "普通の文"),
    ],
)
def test_export_neutralises_formula_cells_and_import_takes_it_off(value, exported):
    assert transfer.neutralise(value) == exported
    assert transfer._unescape(exported) == value


def test_clean_term_splits_lists_and_drops_repeats():
    t = clean_term(
        {
            "term": " AHT ",
            "aliases": "平均処理時間、AHT|平均処理時間",
            "related": None,
            "definitions": [{"text": " 定義 ", "source": "s", "note": ""}],
        }
    )
    assert t["term"] == "AHT" and t["aliases"] == ["平均処理時間"] and t["related"] == []
    assert t["definitions"] == [{"text": "定義", "source": "s"}]


# -- test all ----------------------------------------------------------------------------


def parsed(text, intent="define_term", **latest):
    return preview.Parsed(text, {"intent": {"name": intent, "confidence": 0.9}, **latest})


def test_test_all_finds_regressions_fixes_and_changes():
    old = from_files()
    terms = [dict(t) for t in old.terms if t["term"] != "オペレーター"]
    terms.append(clean_term(aht()))
    acw = next(t for t in terms if t["term"] == "アフターコールワーク")
    acw["definitions"] = [{"text": "書き換えた定義です。", "source": "editor"}]
    from assistant.content.model import build

    new = build(terms, old.faq_records)
    cases = [
        preview.Case("オペレーターとは?", {"kind": "definition", "term": "オペレーター"}, "term"),
        preview.Case("AHTとは?", {"kind": "definition", "term": "AHT"}, "term"),
        preview.Case("ACWとは?", {"kind": "definition", "term": "アフターコールワーク"}, "term"),
        preview.Case("平均処理時間の意味", {"kind": "unknown_term"}, "eval"),
        preview.Case("AHTって何?", None, "preview"),
    ]
    report = preview.test_all(cases, lambda text: parsed(text), old, new)
    assert [r["text"] for r in report.regressions] == ["オペレーターとは?"]
    assert [r["text"] for r in report.fixed] == ["AHTとは?"]
    assert [r["text"] for r in report.changed] == ["ACWとは?", "平均処理時間の意味"]
    assert (
        report.preview[0]["new"]["term"] == "AHT"
        and report.preview[0]["old"]["kind"] == "unknown_term"
    )


def test_all_cases_cover_every_name_every_faq_question_and_the_eval():
    content = from_files()
    cases = preview.all_cases(content, content, ["自由な質問"])
    texts = {c.text for c in cases}
    assert "ACWとは?" in texts and "自由な質問" in texts
    assert all(q in texts for f in content.faqs.values() for q in f.questions)
    assert len(cases) > 400 + 41


def test_a_large_glossary_asks_only_the_terms_a_change_can_affect():
    from assistant.content.model import build

    old = from_files()
    terms = [dict(t) for t in old.terms] + [
        clean_term({**aht(), "aliases": ["コンタクトセンター長"]})
    ]
    new = build(terms, old.faq_records)
    texts = {c.text for c in preview.all_cases(old, new, evals=[], full_limit=0)}
    assert "AHTとは?" in texts and "コンタクトセンター長とは?" in texts
    assert (
        "コンタクトセンターとは?" in texts
    )  # 「コンタクトセンター長」 contains it (one name inside the other)
    assert "ACWとは?" not in texts  # untouched
    assert all(q in texts for f in new.faqs.values() for q in f.questions)
    everything = {c.text for c in preview.all_cases(old, new, evals=[])}
    assert "ACWとは?" in everything
