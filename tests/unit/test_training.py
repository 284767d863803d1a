"""Training mode: question generation, answer matching, the Leitner schedule, the store
and a whole session (assistant/training/), plus the router's training rows."""

from __future__ import annotations

import random

import pytest

from assistant import contract, routing
from assistant.glossary import Definition, Glossary, Term, load_glossary
from assistant.training import quiz, schedule
from assistant.training.answers import match_answer
from assistant.training.quiz import Question, make_question
from assistant.training.session import Trainer
from assistant.training.store import TrainingStore

G = load_glossary()
KB = routing.Knowledge(categories=frozenset(t.category for t in G), people=G.people)


def all_questions(seed: int):
    rng = random.Random(seed)
    for t in G:
        for kind in quiz.kinds_for(t, G):
            yield make_question(G, t.term, kind, rng)


@pytest.mark.parametrize("seed", [0, 1, 42])
def test_every_answer_comes_from_the_glossary_and_distractors_differ(seed):
    kinds = set()
    for q in all_questions(seed):
        kinds.add(q.kind)
        term = G.get(q.term)
        assert term is not None
        right = q.options[q.answer]
        if q.kind == "term_to_definition":
            assert right in [d.text for d in term.definitions]
            assert len(q.options) == 4
            others = {G.get(t) for t in q.option_terms}
            assert all(o is not None for o in others)
        else:
            assert right == q.term
        assert q.definition in [d.text for d in term.definitions]
        assert q.source in term.sources
        assert len(set(q.options)) == len(q.options), q  # distractors differ from the answer
        for o in q.options:  # every option is glossary text
            assert o in G.headwords or any(o == d.text for t in G for d in t.definitions)
    assert kinds == set(quiz.KINDS)


def test_same_seed_same_questions():
    assert list(all_questions(7)) == list(all_questions(7))
    assert list(all_questions(7)) != list(all_questions(8))


def test_distractors_from_the_same_category_where_possible():
    q = make_question(G, "アフターコールワーク", "definition_to_term", random.Random(3))
    term = G.get("アフターコールワーク")
    same = [t for t in G if t.category == term.category and t.term != term.term]
    if len(same) >= 3:
        assert all(G.get(o).category == term.category for o in q.options)


def test_abbreviation_question():
    q = make_question(G, "アフターコールワーク", "abbreviation", random.Random(1))
    assert q.prompt == "「ACW」は何の略ですか?"
    assert q.options[q.answer] == "アフターコールワーク"


def test_difference_question_is_between_related_terms():
    a, _b = quiz.related_pairs(G)[0]
    q = make_question(G, a, "difference", random.Random(0))
    assert a in q.options and len(q.options) == 2
    assert set(q.options) <= {a, *G.get(a).related}


def _q(kind, term="アフターコールワーク", seed=1):
    return make_question(G, term, kind, random.Random(seed))


@pytest.mark.parametrize(
    "typed",
    [
        "アフターコールワーク",
        "あふたーこーるわーく",
        "ｱﾌﾀｰｺｰﾙﾜｰｸ",
        "アフターコール・ワーク",
        "ACW",
        "acw",
        "ＡＣＷ",
        "答えはアフターコールワークです",
    ],
)
def test_typed_variants_of_the_right_term(typed):
    q = _q("definition_to_term")
    assert match_answer(q, typed, G) == q.answer


@pytest.mark.parametrize("typed,index", [("1", 0), ("２", 1), ("③", 2), ("4番", 3), ("(1)", 0)])
def test_numbers_choose_options(typed, index):
    assert match_answer(_q("term_to_definition"), typed, G) == index


@pytest.mark.parametrize("typed", ["", "わかりません", "9", "ほげ"])
def test_no_option(typed):
    assert match_answer(_q("definition_to_term"), typed, G) is None


def test_definition_typed_in_full():
    q = _q("term_to_definition")
    assert match_answer(q, q.options[q.answer], G) == q.answer


def test_question_round_trips_through_a_dict():
    q = _q("difference")
    assert Question.from_dict(q.to_dict()) == q


