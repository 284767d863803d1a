"""The one place that decides what to do with a message (no Rasa imports).

Every message goes through `decide`, whatever intent the classifier picked: the intent
is one piece of evidence next to the text itself (term matches, question markers,
person requests, noise) and the conversation state. Actions only carry out the
`Decision` (actions/route.py); nothing else decides.

Decisions, in the order they are tried:

1. a person owns the conversation or a handoff is active → `followup` (to the ticket),
   or `back_to_bot`;
2. empty message → `fallback` (reason `empty`);
3. はい / いいえ to a pending offer of a person → `handoff` / `decline_offer`;
3b. training mode (assistant/training/): 「研修モード」「クイズを出して」「用語クイズ」
   「〇〇のクイズ」「クイズを5問出して」 → `start_training` (explicit, in any mode);
   in training mode only:
   「終了」 → `stop_training`, 「カテゴリ一覧」 → `category_list`, 「苦手な用語」 →
   `weak_terms`, 「名前は佐藤」 → `trainee_name`, and with a question pending anything
   but a term question
   (「ACWとは?」) or a person request → `quiz_answer`;
4. nothing left once tags, URLs and e-mail addresses are set aside, or only emoji /
   random kana → `fallback`;
4b. romaji (「autobaundo tte nani」) → decided again as kana; a term followed by じゃなくて /
   ではなく is put aside (assistant/structure.py);
5. 「ボットに戻る」 → `back_to_bot`;
6. a person asked for (「担当の方をお願いできますか」「SVに代わって」) → `handoff`, when the
   request is the sentence's predicate (not 「SVに代わってもらうのはどんな時?」);
7. two glossary terms and a comparison cue → `comparison`;
7b. an FAQ's title or subject named (「楽天カードのコンタクトセンターとは?」「TMJのアップセル
   研修とは」) → `faq` (of several about that subject, the selector's confident pick, else the
   closest by text — for どこ not one titled as a method: 「…どこに相談すれば」 is not
   「…への連絡方法」; assistant/faq_topics.py);
7b'. どこ asking for an organisation, every term only in a background clause (「…を外注するの
   ですが、どこに頼めば」「…を任せるならどこ?」), the selector unsure of a guide that names
   organisations → `faq`, the FAQ that is the list of them (`FaqTopics.fullest_list`);
7c. one term named (not its meaning asked) and an FAQ titled 「<term>の<aspect>」 whose aspect
   the text asks (「…について簡単にまとめて」 → のまとめ; a beginner's 初めて / 初心者 → の基本;
   「Xって何をするところ?」 asks what X does, not its meaning) → `faq`;
8. a confident FAQ whose topic names the term asked about → `faq` (a pick under 0.5 will do
   when the intent is surely an FAQ and the pick leads the runner-up twofold: sibling FAQs
   share the selector's confidence); a term named only in passing (not the topic) and an FAQ
   whose text clearly holds the situation → `faq`; one term named, its meaning not asked, and
   an unsure pick (≥ 0.3) about that term that the lexical retriever's clear winner agrees with
   (「コンタクトセンターって電話以外でも対応してるの?」 → の特徴) → `faq`;
9. a glossary question (a term named and asked about, or asked what a word means, also with a
   clause between: 「ACWが長いってどういうこと?」, or an aspect noun after the clause:
   「エスカレーションしてもらえる条件って何?」) → `definition` (subjects, known or unknown;
   one character off a glossary name is that term; all unknown → `unknown_term`; of two terms,
   the predicate's argument before a term in a modifier position: 「SVにエスカレーションすべき
   なのは…」「顧客満足度を上げるためにCRMを使う意味は?」, question.is_modifier);
10. by intent: FAQ (`faq`, the ResponseSelector's choice ≥ 0.5, or the lexical retriever
    when unsure), small talk (`small_talk`: greet / thanks / goodbye / feedback_thanks /
    ack), negative feedback (`offer_human`), person request (`handoff`), off-topic
    (`out_of_scope`), a bare word (`unknown_term`), else `fallback`; before the intent, a
    how-to question about something the glossary does not name (「英語の勉強法を教えて」)
    → `out_of_scope`. The FAQ selector's pick gives way to the FAQ whose own text clearly holds
    the facts asked, or to an item of the list FAQ it picked; `request_human` hands off only when
    the text asks to know nothing and names a person or a handover (「お客さんの離反を減らしたい」
    is no ticket); `fallback` carries "did you mean" candidates (the selector's unsure pick, the
    FAQ its content words point to, the closest FAQs and terms).
11. an FAQ answer that is an item of a list (トランスコスモス, TMJ, NTT… of おすすめの
    アウトソーシング先) gives way to the sibling item the question's content words clearly point
    to (「ECサイトの解約を減らしたい…良い委託先は?」 → TMJ), unless an FAQ is named;
11a. an organisation asked for (どこ / どの会社 / 「…してくれる会社が知りたい」, not how:
   `structure.asks_for_organisation`), the answer a fallback or an FAQ that is no organisation's
   → the organisation's FAQ the content words rank first of every FAQ (above the list and the
   guides) at ≥ 1.5 × the next one (`FaqTopics.asked_item`: 「解約を防いでくれる会社」 → TMJ);
11b. an FAQ that is a list of organisations, asked how (何を見れば / どうやって決める /
   ポイント / 基準 / どこを見れば, not どこ / どの会社: `structure.asks_method`) → the guide
   titled as a method over the same names (`FaqTopics.method_list`: 「…の選び方」),
   unless an FAQ is named.

Two questions in one message (「ACWとは?あとSVって何?」): each sentence is decided alone; the
first answer leads and the others follow (`Decision.also`). Two in one sentence, joined by a
comma and a connective (「ACWって何か、あとIVRも教えて」: 、それから / それと / あと / ついでに):
when the clause before it gives the whole message's answer, the later clauses' answers follow.

A failed turn (fallback, unknown term) counts towards offering a person: the decision
carries the new count and whether to offer now (assistant/triggers.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from itertools import pairwise

from . import question, structure
from .faq import FaqEntry
from .faq_retrieval import MIN_MARGIN, MIN_SCORE, FaqRetriever
from .faq_topics import FaqTopics
from .glossary import Glossary
from .matcher import Match, TermMatcher
from .normalize import is_hiragana, is_katakana
from .triggers import after_turn

MIN_FAQ_CONFIDENCE = 0.5  # the FAQ selector's own score (FallbackClassifier ignores it)
# Sibling FAQs (five about コンタクトセンター) share the selector's confidence: when the intent is
# surely an FAQ question and the pick clearly leads the runner-up, a topic match is enough.
SURE_FAQ_INTENT = 0.9
MIN_SIBLING_FAQ = 0.3
SIBLING_LEAD = 2.0  # the pick's confidence at least twice the runner-up's
MIN_INTENT_CONFIDENCE = 0.5
# The FAQ's own text outweighs the selector (which learnt the example questions): a specific
# FAQ holding the question's facts beats the list FAQ 「おすすめのアウトソーシング先」 the
# selector picks for every 「〜してくれる会社はどこ?」.
FACTS_OVERRIDE_SCORE, FACTS_OVERRIDE_LEAD = 17.0, 8.0
# The classifier is sure it is an FAQ question and the selector unsure which: a weaker lexical
# winner will do.
SURE_FAQ_SCORE, SURE_FAQ_LEAD = 10.0, 2.0
MAX_SUBJECTS = 3
MAX_CANDIDATES = 3  # "did you mean" buttons
MIN_CANDIDATE_FAQ = 0.3  # the selector's pick offered as a button (not answered: under 0.5)
SMALL_TALK_INTENTS = {
    "greet": "greet",
    "thanks": "thanks",
    "goodbye": "goodbye",
    "feedback_positive": "feedback_thanks",
}
YES_NO_INTENTS = {"affirm", "deny", "decline_contact"}


class Route(str, Enum):
    DEFINITION = "definition"
    COMPARISON = "comparison"
    UNKNOWN_TERM = "unknown_term"
    FAQ = "faq"
    HANDOFF = "handoff"
    OFFER_HUMAN = "offer_human"
    SMALL_TALK = "small_talk"
    OUT_OF_SCOPE = "out_of_scope"
    FALLBACK = "fallback"
    DECLINE_OFFER = "decline_offer"
    BACK_TO_BOT = "back_to_bot"
    FOLLOWUP = "followup"
    START_TRAINING = "start_training"
    STOP_TRAINING = "stop_training"
    QUIZ_ANSWER = "quiz_answer"
    CATEGORY_LIST = "category_list"
    WEAK_TERMS = "weak_terms"
    TRAINEE_NAME = "trainee_name"


@dataclass(frozen=True)
class RoutingInput:
    text: str
    intent: str | None = None  # the top intent (nlu_fallback when unsure)
    intent_confidence: float = 0.0
    intent_ranking: tuple[tuple[str, float], ...] = ()
    faq_id: str | None = None  # the ResponseSelector's choice (id without faq/)
    faq_confidence: float = 0.0
    faq_runner_up: float = 0.0  # the selector's second-best confidence
    matches: tuple[Match, ...] = ()
    handoff_active: bool = False
    agent_owns: bool = False
    offer_pending: bool = False
    failed_turns: int = 0
    training_mode: bool = False  # an operator in training: never offered a person unasked
    quiz_pending: bool = False  # in training mode, a quiz question waits for its answer


@dataclass(frozen=True)
class Knowledge:
    """What the router needs to know about the content (built from glossary + FAQ)."""

    people: Collection[str] = frozenset()  # glossary roles one may ask to talk to
    # whether an FAQ's topic (title, example questions) names a word (a headword: any of its names)
    faq_mentions: Callable[[str, str], bool] = lambda faq_id, word: False
    retrieve_faq: Callable[[str], str | None] = lambda text: None
    categories: Collection[str] = frozenset()  # glossary categories (a quiz of one)
    # Issue 17 (each reads the content it was built from, so a reloaded Knowledge is current):
    find_terms: Callable[[str], Sequence[Match]] = lambda text: ()  # terms in other text (romaji)
    spelled_like: Callable[[str], str | None] = lambda word: None  # one character off a name
    faq_named: Callable[[str], Sequence[str]] = lambda text: ()  # FAQs whose title/subject is named
    retrieve_faq_named: Callable[[str], str | None] = lambda text: None  # FAQ facts, term named
    # the lexical retriever's winner at a given score and lead (None: no clear winner)
    faq_winner: Callable[[str, float, float], str | None] = lambda text, score, lead: None
    faq_lists: Callable[[str, str], bool] = lambda list_id, item_id: False  # answer names item
    candidates: Callable[[str], tuple[tuple[str, str], ...]] = lambda text: ()  # did you mean
    # an item of a list FAQ picked → the sibling the question's content words point to
    faq_item: Callable[[str, str], str | None] = lambda faq_id, text: None
    # the FAQ's title names a method (…への連絡方法): it answers how, not where
    faq_is_method: Callable[[str], bool] = lambda faq_id: False
    # of the list FAQs sharing items with a list FAQ, the one titled as a method (選び方)
    faq_method_list: Callable[[str], str | None] = lambda faq_id: None
    # an organisation asked for: the item the content words rank first of every FAQ
    faq_asked_item: Callable[[str], str | None] = lambda text: None
    faq_is_item: Callable[[str], bool] = lambda faq_id: False
    # of the list FAQs sharing items with a list FAQ, the one that is most the list
    faq_fullest_list: Callable[[str], str | None] = lambda faq_id: None
    # the FAQ 「<term>の<aspect>」 whose aspect the text asks of a named term (基本: a beginner)
    faq_aspect: Callable[[str, Collection[str]], str | None] = lambda text, terms: None


@dataclass(frozen=True)
class Decision:
    route: Route
    subjects: tuple[question.Subject, ...] = ()
    faq_id: str | None = None
    small_talk: str | None = None  # greet / thanks / goodbye / feedback_thanks / ack
    reason: str | None = None  # fallback: "empty"; offer_human: "feedback"
    failed: bool = False  # counts as a failed turn
    failed_turns: int | None = None  # the new count (None: unchanged)
    offer_human: bool = False  # offer a person after this answer
    category: str | None = None  # start_training: the quiz's category (None: all)
    questions: int | None = None  # start_training: 「クイズを5問出して」 (None: the default)
    name: str | None = None  # trainee_name: 「名前は佐藤」 (progress kept under this name)
    # fallback: "did you mean" — ("faq", id) / ("term", headword), closest first
    candidates: tuple[tuple[str, str], ...] = ()
    # two questions in one message: the answers to the later ones (definition/faq/comparison)
    also: tuple[Decision, ...] = ()
    why: str = field(default="", compare=False)

    @property
    def known_terms(self) -> list[str]:
        return [s.term for s in self.subjects if s.term]


# --- noise -------------------------------------------------------------------------
_NOISE = re.compile(
    r"<(script|style)\b[^>]*>.*?</\1\s*>"  # scripts and styles with their code
    r"|<[^<>]*>"  # tags
    r"|(?:https?|ftp)://[^\s　「」『』、。]+|www\.[^\s　「」『』、。]+"  # URLs
    r"|[A-Za-z0-9._%+\-*]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}",  # e-mail addresses (masked: ***@…)
    re.IGNORECASE | re.DOTALL,
)


def without_noise(text: str, matches: Sequence[Match]) -> tuple[str, list[Match]]:
    """Tags, URLs and e-mail addresses blanked (same length, so spans stay valid),
    and the term matches inside them dropped: 「<agent/>」 names no term."""
    spans = [m.span() for m in _NOISE.finditer(text)]
    if not spans:
        return text, list(matches)
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    kept = [m for m in matches if all(m.end <= s or m.start >= e for s, e in spans)]
    return "".join(chars), kept


def _has_words(text: str) -> bool:
    return any(c.isalnum() for c in text)


# --- small talk and gibberish -----------------------------------------------------
_SMALL_TALK_CUE = re.compile(
    r"こんにち|こんばん|おはよう|はじめまして|初めまして|よろしく|お疲れ|おつかれ|もしもし|やあ|やっほ|ハロー|どうも"
    r"|ありがと|有難|有り難|サンキュ|さんきゅ|感謝|助か|たすか|どういたし"
    r"|さようなら|さよなら|またね|また今度|またよろしく|失礼します|しつれいします|バイバイ|ばいばい|じゃあね|おやすみ"
    r"|よかった|良かった|わかりました|分かりました|了解|りょうかい|なるほど|はい|いいえ|いや|うん|ううん|不要|ふよう"
    r"|大丈夫|だいじょうぶ|結構|けっこう|OK|ok|オッケー|おっけー"
)
_GREET_CUE = re.compile(
    r"こんにち|こんばん|おはよう|はじめまして|初めまして|お疲れ|おつかれ|もしもし|やっほ|ハロー"
)
_THANKS_CUE = re.compile(r"ありがと|有難|有り難|サンキュ|さんきゅ|感謝|助かり|たすかり")
_GOODBYE_CUE = re.compile(
    r"さようなら|さよなら|またね|失礼します|しつれいします|バイバイ|ばいばい|じゃあね|おやすみ"
)


_QUESTION_END = re.compile(r"[?？]|(?:ですか|ますか|の|か)\s*$")


def _small_talk_by_cue(text: str) -> str | None:
    for kind, cue in (("thanks", _THANKS_CUE), ("goodbye", _GOODBYE_CUE), ("greet", _GREET_CUE)):
        if cue.search(text):
            return kind
    return None


# Hiragana that a sentence is rarely without; random kana (「いはむておれべそゆさ」) lacks them.
_COMMON_KANA = re.compile(
    r"です|ます|でした|ました|ください|たい|ない|ほしい|って|とは|なに|なん|どう|どこ|だれ|いつ"
    r"|する|して|した|った|できる|ある|いる|から|まで|けど|ので|よね|(?:かな|かね|のか|の)[?？]?$"
)


def _kana_only(text: str) -> bool:
    chars = [c for c in text if c.isalnum()]
    return bool(chars) and all(is_hiragana(c) or is_katakana(c) or c == "ー" for c in chars)


def _gibberish(text: str, matches: Sequence[Match]) -> bool:
    """Random kana: nothing known in it, no question marker, no everyday word."""
    stripped = "".join(c for c in text if c.isalnum())
    return (
        len(stripped) >= 6
        and _kana_only(text)
        and not matches
        and not question.has_question_marker(text)
        and not _SMALL_TALK_CUE.search(text)
        and not _COMMON_KANA.search(text)
    )


# --- asking for a person ------------------------------------------------------------
# Generic staff words (not glossary roles): 「担当の方をお願いできますか」「人と直接話せる?」
_STAFF = (
    r"(?:担当(?:者|の方|のかた|の人|のひと|さん)?|係(?:の方|の人|員)|スタッフ|窓口の(?:方|人)"
    r"|人間|有人|(?:詳しい|くわしい|話せる|はなせる|わかる|分かる)(?:人|ひと|方)|どなたか|誰か|だれか"
    r"|(?<![一-龥ァ-ヶ])人(?=\s*(?:と|に)))"
)
_STAFF_REQUEST = re.compile(
    _STAFF + r"\s*(?:さん|様|さま|の方|のかた)?\s*(?:"
    r"(?:と|に|へ|を|で)?\s*(?:直接|すぐ|今すぐ|いますぐ)?\s*(?:お?話|お?はな[しさすせ]|代わ|かわ[っりる]|替わ|変わ"
    r"|つな[いぎげ]|繋|呼んで|よんで|お呼び|相談|そうだん|お願い|おねがい|対応して|出して|だして)"
    r"|(?:は|って|の)?\s*(?:いる|いない|いますか|いませんか|いらっしゃい))"
)


# Any word of a person or of being handed over: without one, the classifier's request_human
# is no ticket (「お客さんの離反を減らしたい」 asks nothing of a person).
_PERSON_CUE = re.compile(
    r"人|担当|係|スタッフ|上司|責任者|有人|どなた|誰|だれ|方|代わ|替わ|変わ|かわ[っりる]|繋|つな[いぎげ]"
    r"|転送|引き継|引継|エスカレ|話|はな[しさすせ]|相談|そうだん|電話|呼"
)


def names_a_person(text: str, matches: Sequence[Match], people: Collection[str]) -> bool:
    """The text names a person (a glossary role, staff) or being handed over."""
    return bool(_PERSON_CUE.search(text)) or any(m.term in people for m in matches)


def asks_for_person(text: str, matches: Sequence[Match], people: Collection[str]) -> bool:
    """A person is asked for: a glossary role with a request phrase (「SVに代わって」),
    or generic staff words (「担当の方をお願いできますか」), as the sentence's own
    predicate. Never when the text asks what a word means (「オペレーターとは」), nor when
    the request sits inside a question about it (「SVに代わってもらうのはどんな時?」
    「エスカレーションしてほしいと言われたら」)."""
    if question.has_question_marker(text):
        return False
    ends = question.person_request_ends(text, matches, people)
    ends += [m.end() for m in _STAFF_REQUEST.finditer(text)]
    return any(not structure.embedded_request(text, end) for end in ends)


# 「一次解決率ってどう計算するの?」: a noun compound as the topic of a question.
_NOUN_TOPIC_QUESTION = re.compile(
    r"(?:^|[、。!?！？\s「」])[\u4e00-\u9fff\u30a0-\u30ffA-Za-z0-9]{2,}って\s*(?:どう|どんな|どの|具体)"
)


# --- training mode -----------------------------------------------------------------
TRAINING_ROUTES = frozenset(
    {
        Route.START_TRAINING,
        Route.STOP_TRAINING,
        Route.QUIZ_ANSWER,
        Route.CATEGORY_LIST,
        Route.WEAK_TERMS,
        Route.TRAINEE_NAME,
    }
)
# 「名前は佐藤」「研修者名: 佐藤」: progress kept under a name, not the conversation id.
_NAME = re.compile(
    r"^(?:名前は|なまえは|名前[:：]|研修者名[:：は]?)\s*([^\s、。!！?？]{1,20}?)(?:です)?[。!！]?$"
)
# Entering is explicit, in or out of training mode: 「研修モード」「クイズを出して」「用語クイズ」.
_START = re.compile(
    r"^(?:/start_training|研修モード(?:を|に)?(?:始める|始めて|はじめる|はじめて|開始|開始して|スタート"
    r"|お願いします|お願い|にして|にする|入る)?|クイズ(?:を|お)?(?:出して|だして|出してください"
    r"|だしてください|お願いします|お願い|して|したい|やりたい|ください|を?始める|を?はじめる)"
    r"|用語クイズ.*)[。!！]?$"
)
# A number of quiz questions: 「5問」「５問」「三問」「十五問」 (not 「一問一答」).
_KANJI_DIGITS = "一二三四五六七八九"
_NUMBER = rf"[0-9０-９]{{1,2}}|[{_KANJI_DIGITS}]?十[{_KANJI_DIGITS}]?|[{_KANJI_DIGITS}]"
_QUESTION_COUNT = re.compile(rf"({_NUMBER})問(?!一答)")
MAX_QUIZ_QUESTIONS = 50
# 「クイズを5問出して」: a session of N questions.
_COUNT_QUIZ = re.compile(
    rf"^(?:用語)?クイズ(?:を)?(?:{_NUMBER})問(?:出して|だして|お願い|お願いします|ください)?[。!！]?$"
)


def quiz_count(text: str) -> int | None:
    """The number of questions a training request asks for (「システムのクイズを2問出して」
    → 2, 「三問」 → 3), or None: none given, or outside 1..MAX_QUIZ_QUESTIONS (the default)."""
    found = _QUESTION_COUNT.search(text)
    if found is None:
        return None
    written = unicodedata.normalize("NFKC", found.group(1))
    if written.isdigit():
        n = int(written)
    else:
        tens, _, ones = written.rpartition("十")
        if "十" in written:
            n = (_KANJI_DIGITS.index(tens) + 1 if tens else 1) * 10
            n += _KANJI_DIGITS.index(ones) + 1 if ones else 0
        else:
            n = _KANJI_DIGITS.index(written) + 1
    return n if 1 <= n <= MAX_QUIZ_QUESTIONS else None


# 「システムのクイズ」「拠点のクイズを出して」: a quiz of one category.
_CATEGORY_QUIZ = re.compile(r"^(.{1,12}?)の(?:用語)?クイズ")
# Leaving, in training mode only (a customer's 「終了」 changes nothing).
_STOP = re.compile(
    r"^(?:/stop_training|終了|しゅうりょう|終わり|おわり|終わる|おわる|やめる|やめます|やめて"
    r"|研修モード(?:を)?(?:終わる|終わります|終わりにする|終了|終了する|終了します|おわる|やめる"
    r"|やめます|抜ける|出る))(?:します|してください|して)?[。!！]?$"
)
_CATEGORY_LIST = re.compile(r"^(?:カテゴリ|カテゴリー|かてごり)(?:の)?(?:一覧|いちらん|リスト)")
_WEAK = re.compile(r"^(?:苦手な?用語|にがてな?用語|苦手|にがて|まちがえた用語|間違えた用語)")


def _training(inp: RoutingInput, kb: Knowledge) -> Decision | None:
    """Training-mode decisions: enter, leave, list categories or weak terms, answer."""
    text = " ".join(inp.text.split()).strip()
    compact = text.replace(" ", "")
    category = _CATEGORY_QUIZ.match(compact)
    if category and category.group(1) in kb.categories:
        return Decision(
            Route.START_TRAINING,
            category=category.group(1),
            questions=quiz_count(compact),
            why="a quiz of one category",
        )
    if _COUNT_QUIZ.match(compact) and (n := quiz_count(compact)) is not None:
        return Decision(Route.START_TRAINING, questions=n, why="a quiz of N questions")
    if _START.match(compact):
        return Decision(Route.START_TRAINING, why="training mode asked for")
    if structure.asks_for_training(compact):
        # 「新人研修用にクイズをやりたい」「システムの用語でクイズをやりたい」
        named = [c for c in kb.categories if c and c in compact]
        return Decision(
            Route.START_TRAINING,
            category=max(named, key=len) if named else None,
            questions=quiz_count(compact),
            why="training asked for in a sentence",
        )
    if not inp.training_mode:
        return None
    if _STOP.match(compact) or structure.asks_to_leave_training(compact):
        return Decision(Route.STOP_TRAINING, why="leaves training mode")
    if _CATEGORY_LIST.match(compact):
        return Decision(Route.CATEGORY_LIST, why="categories asked for")
    if _WEAK.match(compact):
        return Decision(Route.WEAK_TERMS, why="weak terms asked for")
    name = _NAME.match(compact)
    if name:
        return Decision(Route.TRAINEE_NAME, name=name.group(1), why="the trainee's name")
    if not inp.quiz_pending:
        return None
    if question.has_question_marker(text) and (inp.matches or question.asks_meaning(text)):
        return None  # 「ACWとは?」 during a quiz: still the definition
    if asks_for_person(text, inp.matches, kb.people):
        return None
    return Decision(Route.QUIZ_ANSWER, why="the answer to the pending question")


# --- the decision -------------------------------------------------------------------
def _confident(inp: RoutingInput) -> str | None:
    """The intent, or None when the classifier was unsure."""
    if inp.intent in (None, "nlu_fallback") or inp.intent_confidence < MIN_INTENT_CONFIDENCE:
        return None
    return inp.intent


def _failure(inp: RoutingInput, decision: Decision) -> Decision:
    """Fill in the failed-turn count and whether to offer a person now."""
    count, offer = after_turn(inp.failed_turns, decision.failed)
    if inp.training_mode:
        offer = False
    return replace(decision, failed_turns=count, offer_human=offer)


def _define(
    subjects: Sequence[question.Subject], why: str, kb: Knowledge | None = None
) -> Decision:
    if kb is not None:
        # 「アフターコールワーフとは」: one character off a glossary name is that term.
        subjects = [
            s if s.term else question.Subject(s.query, kb.spelled_like(s.query)) for s in subjects
        ]
    subjects = tuple(subjects[:MAX_SUBJECTS])
    known = any(s.term for s in subjects)
    route = Route.DEFINITION if known else Route.UNKNOWN_TERM
    return Decision(route, subjects, failed=not known, why=why)


ANSWERS = frozenset({Route.DEFINITION, Route.FAQ, Route.COMPARISON})
_QUESTION_BREAK = re.compile(r"[?？。!！\n]+")


def _questions(inp: RoutingInput, kb: Knowledge, whole: Decision) -> Decision:
    """「ACWとは?あとSVって何?」「…では何ができる?連絡方法も知りたい」: two questions in
    one message. Each sentence is decided on its own (the classifier saw the whole text, so
    its intent and FAQ pick are left out); when the first is answered, the later answers
    come with it (`also`). A comparison across the sentences (「CXって何?CSとは違うの?」)
    stays one answer."""
    if whole.route not in (*ANSWERS, Route.FALLBACK, Route.UNKNOWN_TERM):
        return whole
    if whole.route == Route.COMPARISON and question.wants_comparison(inp.text, inp.matches):
        return whole
    spans, start = [], 0
    for brk in _QUESTION_BREAK.finditer(inp.text):
        spans.append((start, brk.end()))
        start = brk.end()
    spans.append((start, len(inp.text)))
    spans = [(a, b) for a, b in spans if sum(c.isalnum() for c in inp.text[a:b]) >= 2]
    if len(spans) < 2:
        return whole
    head = inp.text[spans[0][0] : spans[0][1]]
    if not (
        re.search(r"[?？]\s*$", head)
        or question.has_question_marker(head)
        or structure.asks_information(head)
    ):
        return whole  # 「楽天カードを使っています。ポイントは…?」: context, then one question
    parts = []
    for a, b in spans:
        matches = tuple(
            replace(m, start=m.start - a, end=m.end - a)
            for m in inp.matches
            if m.start >= a and m.end <= b
        )
        part = RoutingInput(text=inp.text[a:b], matches=matches, failed_turns=inp.failed_turns)
        parts.append(_decide(part, kb))
    first = parts[0]
    if first.route not in ANSWERS:
        return whole
    seen = {(first.route, first.faq_id, tuple(first.known_terms))}
    also = []
    for d in parts[1:]:
        key = (d.route, d.faq_id, tuple(d.known_terms))
        if d.route in ANSWERS and key not in seen:
            seen.add(key)
            also.append(d)
    return replace(first, also=tuple(also), why=first.why + " (one of several questions)")


# 「ACWって何か、あとIVRも教えて」「…のか、それから選び方も知りたい」: a comma, then a
# connective that opens a further question (not あとで / あとに / あとの: "after").
_CONNECTIVE_BREAK = re.compile(
    r"[、,]\s*(?=(?:それから|それと|あと(?![でにのはから])|ついでに|加えて|あわせて))"
)


def _part(inp: RoutingInput, a: int, b: int) -> RoutingInput:
    matches = tuple(
        replace(m, start=m.start - a, end=m.end - a)
        for m in inp.matches
        if m.start >= a and m.end <= b
    )
    return RoutingInput(text=inp.text[a:b], matches=matches, failed_turns=inp.failed_turns)


def _joined_questions(inp: RoutingInput, kb: Knowledge, whole: Decision) -> Decision:
    """Two questions in one sentence, joined by a comma and a connective (それから / それと /
    あと / ついでに): when the clause before it, decided alone, gives the whole message's
    answer, the clauses after it that are answers of their own come with it (`also`). The
    first answer is never changed here (the classifier saw the whole text)."""
    if whole.route not in ANSWERS or whole.also:
        return whole
    cuts = [m.end() for m in _CONNECTIVE_BREAK.finditer(inp.text)]
    if not cuts:
        return whole
    bounds = [0, *cuts, len(inp.text)]
    parts = [_decide(_part(inp, a, b), kb) for a, b in pairwise(bounds)]
    key = (whole.route, whole.faq_id, tuple(whole.known_terms))
    if (parts[0].route, parts[0].faq_id, tuple(parts[0].known_terms)) != key:
        return whole
    seen, also = {key}, []
    for d in parts[1:]:
        k = (d.route, d.faq_id, tuple(d.known_terms))
        if d.route in ANSWERS and k not in seen:
            seen.add(k)
            also.append(d)
    if not also:
        return whole
    return replace(whole, also=tuple(also), why=whole.why + " (one of several questions)")


def decide(inp: RoutingInput, kb: Knowledge) -> Decision:
    """What to do with this message. Pure: same input, same decision."""
    decision = _joined_questions(inp, kb, _questions(inp, kb, _decide(inp, kb)))
    if decision.route == Route.FAQ and decision.faq_id and not decision.also:
        # 「ECサイトの解約を減らしたいのですが良い委託先は?」: of the items of a list (おすすめの
        # 委託先), the one whose own text holds what is asked — unless an FAQ is named.
        item = kb.faq_item(decision.faq_id, inp.text)
        if item is not None and not kb.faq_named(inp.text):
            decision = replace(
                decision, faq_id=item, why=decision.why + "; the item the content words name"
            )
    if (
        (decision.route == Route.FALLBACK or (decision.route == Route.FAQ and not decision.also))
        and not kb.faq_is_item(decision.faq_id or "")
        and structure.asks_for_organisation(inp.text)
        and not structure.asks_method(inp.text)
        and not kb.faq_named(inp.text)
    ):
        # 「解約を防いでくれる会社が知りたい」: an organisation asked for, and the content words
        # point first to one (above the list and the guides) → that one, not the list or a
        # dead end.
        item = kb.faq_asked_item(inp.text)
        if item is not None:
            decision = replace(
                decision,
                route=Route.FAQ,
                faq_id=item,
                failed=False,
                candidates=(),
                why=decision.why + "; the organisation the content words name",
            )
    if (
        decision.route == Route.FAQ
        and decision.faq_id
        and structure.asks_method(inp.text)
        and not kb.faq_named(inp.text)
    ):
        # 「委託先を比べるときは何を見ればいい?」: how to choose, not which one — the list of
        # organisations gives way to the guide over the same names (…の選び方).
        guide = kb.faq_method_list(decision.faq_id)
        if guide is not None and guide != decision.faq_id:
            decision = replace(decision, faq_id=guide, why=decision.why + "; how: the guide")
    if decision.route in (Route.FOLLOWUP, Route.BACK_TO_BOT, Route.HANDOFF, Route.DECLINE_OFFER):
        return decision
    if decision.route in TRAINING_ROUTES:
        return decision
    if decision.route in (Route.OFFER_HUMAN, Route.OUT_OF_SCOPE) or decision.small_talk:
        return decision  # neither a success nor a failure: the count stays
    return _failure(inp, decision)


_INTENT_COMMAND = re.compile(r"/([a-z_]+)(\{.*\})?", re.DOTALL)


def _button_intent(inp: RoutingInput) -> Decision | None:
    """A button's intent sent as Rasa's 「/intent」 (the widget's 👍 is 「/feedback_positive」):
    its words are the intent's name, not a question — 「feedback」 is an alias of the
    glossary's フィードバック, so 👍 used to get that definition."""
    found = _INTENT_COMMAND.fullmatch(inp.text.strip())
    if found is None or found.group(1) != inp.intent:
        return None
    small = SMALL_TALK_INTENTS.get(inp.intent or "")
    if small:
        return Decision(Route.SMALL_TALK, small_talk=small, why="a button's intent")
    if inp.intent == "feedback_negative":
        return Decision(Route.OFFER_HUMAN, reason="feedback", why="a button's intent")
    if inp.intent == "request_human":
        return Decision(Route.HANDOFF, why="a button's intent")
    return None


def _decide(inp: RoutingInput, kb: Knowledge) -> Decision:
    intent = _confident(inp)
    if inp.agent_owns or inp.handoff_active:
        if inp.intent == "back_to_bot":
            return Decision(Route.BACK_TO_BOT, why="back to the bot")
        return Decision(Route.FOLLOWUP, why="a person has the conversation")
    if not inp.text.strip():
        return Decision(Route.FALLBACK, reason="empty", failed=True, why="empty")
    if inp.offer_pending and inp.intent == "affirm":
        return Decision(Route.HANDOFF, why="yes to the offer of a person")
    if inp.offer_pending and inp.intent in ("deny", "decline_contact"):
        return Decision(Route.DECLINE_OFFER, why="no to the offer of a person")

    training = _training(inp, kb)
    if training is not None:
        return training
    command = _button_intent(inp)
    if command is not None:
        return command

    text, matches = without_noise(inp.text, inp.matches)
    if not _has_words(text):
        return Decision(Route.FALLBACK, failed=True, why="only tags, links, emoji or symbols")
    if not matches:
        kana = structure.romaji_to_kana(text)
        found = tuple(kb.find_terms(kana)) if kana else ()
        if kana and not found:
            # 「kuroseru tte nani」: a romaji word one character off a glossary name.
            kana = structure.romaji_to_kana(text, kb.spelled_like)
            found = tuple(kb.find_terms(kana)) if kana else ()
        if kana and found:
            # 「autobaundo tte nani」: romaji read as kana; the classifier saw another text.
            return _decide(
                replace(
                    inp,
                    text=kana,
                    matches=found,
                    intent=None,
                    intent_confidence=0.0,
                    intent_ranking=(),
                    faq_id=None,
                    faq_confidence=0.0,
                    faq_runner_up=0.0,
                ),
                kb,
            )
    if _gibberish(text, matches):
        return Decision(Route.FALLBACK, failed=True, why="random kana")
    # 「ACWじゃなくて応答率の意味」: a term put aside is not asked about.
    matches = structure.without_negated(text, matches)
    if intent == "back_to_bot" and not question.asks_meaning(text):
        # 「チャットボットとは何のこと?」 asks about a word; it does not ask for the bot.
        return Decision(Route.BACK_TO_BOT, why="back to the bot")
    if asks_for_person(text, matches, kb.people):
        return Decision(Route.HANDOFF, why="asks for a person")

    marker = question.has_question_marker(text)
    meaning = question.asks_meaning(text)
    known_terms = {m.term for m in matches}

    if question.wants_comparison(text, matches) or (
        intent == "compare_terms" and len(known_terms) >= 2
    ):
        subjects = question.comparison_subjects(text, matches)
        if len(subjects) >= 2 and all(s.term for s in subjects[:2]):
            return Decision(Route.COMPARISON, tuple(subjects[:2]), why="two terms compared")
    if intent == "compare_terms" and not known_terms:
        subjects = question.comparison_subjects(text, matches)
        if len(subjects) >= 2:
            return _define(subjects[:2], "comparison of words the glossary lacks")

    named = kb.faq_named(text)
    if named:
        # 「楽天カードのコンタクトセンターとは?」「TMJのアップセル研修とは」: an FAQ's own
        # title, or the company / product it is about, names what is asked (of the FAQs
        # about it, the selector's confident pick, else the closest by text).
        pick = (
            inp.faq_id
            if intent == "faq"
            and inp.faq_id in named
            and (inp.faq_confidence >= MIN_FAQ_CONFIDENCE)
            else named[0]
        )
        if pick is not None and structure.asks_organisation(text) and kb.faq_is_method(pick):
            # 「楽天カードを落としてしまったのですが、どこに相談すれば…」: どこ asks for the
            # place, not for a method (「…への連絡方法」): the FAQ about the subject that is none.
            pick = next((i for i in named if not kb.faq_is_method(i)), pick)
        return Decision(Route.FAQ, faq_id=pick, why="an FAQ's title or subject named")
    subjects = question.definition_subjects(text, matches) if (marker or matches) else []
    known = [s for s in subjects if s.term]
    if any(question.meaning_marker_at(text, m.end) for m in matches):
        # 「トラッキングはコンタクトセンターでは何を指しますか」: the term itself is asked.
        return _define(
            subjects or [question.Subject(m.text, m.term) for m in matches],
            "a term's meaning",
            kb,
        )
    # one term asked about (「ACWとコンタクトセンターをまとめて説明して」 asks for both)
    aspect = kb.faq_aspect(text, known_terms) if len(known_terms) == 1 and not meaning else None
    if aspect is not None:
        # 「コンタクトセンターを初めて知りました。どんなものか教えて」: a beginner asks for the
        # basics FAQ of the term; 「…について簡単にまとめて」 for its まとめ.
        return Decision(Route.FAQ, faq_id=aspect, why="an FAQ on the aspect of the term asked")
    picked = intent == "faq" and inp.faq_id is not None
    faq_ok = picked and inp.faq_confidence >= MIN_FAQ_CONFIDENCE
    leads_siblings = (
        picked
        and inp.intent_confidence >= SURE_FAQ_INTENT
        and inp.faq_confidence >= MIN_SIBLING_FAQ
        and inp.faq_confidence >= SIBLING_LEAD * inp.faq_runner_up
        and not meaning  # 「コンタクトセンターってどういう意味?」 wants the glossary
    )
    if (
        picked
        and not faq_ok
        and structure.asks_organisation(text)
        and all(structure.in_background(text, m) for m in matches)
    ):
        # 「初めてコールセンターを外注するのですが、どこに頼めば…」: どこ asks for an
        # organisation (the term only sets the scene): an unsure pick of a guide that names
        # organisations gives way to the FAQ that is the list of them.
        fullest = kb.faq_fullest_list(inp.faq_id or "")
        if fullest is not None and fullest != inp.faq_id:
            return Decision(Route.FAQ, faq_id=fullest, why="where: the list of organisations")
    words = known_terms | {s.query for s in subjects if not s.term}
    if (faq_ok or leads_siblings) and any(kb.faq_mentions(inp.faq_id or "", w) for w in words):
        # 「コンタクトセンターの役割とは?」「TMJって何してる会社?」 name the FAQ's topic.
        return Decision(Route.FAQ, faq_id=inp.faq_id, why="FAQ about the word named")
    small = SMALL_TALK_INTENTS.get(intent or "")
    if small and not meaning and not _QUESTION_END.search(text) and _small_talk_by_cue(text):
        # 「ACWの説明ありがとう」 thanks for an answer, it asks nothing.
        return Decision(Route.SMALL_TALK, small_talk=small, why="small talk naming a term")
    if known_terms and not (known and marker) and not meaning:
        # 「初めてコールセンターを外注するのですが、どこに頼めば…」: a term is named but is not
        # what is asked; the FAQ whose text holds the situation is (also when the term is the
        # topic, if the FAQ is about that term: 「コンタクトセンターを初めて知りました…」).
        hit = kb.retrieve_faq_named(text)
        topics = {m.term for m in matches if structure.term_is_topic(text, m)}
        if hit is not None and all(kb.faq_mentions(hit, t) for t in topics):
            return Decision(Route.FAQ, faq_id=hit, why="FAQ found by its facts, a term named")
    if (
        picked
        and not meaning
        and len(known_terms) == 1
        and inp.faq_confidence >= MIN_SIBLING_FAQ
        and kb.faq_mentions(inp.faq_id or "", next(iter(known_terms)))
        and kb.faq_winner(text, MIN_SCORE, MIN_MARGIN) == inp.faq_id
    ):
        # 「コンタクトセンターって電話以外でも対応してるの?」: something asked of the term, not
        # its meaning; the selector's unsure pick about that term is the FAQ whose text clearly
        # holds the question — the two agree.
        return Decision(Route.FAQ, faq_id=inp.faq_id, why="selector and FAQ text agree on the term")
    if known and marker:
        return _define(subjects, "a glossary term asked about", kb)
    if subjects and meaning:
        return _define(subjects, "the meaning of a word asked", kb)
    if not known_terms and not faq_ok and question.asks_how_to(text):
        # 「英語の勉強法を教えて」: how to do something the glossary does not name. (With a
        # term, 「ACWのやり方を知りたい」 was answered above as that term's definition.)
        return Decision(Route.OUT_OF_SCOPE, why="how to do something off topic")
    if subjects and _NOUN_TOPIC_QUESTION.search(text):
        return _define(subjects, "「〇〇ってどう…」 about a noun", kb)
    if subjects and marker and intent in ("define_term", "compare_terms"):
        return _define(subjects, "a word asked about", kb)
    informs = structure.asks_information(text)
    # The classifier's request_human is not enough for a ticket when the text asks to know
    # something (「エスカレーションの基準を知りたい」) or names a term that is no role.
    person_only = intent == "request_human" and not informs and known_terms <= set(kb.people)
    if known and intent not in ("feedback_negative", "out_of_scope") and not person_only:
        if small and _SMALL_TALK_CUE.search(text):
            return Decision(Route.SMALL_TALK, small_talk=small, why="small talk naming a term")
        if intent in YES_NO_INTENTS and _SMALL_TALK_CUE.search(text):
            return Decision(Route.SMALL_TALK, small_talk="ack", why="yes/no naming a term")
        return _define(subjects, "a glossary term named", kb)
    if (
        known
        and intent == "out_of_scope"
        and (question.is_lookup_word(text) or informs or _QUESTION_END.search(text))
    ):
        # 「応答率はどうやって計算するの?」: a question about a glossary term is in scope.
        return _define(subjects, "a glossary term asked about (classifier: off topic)", kb)

    selected = inp.faq_id is not None and intent not in (
        *SMALL_TALK_INTENTS,
        *YES_NO_INTENTS,
        "feedback_negative",
        "request_human",
        "out_of_scope",
    )
    if selected and not known_terms:
        item = kb.faq_winner(text, SURE_FAQ_SCORE, SURE_FAQ_LEAD)
        if item is not None and kb.faq_lists(inp.faq_id or "", item):
            # 「客単価を上げたいEC事業者におすすめの会社は?」: the selector picked a list, one
            # of its items holds the facts asked.
            return Decision(Route.FAQ, faq_id=item, why="the item of the list FAQ picked")
        if item is not None and item == inp.faq_id and inp.faq_confidence >= MIN_SIBLING_FAQ:
            # 「急ぎでリコール窓口を用意しないと…」: the selector and the FAQ's text agree.
            return Decision(Route.FAQ, faq_id=item, why="selector and FAQ text agree")
    if faq_ok:
        facts = kb.faq_winner(text, FACTS_OVERRIDE_SCORE, FACTS_OVERRIDE_LEAD)
        if facts is not None and facts != inp.faq_id:
            return Decision(Route.FAQ, faq_id=facts, why="FAQ whose text holds the facts asked")
        return Decision(Route.FAQ, faq_id=inp.faq_id, why="FAQ chosen by the ResponseSelector")
    if picked and inp.intent_confidence >= SURE_FAQ_INTENT and not matches:
        hit = kb.faq_winner(text, SURE_FAQ_SCORE, SURE_FAQ_LEAD)
        if hit is not None:
            return Decision(Route.FAQ, faq_id=hit, why="surely an FAQ; the closest by its text")
    if not matches and intent not in (*SMALL_TALK_INTENTS, *YES_NO_INTENTS, "feedback_negative"):
        hit = kb.retrieve_faq(text)
        if hit is not None:
            return Decision(Route.FAQ, faq_id=hit, why="FAQ found by its facts")
    if small:
        return Decision(Route.SMALL_TALK, small_talk=small, why="small talk")
    if intent == "feedback_negative":
        return Decision(Route.OFFER_HUMAN, reason="feedback", why="negative feedback")
    if intent == "request_human" and not informs and names_a_person(text, matches, kb.people):
        return Decision(Route.HANDOFF, why="request_human intent")
    if intent in YES_NO_INTENTS:
        return Decision(Route.SMALL_TALK, small_talk="ack", why="yes/no with nothing pending")
    if intent == "out_of_scope":
        return Decision(Route.OUT_OF_SCOPE, why="off topic")
    cue = _small_talk_by_cue(text)
    if cue:
        return Decision(Route.SMALL_TALK, small_talk=cue, why="small talk by its words")
    runner_up = next((name for name, _ in inp.intent_ranking if name != "nlu_fallback"), None)
    if intent is None and runner_up == "out_of_scope" and not matches and not marker:
        return Decision(Route.OUT_OF_SCOPE, why="unsure, most likely off topic")
    if question.is_lookup_word(text) and intent in ("define_term", "compare_terms"):
        return _define([question.Subject(text.strip(), None)], "a bare unknown word", kb)
    return Decision(
        Route.FALLBACK, failed=True, candidates=_candidates(inp, kb, text), why="nothing to answer"
    )


def _candidates(inp: RoutingInput, kb: Knowledge, text: str) -> tuple[tuple[str, str], ...]:
    """ "Did you mean": the FAQ selector's unsure pick first (「返品が多くて困ってる」 → NTT…),
    then the closest FAQs by text and the closest terms."""
    found = kb.candidates(text)
    if inp.faq_id and inp.faq_confidence >= MIN_CANDIDATE_FAQ and ("faq", inp.faq_id) not in found:
        found = (("faq", inp.faq_id), *found)
    return found[:MAX_CANDIDATES]


def knowledge(
    glossary: Glossary,
    faq_entries: Mapping[str, FaqEntry],
    retriever: FaqRetriever,
    matcher: TermMatcher | None = None,
) -> Knowledge:
    """Knowledge from the loaded glossary, FAQ entries and lexical FAQ retriever (and the
    term matcher over the same glossary; built here when not given)."""
    from .normalize import key_form

    terms = matcher if matcher is not None else TermMatcher(glossary)
    topics = FaqTopics(faq_entries, glossary, retriever)

    topic_keys = {
        faq_id: key_form(" ".join((entry.title, *entry.questions)))
        for faq_id, entry in faq_entries.items()
    }

    def mentions(faq_id: str, word: str) -> bool:
        topic = topic_keys.get(faq_id)
        if topic is None:
            return False
        term = glossary.get(word)
        names = term.names if term is not None else (word,)
        return any(key_form(name) in topic for name in names if len(key_form(name)) >= 2)

    def retrieve(text: str) -> str | None:
        return topics.clear_winner(text, MIN_SCORE, MIN_MARGIN)

    return Knowledge(
        people=glossary.people,
        faq_mentions=mentions,
        retrieve_faq=retrieve,
        categories=frozenset(t.category for t in glossary),
        find_terms=terms.find,
        spelled_like=topics.spelled_like,
        faq_named=topics.named,
        retrieve_faq_named=topics.about_situation,
        faq_winner=topics.clear_winner,
        faq_lists=topics.lists,
        candidates=lambda text: topics.candidates(text, terms.suggest),
        faq_item=topics.item,
        faq_aspect=topics.aspect,
        faq_fullest_list=topics.fullest_list,
        faq_is_method=topics.is_method,
        faq_method_list=topics.method_list,
        faq_asked_item=topics.asked_item,
        faq_is_item=topics.is_item,
    )


__all__ = [
    "Decision",
    "Knowledge",
    "Route",
    "RoutingInput",
    "asks_for_person",
    "decide",
    "names_a_person",
]
