"""How a question is built, read from the text and its term matches (no Rasa, no GiNZA).

`question.py` finds *which word* a 「〇〇とは」-style question asks about; this module
reads the rest of the sentence's structure, so the router can tell:

* **negation / correction** — 「ACWじゃなくて応答率の意味」「音声認識ではなくIVRのことを」
  「ACWのことは分かったので、次は応答率」: a term followed by じゃなく / ではなく / ではありません /
  と書きましたが / は分かった is not asked about (`without_negated`);
* **a request, or a request inside a question** — 「SVに代わって」 asks for a person, but
  「SVに代わってもらうのはどんな時?」「エスカレーションしてほしいと言われたら」「人に代わって
  もらうことをエスカレーションって言うの?」 ask about one: the request verb is embedded when
  a nominaliser or a noun follows it in the same clause (`embedded_request`);
  「話すことは可能でしょうか」 (can I …) is still a request;
* **a knowledge question** — 「〜の基準を知りたい」「〜はどうすれば?」「〜って言うの?」:
  information is asked for, so the classifier's `request_human` alone never opens a ticket
  (`asks_information`);
* **a training request inside a sentence** — 「新人研修用にクイズをやりたい」「研修モードに
  切り替えてもらえますか」 (`asks_for_training`);
* **romaji** — 「autobaundo tte nani」「esukare-shon no imi」 read as kana (`romaji_to_kana`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

import jaconv

from .matcher import Match

# --- negation and correction ----------------------------------------------------------
_NEGATED_AFTER = re.compile(
    r"\s*(?:「|」|』)?\s*(?:の(?:こと|ほう|方))?\s*(?:"
    r"じゃなく|じゃなし|ではなく|でなく|ではない|じゃない|ではありません|じゃありません"
    r"|と(?:言|い|書|か)(?:い|き)?ましたが|って(?:言|い|書|か)(?:っ|い)たけど"
    r"|は(?:もう)?(?:分か|わか|理解し)(?:った|りました)"
    r")"
)


def negated(text: str, match: Match) -> bool:
    """The term is put aside by what follows it: 「ACWじゃなくて」「IVRではなく」."""
    return bool(_NEGATED_AFTER.match(text, match.end))


def without_negated(text: str, matches: Sequence[Match]) -> list[Match]:
    """The matches that are asked about; negated ones dropped when another term remains."""
    kept = [m for m in matches if not negated(text, m)]
    return kept if kept else list(matches)


# --- requests embedded in a question ------------------------------------------------------
_CLAUSE_END = re.compile(r"[、,。!?！？\n]")
# What follows a request verb when the request is not the sentence's own predicate.
_EMBEDDING = re.compile(
    r"の(?:は|が|を|に|も)|の(?:で|だ)(?!す|し|け|ろ)|こと|とき|時(?:は|に|の|って)|場合|基準|場面"
    r"|ケース|タイミング|前に|前の|ため|べき"
    r"|と(?:言|い|頼|たの|聞|き)(?:われ|まれ|かれ|う|って)|って(?:言|い|頼|たの|聞|き)(?:われ|まれ|かれ|う)"
    r"|方法|手順|仕方|やり方|流れ|ルール|相手|理由"
)
# 「話すことは可能でしょうか」「切り替えてもらうことってできる?」: still a request.
_ABILITY = re.compile(r"こと(?:は|って|が|も)?\s*(?:可能|でき|出来)")


def embedded_request(text: str, end: int) -> bool:
    """The request phrase ending at `end` sits inside a question about it (what follows
    it in the same clause)."""
    stop = _CLAUSE_END.search(text, end)
    rest = text[end : stop.start() if stop else len(text)]
    if _ABILITY.search(rest):
        return False
    return bool(_EMBEDDING.search(rest))


# --- asking for information -----------------------------------------------------------
_INFORMATION = re.compile(
    r"知りたい|しりたい|知ら(?:せ|な)|教えて|おしえて|教えろ|教え(?:る|ま)|とは|意味|いみ|定義"
    r"|基準|目安|方法|手順|流れ|タイミング|ルール|コツ|ケース|場面|仕方|やり方|仕組み|違い"
    r"|どうすれば|どうしたら|どうする|どうなる|どうやって|べき|って(?:言|い)う|と(?:言|い)う(?:の|ん)"
    r"|(?:の|な)こと[?？]|誰が|だれが|どんな|なぜ|なんで|何を|なにを|何が|どこ|いつ"
    r"|(?:時|とき|場合)(?:は|に)?\s*[?？]"
)


def asks_information(text: str) -> bool:
    """The text asks to know something (「〜の基準を知りたい」「〜はどんな時?」)."""
    return bool(_INFORMATION.search(text))


# --- the topic of a question -------------------------------------------------------
_TOPIC_AFTER = re.compile(
    r"\s*(?:さん|様|さま)?\s*(?:って|とは|は(?!い)|について|に関して|の(?!で|に|だ)|という)"
)
_CLAUSE_START_AFTER = re.compile(r"\s*(?:が|を|で|に|も)")
_CLAUSE_BREAK = re.compile(r"[、,。!?！？\n「」]")


def term_is_topic(text: str, match: Match) -> bool:
    """The term is what the sentence is about (「顧客満足度ってなぜ大事?」「SVの仕事内容」
    「オムニチャネルが重要な理由は?」), not a word in passing (「初めてコールセンターを外注
    するのですが」「…するとオペレーターが対応してくれるのはどこ?」)."""
    if _TOPIC_AFTER.match(text, match.end):
        return True
    before = text[: match.start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    clause_start = breaks[-1].end() if breaks else 0
    at_start = not before[clause_start:].strip()
    return at_start and bool(_CLAUSE_START_AFTER.match(text, match.end))


# --- background and the question's own clause -------------------------------------------
# 「初めてコールセンターを外注するのですが、どこに頼めば…」: a clause ended by a background
# connective and a comma (のですが、 / けど、 / ので、), or a condition (なら / たら / れば), sets
# the scene; the question is asked in the clause after it.
_BACKGROUND_END = re.compile(
    r"(?:のですが|んですが|のだけど|んだけど|のですけど|んですけど|ですが|けど|けれど(?:も)?|ので|から)"
    r"\s*[、,]"
    r"|(?:なら|たら|れば)(?!ない|なく|ず|れ)\s*[、,]?"  # a condition: 「…を任せるならどこ?」
)
_SENTENCE_END = re.compile(r"[。!?！？\n]")


def in_background(text: str, match: Match) -> bool:
    """The term sits in a clause that only sets the scene for the question after it."""
    found = _BACKGROUND_END.search(text, match.end)
    stop = _SENTENCE_END.search(text, match.end)
    return found is not None and (stop is None or found.end() <= stop.start())


# どこ asking for an organisation (「どこに頼めば」「どこがいい?」「どこの会社」), not for a place
# or a point (「どこで使われる」「どこを見て選ぶ」).
_ORGANISATION = re.compile(
    r"どこ(?!\s*(?:で(?!す)|を|から|まで))|どちらの(?:会社|企業)|どの(?:会社|企業|業者|委託先|外注先)"
)


def asks_organisation(text: str) -> bool:
    """The question asks which organisation (「どこに頼めばいい?」「どの会社が候補?」)."""
    return bool(_ORGANISATION.search(text))


# An organisation as what is asked: 「…してくれる会社が知りたい」「…に強い委託先は?」.
_ORGANISATION_ASKED = re.compile(
    r"(?:会社|企業|業者|委託先|外注先|サービス)\s*(?:(?:が|を|は)\s*)?"
    r"(?:知りたい|教えて|ある|あります|[?？]|$)"
)


def asks_for_organisation(text: str) -> bool:
    """The question asks for an organisation: which one (どこ / どの会社) or one as the
    object of the question (「解約を防いでくれる会社が知りたい」)."""
    return asks_organisation(text) or bool(_ORGANISATION_ASKED.search(text.strip()))


# A question asking how (to choose, to decide, what to look at), not which one:
# 「何を見て比べればいい?」「どうやって決める?」「選ぶポイントは?」「どこを見ればいい?」.
_HOW = re.compile(
    r"どう(?:やって|すれば|したら|[ぁ-ん一-龥]{1,5}?(?:ば|たら)(?:いい|良い|よい))"
    r"|(?:何|なに)(?:を|で)[ぁ-ん一-龥]{1,6}?(?:ば|たら)(?:いい|良い|よい)"
    # どこを + a verb of looking or weighing: which points, not which organisation
    # (「どこを見ればいい?」「どこをチェックすべき?」; どこに / どこが ask for one)
    r"|どこを\s*[ぁ-ん一-龥ァ-ヶー]{1,8}?(?:ば|たら|べき)"
    r"|ポイント|コツ|基準|注意点|気を(?:つけ|付け)|決め手|(?:選び|決め|比べ|見極め|探し)方"
)


def asks_method(text: str) -> bool:
    """The question asks how (「何を見て比べればいい?」「選ぶポイントは?」), not which
    organisation (「どこがいい?」「どの会社を選べば?」 ask for one)."""
    return bool(_HOW.search(text)) and not asks_organisation(text)


# --- training ------------------------------------------------------------------------
_TRAINING_NOUN = r"(?:クイズ|くいず|研修モード|けんしゅうモード|用語テスト|確認テスト|練習問題)"
_TRAINING_WANT = (
    r"(?:やりたい|やりたく|やろう|やってみたい|したい|して(?:ほしい|欲しい|ください|もらえ|くれ|いただけ)"
    r"|しても(?:らえ|いい)|出して|だして|出してくれ|お願い|おねがい|切り替え|切替|きりかえ|始め|はじめ"
    r"|使いたい|つかいたい|受けたい|挑戦|チャレンジ|で練習|で確認|で力試し|で覚え|で復習|形式で|にして"
    # any wish or request predicate: a verb stem + たい / てほしい / てください
    # (「クイズで遊びたい」「クイズを解いてみたい」「クイズに答えさせて」)
    r"|[ぁ-ん一-龥]{1,4}?(?:たい|たく|てほしい|て欲しい|てください|てもらえ|させて))"
)
_TRAINING_REQUEST = re.compile(_TRAINING_NOUN + r"[^。!?！？\n]{0,14}?" + _TRAINING_WANT)
_ASKS_ABOUT_QUIZ = re.compile(_TRAINING_NOUN + r"\s*(?:とは|って(?:何|なに|なん))")
_PERSON_IN_REQUEST = re.compile(r"人|方|担当|スタッフ|先生|講師")
_LEAVING = re.compile(r"終了|終わ|おわ|やめ|止め|抜け|出る|出たい|解除")


def asks_for_training(text: str) -> bool:
    """「新人研修用にクイズをやりたい」「研修モードに切り替えてもらえますか」: a request to
    practise, wherever it sits in the sentence (not 「クイズとは?」)."""
    found = _TRAINING_REQUEST.search(text)
    return (
        found is not None
        and not _PERSON_IN_REQUEST.search(found.group())  # 「クイズを作った人に会いたい」
        and not _ASKS_ABOUT_QUIZ.search(text)
        and not _LEAVING.search(text)
    )


def asks_to_leave_training(text: str) -> bool:
    """「研修モードを終了したい」「クイズをやめたい」."""
    return bool(re.search(_TRAINING_NOUN, text)) and bool(_LEAVING.search(text))


# --- romaji -------------------------------------------------------------------------
_MACRONS = str.maketrans(
    {"ā": "a-", "ī": "i-", "ū": "u-", "ē": "e-", "ō": "o-", "â": "a-", "ô": "o-"}
)
_ROMAJI_WORD = re.compile(r"[a-z\-']+")
_PARTICLES = {"wa": "は", "towa": "とは", "o": "を", "wo": "を", "e": "へ"}
_KANA = re.compile(r"^[ぁ-んァ-ヶー]+$")


def romaji_to_kana(
    text: str, spelled_like: Callable[[str], str | None] | None = None
) -> str | None:
    """Lower-case romaji words as hiragana (「autobaundo tte nani」→「あうとばうんどってなに」);
    capitals (ACW, PBX) and English words that are not romaji stay. None: no romaji.
    With `spelled_like`, a word one character off a glossary name (「kuroseru」) becomes
    that name (particles and short words are left as they are)."""
    text = unicodedata.normalize("NFKC", text).translate(_MACRONS)
    if not re.search(r"[a-z]", text) or re.search(r"[ぁ-んァ-ヶ一-龥]", text):
        return None
    out: list[str] = []
    converted = False
    for token in re.split(r"(\s+)", text.strip()):
        if not token or token.isspace():
            continue
        core = token.rstrip("?？!！。.")
        tail = token[len(core) :]
        kana = None
        if core in _PARTICLES and converted:
            kana = _PARTICLES[core]
        elif _ROMAJI_WORD.fullmatch(core):
            # 「supaabaizaa」: a doubled vowel is a long one.
            long_vowels = re.sub(r"([aiueo])\1", r"\1-", core)
            candidate = jaconv.alphabet2kana(long_vowels)
            if _KANA.match(candidate):
                kana = candidate
                if spelled_like is not None and len(candidate) >= 3:
                    kana = spelled_like(jaconv.hira2kata(candidate)) or candidate
        if kana is not None:
            converted = True
            out.append(kana + tail)
        else:
            out.append(" " + token + " ")
    if not converted:
        return None
    return re.sub(r"\s+", " ", "".join(out)).strip()


__all__ = [
    "asks_for_organisation",
    "asks_for_training",
    "asks_information",
    "asks_method",
    "asks_organisation",
    "asks_to_leave_training",
    "embedded_request",
    "in_background",
    "negated",
    "romaji_to_kana",
    "term_is_topic",
    "without_negated",
]