@pytest.mark.parametrize(
    "box,correct,after", [(1, True, 2), (2, True, 3), (5, True, 5), (4, False, 1), (1, False, 1)]
)
def test_leitner_boxes(box, correct, after):
    assert schedule.next_box(box, correct) == after


def test_schedule_favours_missed_terms():
    terms = ["A", "B", "C", "D"]
    boxes = {"A": 1, "B": 5, "C": 5}
    rng = random.Random(0)
    picks = [schedule.pick_term(terms, boxes, rng) for _ in range(2000)]
    assert picks.count("A") > picks.count("D") > picks.count("B")
    assert schedule.pick_term(terms, boxes, rng, exclude=set(terms)) is None
    assert schedule.pick_term(terms, boxes, rng, exclude={"A", "B", "C"}) == "D"


def test_weak_terms():
    assert schedule.weak({"A": 1, "B": 2, "C": 4}, {"A": 1, "B": 3, "C": 2}) == ["A", "B"]


ROWS = [
    # text, training_mode, quiz_pending, expected route (None: the customer's routing)
    ("研修モード", False, False, "start_training"),
    ("クイズを出して", False, False, "start_training"),
    ("用語クイズ", False, False, "start_training"),
    ("/start_training", False, False, "start_training"),
    ("システムのクイズ", False, False, "start_training"),
    ("終了", False, False, None),
    ("研修モードを終わる", False, False, None),
    ("カテゴリ一覧", False, False, None),
    ("苦手な用語", False, False, None),
    ("アフターコールワーク", False, False, None),
    ("終了", True, True, "stop_training"),
    ("研修モードを終わる", True, False, "stop_training"),
    ("カテゴリ一覧", True, False, "category_list"),
    ("苦手な用語", True, True, "weak_terms"),
    ("アフターコールワーク", True, True, "quiz_answer"),
    ("2", True, True, "quiz_answer"),
    ("ACWとは?", True, True, None),
    ("アフターコールワーク", True, False, None),
    ("クイズを出して", True, True, "start_training"),
    ("名前は佐藤です", True, False, "trainee_name"),
    ("名前は佐藤です", False, False, None),
]


@pytest.mark.parametrize("text,mode,pending,route", ROWS)
def test_training_routes(text, mode, pending, route):
    matches = tuple(
        __import__("assistant.matcher", fromlist=["TermMatcher"]).TermMatcher(G).find(text)
    )
    inp = routing.RoutingInput(
        text=text,
        matches=matches,
        training_mode=mode,
        quiz_pending=pending,
        intent="define_term",
        intent_confidence=0.9,
    )
    decision = routing.decide(inp, KB)
    if route is None:
        assert decision.route.value not in {r.value for r in routing.TRAINING_ROUTES}
    else:
        assert decision.route.value == route


def test_a_quiz_of_n_questions():
    d = routing.decide(routing.RoutingInput(text="クイズを５問出して"), KB)
    assert (d.route, d.questions) == (routing.Route.START_TRAINING, 5)


@pytest.mark.parametrize(
    "text, category, questions",
    [
        # plain requests
        ("クイズを3問出して", None, 3),
        ("クイズを３問", None, 3),
        ("用語クイズを12問ください", None, 12),
        ("クイズを三問出して", None, 3),
        ("クイズを十問お願いします", None, 10),
        ("クイズを十五問出して", None, 15),
        ("クイズを二十問出して", None, 20),
        ("クイズを50問出して", None, 50),
        ("クイズを五十問出して", None, 50),
        ("クイズを3問やりたい", None, 3),
        ("3問クイズを出してほしい", None, 3),
        # with a category: the count is honoured, not the default
        ("システムのクイズを2問出して", "システム", 2),
        ("システムのクイズ2問", "システム", 2),
        ("拠点の用語クイズを３問ください", "拠点", 3),
        ("品質管理のクイズを十問お願い", "品質管理", 10),
        ("顧客のクイズを 4 問出して", "顧客", 4),
        ("指標・状態のクイズを二問だして。", "指標・状態", 2),
        ("システムの用語でクイズを5問やりたい", "システム", 5),
        ("研修用にチャネルのクイズを七問やりたい", "チャネル", 7),
        # no count, or one out of bounds (1..50): the default, as on the plain path
        ("システムのクイズを出して", "システム", None),
        ("システムのクイズを0問出して", "システム", None),
        ("システムのクイズを60問出して", "システム", None),
        ("システムのクイズを五十一問", "システム", None),
        ("クイズを99問出して", None, None),
        ("クイズを0問出して", None, None),
        ("一問一答のクイズをやりたい", None, None),  # a quiz style, not a count
        ("システムの一問一答クイズをやりたい", "システム", None),
    ],
)
def test_the_count_is_honoured_with_or_without_a_category(text, category, questions):
    d = routing.decide(routing.RoutingInput(text=text), KB)
    assert (d.route, d.category, d.questions) == (
        routing.Route.START_TRAINING,
        category,
        questions,
    ), d.why


@pytest.mark.parametrize(
    "text, count",
    [
        ("5問", 5),
        ("５問", 5),
        ("05問", 5),
        ("一問", 1),
        ("九問", 9),
        ("十問", 10),
        ("十一問", 11),
        ("二十問", 20),
        ("三十五問", 35),
        ("五十問", 50),
        ("五十一問", None),
        ("51問", None),
        ("0問", None),
        ("一問一答", None),
        ("質問", None),
        ("問題", None),
        ("クイズ", None),
    ],
)
def test_quiz_count_parses_digits_full_width_and_kanji(text, count):
    assert routing.quiz_count(text) == count


def test_no_eval_message_enters_training_mode():
    import yaml

    with open("tests/eval/cases.yml", encoding="utf-8") as f:
        raw = yaml.safe_load(f)
    cases = raw["cases"] if isinstance(raw, dict) else raw
    for case in cases:
        d = routing.decide(routing.RoutingInput(text=case["text"]), KB)
        if case["expect"]["kind"] == "training_mode":
            # issue 17: 「新人研修用にクイズをやりたい」 asks for training on purpose
            assert d.route == routing.Route.START_TRAINING, case["text"]
            continue
        assert d.route not in routing.TRAINING_ROUTES, case["text"]


def test_category_quiz_names_its_category():
    d = routing.decide(routing.RoutingInput(text="拠点のクイズを出して"), KB)
    assert (d.route, d.category) == (routing.Route.START_TRAINING, "拠点")


@pytest.fixture
def trainer():
    return Trainer(TrainingStore("sqlite://"), G, total=5)


def _payloads(replies):
    for r in replies:
        assert contract.problems(r.payload) == []
    return [r.payload for r in replies]


def test_a_whole_session_with_right_and_wrong_answers(trainer):
    out = _payloads(trainer.start("s1"))
    assert [p["kind"] for p in out] == ["training_mode", "quiz_question"]
    right = 0
    for n in range(5):
        pending = trainer.store.state("s1").pending
        answer = (
            pending["answer"] if n % 2 == 0 else (pending["answer"] + 1) % len(pending["options"])
        )
        right += n % 2 == 0
        out = _payloads(trainer.answer("s1", str(answer + 1)))
        assert out[0]["kind"] == "quiz_feedback" and out[0]["correct"] == (n % 2 == 0)
        assert out[0]["number"] == n + 1
    assert out[-1]["kind"] == "quiz_summary"
    assert (out[-1]["score"], out[-1]["total"]) == (3, 5)
    assert len(out[-1]["weak_terms"]) == 2
    assert len(trainer.store.answers_of("s1")) == 5
    s = trainer.store.sessions_of("s1")[0]
    assert (s.correct, s.asked, len(set(s.asked_terms))) == (3, 5, 5)
    assert s.finished is not None
    weak = _payloads(trainer.weak("s1"))[0]
    assert {t["term"] for t in weak["terms"]} == set(out[-1]["weak_terms"])
    assert trainer.store.hardest_terms()


def test_next_sessions_favour_missed_terms(trainer):
    trainer.start("s2")
    missed = trainer.store.state("s2").pending["term"]
    trainer.answer("s2", "わかりません")
    asked = []
    for _ in range(30):
        trainer.start("s2")
        asked.append(trainer.store.state("s2").pending["term"])
    assert asked.count(missed) >= 3  # 1 of 41 terms by chance: ~0.7 of 30


def test_leaving_and_coming_back_keeps_progress(trainer):
    trainer.start("s3")
    trainer.answer("s3", "わかりません")
    trainer.stop("s3")
    assert trainer.active("s3") == (False, False)
    assert trainer.store.weak_terms("s3")
    trainer.start("s3")
    assert trainer.active("s3") == (True, True)
    assert trainer.store.weak_terms("s3")


def test_category_quiz_asks_only_that_category(trainer):
    trainer.start("s4", "拠点")
    for _ in range(5):
        term = trainer.store.state("s4").pending["term"]
        assert G.get(term).category == "拠点"
        trainer.answer("s4", "1")


def test_glossary_gaps(trainer):
    trainer.store.record_gap("s5", "ほげ用語")
    trainer.store.record_gap("s6", "ほげ用語")
    assert trainer.store.glossary_gaps() == [("ほげ用語", 2)]


def test_a_name_keeps_progress_across_conversations(trainer):
    trainer.set_name("monday", "佐藤")
    trainer.start("monday")
    missed = trainer.store.state("monday").pending["term"]
    trainer.answer("monday", "わかりません")
    out = _payloads(trainer.set_name("tuesday", "佐藤"))
    assert out[0]["trainee"] == "佐藤" and "引き継ぎ" in out[0]["text"]
    trainer.start("tuesday")
    assert trainer.store.weak_terms("佐藤") == [missed]
    assert len(trainer.store.sessions_of("佐藤")) == 2


# --- quizzes follow the content revision (a Trainer per revision, one store) -------------


def _without(*headwords: str) -> Glossary:
    return Glossary(tuple(t for t in G if t.term not in headwords))


AHT = Term(
    term="AHT",
    reading="エーエイチティー",
    aliases=("平均処理時間",),
    category="新しい指標",
    related=(),
    definitions=(Definition("1件の応対にかかる平均の時間です。", "editor:henshu"),),
)


def test_a_disabled_term_is_never_asked_and_a_pending_one_is_withdrawn():
    store = TrainingStore("sqlite://")
    old = Trainer(store, G, total=8)
    old.start("r1")
    pending = store.state("r1").pending
    disabled = pending["term"]
    new = Trainer(store, _without(disabled), total=8)  # the next turn's revision
    out = _payloads(new.answer("r1", str(pending["answer"] + 1)))
    assert [p["kind"] for p in out] == ["training_mode", "quiz_question"]
    assert f"「{disabled}」は用語集から外れた" in out[0]["text"]
    assert store.answers_of("r1") == []  # not graded
    asked = [store.state("r1").pending["term"]]
    for _ in range(6):
        new.answer("r1", "わかりません")
        asked.append(store.state("r1").pending["term"])
    assert disabled not in asked
    # Missed before it was disabled: not listed as a weak term to practise.
    old.start("r2")
    missed = store.state("r2").pending["term"]
    old.answer("r2", "わかりません")
    assert missed in [t["term"] for t in _payloads(old.weak("r2"))[0]["terms"]]
    assert [
        t["term"] for t in _payloads(Trainer(store, _without(missed)).weak("r2"))[0]["terms"]
    ] == []


def _quiz_with_withdrawals(
    total: int, withdraw_at: set[int], glossary: Glossary = G, category: str | None = None
) -> tuple[list[dict], TrainingStore]:
    """Run a quiz answering "1", except that the pending question's term is disabled
    (the next turn's revision lacks it) at the given question shown (1-based)."""
    store = TrainingStore("sqlite://")
    removed: set[str] = set()

    def revision() -> Trainer:
        return Trainer(store, Glossary(tuple(t for t in glossary if t.term not in removed)), total)

    out = _payloads(revision().start("w", category))
    shown = 1
    while out[-1]["kind"] == "quiz_question":
        if shown in withdraw_at:
            removed.add(store.state("w").pending["term"])
        step = _payloads(revision().answer("w", "1"))
        out += step
        shown += 1
    return out, store


@pytest.mark.parametrize(
    "total, withdraw_at, numbers, graded",
    [
        (4, set(), [1, 2, 3, 4], 4),
        (4, {1}, [1, 1, 2, 3, 4], 4),  # another question takes the withdrawn one's number
        (4, {2, 3}, [1, 2, 2, 2, 3, 4], 4),
        (4, {4}, [1, 2, 3, 4, 4], 4),  # the last one withdrawn: one more, not a shorter quiz
        (1, {1, 2}, [1, 1, 1], 1),
    ],
)
def test_withdrawn_questions_do_not_count_in_the_total(total, withdraw_at, numbers, graded):
    out, store = _quiz_with_withdrawals(total, withdraw_at)
    questions = [p for p in out if p["kind"] == "quiz_question"]
    assert [q["number"] for q in questions] == numbers
    assert all(q["total"] == total for q in questions)
    assert len({q["id"] for q in questions}) == len(questions)  # ids stay unique
    withdrawn = [p for p in out if p["kind"] == "training_mode" and "採点しません" in p["text"]]
    assert len(withdrawn) == len(withdraw_at)
    summary = out[-1]
    assert summary["kind"] == "quiz_summary" and summary["total"] == graded
    assert f"{graded}問中" in summary["text"]
    assert len(store.answers_of("w")) == graded
    session = store.sessions_of("w")[0]
    assert (session.asked, session.total, session.finished is not None) == (graded, total, True)


@pytest.mark.parametrize(
    "withdraw_at, graded",
    [
        (set(), 3),  # the only term asked three times
        ({1}, 0),  # withdrawn before any answer: nothing was asked
        ({2}, 1),  # answered once, then withdrawn: a quiz of one question
        ({3}, 2),
    ],
)
def test_a_quiz_whose_terms_all_left_counts_what_was_asked(withdraw_at, graded):
    out, store = _quiz_with_withdrawals(3, withdraw_at, Glossary((*G.terms, AHT)), "新しい指標")
    summary = out[-1]
    assert summary["kind"] == "quiz_summary" and summary["total"] == graded
    assert (f"{graded}問中" if graded else "採点できる問題はありませんでした") in summary["text"]
    assert len(store.answers_of("w")) == graded
    session = store.sessions_of("w")[0]
    assert (session.asked, session.total) == (graded, 3 if not withdraw_at else graded)


def test_an_added_term_is_asked_and_a_category_left_empty_ends_the_session():
    store = TrainingStore("sqlite://")
    with_aht = Trainer(store, Glossary((*G.terms, AHT)), total=3)
    out = _payloads(with_aht.start("r3", "新しい指標"))
    assert out[-1]["kind"] == "quiz_question" and out[-1]["category"] == "新しい指標"
    assert store.state("r3").pending["term"] == "AHT"
    # A question on the new term answered right (its definition, by typing the headword).
    q = store.state("r3").pending
    out = _payloads(with_aht.answer("r3", str(q["answer"] + 1)))
    assert out[0]["kind"] == "quiz_feedback" and out[0]["correct"] is True
    assert out[0]["definition"] == "1件の応対にかかる平均の時間です。"
    # Then the editor disables it: the category has no term left, the session ends.
    out = _payloads(Trainer(store, G, total=3).answer("r3", "1"))
    assert [p["kind"] for p in out] == ["training_mode", "quiz_summary"]
    assert store.state("r3").pending is None
    assert store.sessions_of("r3")[0].finished is not None


def test_a_fixed_definition_is_what_the_next_question_teaches():
    store = TrainingStore("sqlite://")
    acw = G.get("アフターコールワーク")
    fixed = Term(**{**acw.__dict__, "category": "修正済み",
                    "definitions": (Definition("直した定義です。", "editor:henshu"),)})  # fmt: skip
    glossary = Glossary(tuple(fixed if t.term == acw.term else t for t in G))
    out = _payloads(Trainer(store, glossary, total=1).start("r4", "修正済み"))
    assert out[-1]["kind"] == "quiz_question"
    pending = store.state("r4").pending
    assert pending["term"] == "アフターコールワーク" and pending["definition"] == "直した定義です。"
