"""Works out what a question asks about: which words, and whether they are glossary terms.

Input is the user's text plus the term matches found in it (from the NLU
component, or `TermMatcher.find`). Output is a list of `Subject`s: a glossary
term to define, or an unknown word to report with suggestions.

A term only answers the question when it *is* the thing asked about:
「ACW時間とは」 asks about ACW時間, which the glossary lacks, so the answer is
"unknown" with アフターコールワーク as a suggestion, never ACW's definition.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from .matcher import Match
from .normalize import is_hiragana, is_kanji, is_noun_char

# 「〇〇とは」「〇〇と呼ばれる…」; 「とはなしたい」 is と話したい, not 「とは」, and 「話すことは
# 可能ですか」「選ぶことは」 is the nominaliser こと + は (after a verb or adjective ending).
_TOWA = r"(?<![すくぐつぬぶむるうたいなだのんけれせ]こ)とは(?!な[しさすせそ])|(?:と|って)呼ばれ"

# The one marker vocabulary: what people put after the word they ask about, each marked
# whether it asks what the word *means* (「AHTってなんの略?」) or only asks *about* it
# (「〇〇について教えて」, which may be about anything). has_question_marker looks for any,
# asks_meaning for the first kind; both views are compiled from this table.
_MEANING, _ABOUT = True, False
# 「Xってコンタクトセンターではどういう意味?」: the context phrase belongs to the marker.
_CONTEXT = (
    r"(?:って|とは|は)[、,\s]*[^、。!?！？\n]{1,24}?(?:では|だと|における|において|で)は?\s*"
    r"(?:どういう|どんな|どのような|何を|なにを|何の|なんの)"
    r"(?:意味|いみ|指|さ|こと)"
)
MARKERS: tuple[tuple[str, bool], ...] = (
    (_CONTEXT, _MEANING),
    (_TOWA, _MEANING),
    # 「CXって結局なんなの?」: a discourse adverb may stand between って and 何.
    (
        r"って(?=\s*(?:(?:結局|けっきょく|そもそも|一体|いったい|つまり|要するに|ようするに|ぶっちゃけ)"
        r"\s*)?(?:何|なに|なん)(?!\s*を\s*(?:する|して|し|やる|やって)))",
        _MEANING,
    ),
    # 「Xって何をするところ?」 asks what X does, not what the word means.
    (r"って(?=\s*(?:そもそも\s*)?(?:何|なに)\s*を\s*(?:する|して|し|やる|やって))", _ABOUT),
    (
        r"の(?:意味|いみ)|(?:意味|いみ)(?:は|を|が)|どういう(?:意味|いみ)|どんな(?:意味|いみ)",
        _MEANING,
    ),
    (r"の略|の定義", _MEANING),
    (r"という(?=\s*(?:言葉|用語|単語|ワード|語|意味))", _MEANING),
    (r"(?:が|は)\s*(?:どういう|どんな)もの", _MEANING),
    # 「という話」 reports, it does not ask.
    (r"という(?=\s*(?:の|もの|こと|[?？]|$))", _ABOUT),
    (r"の説明|の解説|を(?:教え|おしえ)|を説明|を解説|について|の概要", _ABOUT),
    # 「〇〇のやり方を知りたい」 asks about the term's practice.
    (r"の(?:やり方|やりかた|進め方|すすめかた|方法|仕方|しかた)", _ABOUT),
    # 「って」 only when a question follows (not 言って, 使って).
    (r"って(?=\s*(?:どう|どんな|どの|どれ|いう|具体|[?？!！。、]|$))", _ABOUT),
)
_MARKER = re.compile("|".join(f"(?:{p})" for p, _ in MARKERS))
_MEANING_MARKER = re.compile("|".join(f"(?:{p})" for p, meaning in MARKERS if meaning))
_COMPARE_CUE = re.compile(r"違い|違う|ちがい|ちがう|比較|比べ|くらべ|差|同じ|区別|相違|vs|VS|Vs")
_QUOTES = "「」『』\"'“”‘’()（）[]［］【】〈〉《》 　"
_LIST_SEPARATORS = "と、,，・や&＆/／"
_SENTENCE_BREAK = re.compile(r"[。!?！？\n]")
_COMPARE = re.compile(
    r"(?P<a>[^。!?！？\n]+?)\s*(?:と|、|,|や|vs\.?|VS|ｖｓ|Vs)\s*(?P<b>[^。!?！？\n]+?)\s*"
    r"(?:の|って|は|で|を|に)?\s*(?:違い|ちがい|差|比較|くらべ|比べ|どう違|何が違|なにが違|区別|相違)"
)
MAX_QUERY_CHARS = 30
# Question words and demonstratives ask, they are not asked about: 「NPSって何の略?」 asks about
# NPS (the region between って and の略 is 何), 「それってどういう意味?」 names no word.
_INTERROGATIVES = frozenset(
    re.split(
        r"\s+",
        "何 なに なん 何か なにか 誰 だれ どれ どこ いつ どの どっち どちら 何処 これ それ あれ"
        " この その あの こちら そちら コレ ソレ",
    )
)


# Words about words: 「CRMは英語で何という言葉の略?」 asks about CRM, not about 言葉.
_META_NOUNS = frozenset(
    re.split(
        r"\s+",
        "言葉 ことば 用語 単語 ワード 語 名前 名称 正式名称 略 略語 略称 頭文字 意味 英語 日本語"
        " 正式 呼び方 読み方",
    )
)


def is_interrogative(word: str) -> bool:
    """A question word, a demonstrative or a word about words: never what is asked about."""
    word = word.strip(_QUOTES)
    return word in _INTERROGATIVES or word in _META_NOUNS


# The topic a sentence starts with: 「CRMは英語で何という言葉の略?」「NPSって英語だと何?」
_SENTENCE_TOPIC = re.compile(r"\s*(?:さん)?\s*(?:って|とは|は(?!い))")


def _sentence_topic(text: str, matches: Sequence[Match]) -> Subject | None:
    """The noun a sentence opens with as its topic (marked by は / って / とは), for a
    question whose marker follows only question words (「…は英語で何という言葉の略?」)."""
    for sentence in re.finditer(r"[^。!?！？\n]+", text):
        i = sentence.start()
        while i < sentence.end() and text[i] in _QUOTES:
            i += 1
        lead = _LEAD.match(text, i)
        if lead:
            i = lead.end()
        j = i
        while j < sentence.end() and (is_noun_char(text[j]) or text[j] in "ー・"):
            j += 1
        if j - i < 2 or not _SENTENCE_TOPIC.match(text, j):
            continue
        term = next((m for m in matches if m.start == i and m.end == j), None)
        if term is not None:
            return Subject(term.text, term.term)
        if not any(m.start < j and m.end > i for m in matches):
            return Subject(text[i:j][-MAX_QUERY_CHARS:], None)
    return None


# --- a term in a modifier position ---------------------------------------------------
# 「SVにエスカレーションすべきなのは…」「オペレーターからのエスカレーションは…」「コールセンターで
# クロスセルを提案するコツ」: a term marked by an oblique particle (に / へ / から / で / より /
# まで, also with の or は) modifies the predicate of a later term, which is what is asked
# (its argument: topic, object, or the verb noun itself). 「〜について」「〜に関して」 mark
# the topic, not a modifier.
_OBLIQUE_AFTER = re.compile(
    r"\s*(?:さん|様|さま)?\s*(?:に(?!\s*(?:つい|関し|関す|かんし))(?:は|も|対して|対する)?"
    r"|へ(?:の|は)?|から(?:の|は)?|で(?:は|の|も)?|より|まで(?:の|は)?)"
)
# 「顧客満足度を上げるためにCRMを使う意味は?」: a term inside a subordinate clause (purpose,
# reason, concession, condition, a て-form joined by a comma) is background to the main
# clause's term.
_SUBORDINATE = re.compile(
    r"ため(?:に|の)|ように|ので|のに|けど|けれど|たら|れば|ながら|ですが|んだが|のだが|[てで][、,]"
)
_SAME_SENTENCE = re.compile(r"[。!?！？\n]")


def is_modifier(text: str, match: Match, matches: Sequence[Match]) -> bool:
    """The term modifies what a later term of the same sentence is asked about: it is
    marked by an oblique particle in the same clause, or it sits in a subordinate clause."""
    later = [m for m in matches if m.start >= match.end and m.term != match.term]
    if not later:
        return False
    between = text[match.end : later[0].start]
    if _SAME_SENTENCE.search(between):
        return False
    if _OBLIQUE_AFTER.match(text, match.end) and not re.search(r"[、,]", between):
        return True
    return bool(_SUBORDINATE.search(between))


def _argument_first(text: str, subjects: list[Subject], matches: Sequence[Match]) -> list[Subject]:
    """Subjects with the terms in a modifier position moved after the others."""
    if sum(1 for s in subjects if s.term) < 2:
        return subjects
    modifiers = {m.term for m in matches if is_modifier(text, m, matches)}
    return sorted(subjects, key=lambda s: s.term in modifiers if s.term else False)


@dataclass(frozen=True)
class Subject:
    query: str  # the words as the user wrote them
    term: str | None  # the glossary headword, or None when unknown


def definition_subjects(text: str, matches: Sequence[Match]) -> list[Subject]:
    """What 「〇〇とは?」-style text asks to define, in order, without duplicates."""
    subjects: list[Subject] = []
    region_start = 0
    for marker in _MARKER.finditer(text):
        region = _trim(text, region_start, marker.start())
        region_start = marker.end()
        if region is None:
            continue
        about = not _MEANING_MARKER.match(text, marker.start())
        found = _subjects_in_region(text, region, matches, about=about)
        kept = [s for s in found if s.term or not is_interrogative(s.query)]
        if not kept and found:
            kept = _owner_of_word_about_words(text, region, found[-1].query, matches, about)
        subjects.extend(kept)
    if not subjects and _MEANING_MARKER.search(text):
        # 「CRMは英語で何という言葉の略?」: only question words before the markers.
        topic = _sentence_topic(text, matches)
        subjects = [topic] if topic is not None else []
    if not subjects:
        # No marker (「ACW」「ACW?」): every term mentioned is asked about.
        subjects = [Subject(m.text, m.term) for m in matches]
    return _argument_first(text, _dedupe(subjects), matches)


def _owner_of_word_about_words(
    text: str, region: tuple[int, int], word: str, matches: Sequence[Match], about: bool
) -> list[Subject]:
    """「〇〇の用語とは?」「XYZの略語って?」: a word about words after の is asked about
    what stands before the の."""
    start, end = region
    cut = end - len(word) - 1
    if cut <= start or text[cut : end - len(word)] != "の" or not text.endswith(word, 0, end):
        return []
    inner = _trim(text, start, cut)
    if inner is None:
        return []
    found = _subjects_in_region(text, inner, matches, about=about)
    return [s for s in found if s.term or not is_interrogative(s.query)]


def wants_comparison(text: str, matches: Sequence[Match]) -> bool:
    """A comparison cue (違い, 比較, 同じ…) and at least two different glossary terms."""
    return bool(_COMPARE_CUE.search(text)) and len({m.term for m in matches}) >= 2


def comparison_subjects(text: str, matches: Sequence[Match]) -> list[Subject]:
    """The two things 「AとBの違いは?」 compares (known or unknown)."""
    if wants_comparison(text, matches):
        return _dedupe([Subject(x.text, x.term) for x in matches])[:2]
    m = _COMPARE.search(text)
    if m:
        out = []
        for group in ("a", "b"):
            start, end = m.span(group)
            trimmed = _trim(text, start, end)
            if trimmed is None:
                continue
            found = _subjects_in_region(text, trimmed, matches, allow_lists=False)
            out.extend(found[-1:])
        if len(out) == 2:
            return _dedupe(out)
    return _dedupe([Subject(x.text, x.term) for x in matches])


def _subjects_in_region(
    text: str,
    region: tuple[int, int],
    matches: Sequence[Match],
    allow_lists: bool = True,
    about: bool = False,
) -> list[Subject]:
    start, end = region
    inside = [m for m in matches if m.start >= start and m.end <= end]
    last = next((m for m in reversed(inside) if m.end == end), None)
    if last is None and inside and text[inside[-1].end : inside[-1].end + 1] == "の":
        # 「クラウドPBXの仕組み」「SVの仕事内容」: an aspect of a known term.
        aspect_of = inside[-1]
        if not _glued_before(text, start, aspect_of.start):
            return [Subject(aspect_of.text, aspect_of.term)]
    if last is None:
        topic = _clause_topic(text, start, end, inside, about)
        if topic is not None:
            return [topic]
        # Nothing known ends where the question mark sits: the asked word is unknown.
        query = _trailing_word(text, start, end)
        return [Subject(query, None)] if query else []
    prefix_start = last.start
    while prefix_start > start and is_noun_char(text[prefix_start - 1]):
        prefix_start -= 1
    if prefix_start < last.start:
        # Glued to more noun characters (新人オペレーター): a different, unknown word.
        return [Subject(text[prefix_start:end], None)]
    found = [Subject(last.text, last.term)]
    if allow_lists:
        # 「ACWとSVとは」: walk back over 「AとB」「A、B」 lists of known terms.
        cursor = last.start
        for m in reversed([m for m in inside if m.end <= last.start]):
            gap = text[m.end : cursor].strip(_QUOTES)
            if len(gap) == 1 and gap in _LIST_SEPARATORS:
                found.insert(0, Subject(m.text, m.term))
                cursor = m.start
            else:
                break
    return found


# What may follow a clause's first noun: a particle, so a predicate follows (「ACWが長い」
# 「IVRで離脱が多い」「CRMに入力漏れがある」「フィードバックを返す」).
_TOPIC_PARTICLE = re.compile(r"(?:が|は|で|に|を|も|と|って|から|まで|より)")
# A glossary term used as a verb (「エスカレーションするタイミング」「ACWした後」): the term is
# the clause's topic as with a particle.
_VERB_SUFFIX = re.compile(r"(?:する|した|して|される|させる|すべき|しない|しよう)")
# Loanword nouns that name an aspect of something, not a thing one looks up (the kanji ones,
# 基準・方法・理由…, are recognised by their script): 「エスカレーションするタイミング」.
_ASPECT_NOUN = re.compile(
    r"(?:タイミング|メリット|デメリット|ポイント|コツ|ルール|ケース|シーン|パターン|フロー|プロセス"
    r"|ステップ|マナー|イメージ|レベル|ゴール|リスク|メリデメ)$"
)
# Kanji nouns that name an aspect of what a clause is about: 「エスカレーションしてもらえる条件って
# 何?」 asks for the conditions of an escalation, not what the word 条件 means.
_ASPECT_KANJI = re.compile(
    r"条件|基準|理由|目的|方法|手順|目安|効果|役割|流れ|注意点|ポイント|タイミング|メリット|デメリット"
)
# Bound nouns that do not make a new word of a term (「スクリプト通りに話せ」「ACW中」).
_BOUND_SUFFIX = re.compile(r"(?:通り|どおり|型|的|化|中|上|用|系|側|時|後|前|内|外)(?![一-龥])")
# Hiragana adverbs and fillers a clause may start with.
_LEAD = re.compile(
    r"(?:そもそも|結局|けっきょく|つまり|ねえ|ねぇ|あの|えっと|てか|で、|じゃあ)[、,\s]*"
)


def _clause_topic(
    text: str, start: int, end: int, inside: Sequence[Match], about: bool = False
) -> Subject | None:
    """「ACWが長いってどういうこと?」「SVが不在ってどういうこと?」: when a clause stands
    between the term and the question, the clause's first noun phrase is what is asked
    about — a glossary term (also with a bound suffix: 「スクリプト通りに」), or an unknown
    word (「新人オペレーターが…」 → 新人オペレーター), never the clause itself. None when the
    region is no clause (a noun phrase only: 「ACW時間とは」 keeps its usual reading)."""
    # Back over commas to the start of the sentence (「…注意されたけど、そもそも」).
    i = start
    while i < end and (text[i] in _QUOTES or text[i] in "、,"):
        i += 1
    lead = _LEAD.match(text, i)
    if lead:
        i = lead.end()
    k = end
    while k > i and (
        is_noun_char(text[k - 1])
        or text[k - 1] in "ー・%％"
        or (text[k - 1] == "っ" and k - 1 > i and is_noun_char(text[k - 2]))  # 真っ赤
    ):
        k -= 1
    common_noun = (
        about and (all(is_kanji(c) for c in text[k:end]) or bool(_ASPECT_NOUN.search(text[k:end])))
    ) or bool(_ASPECT_KANJI.fullmatch(text[k:end]))
    if k < end and (k == i or text[k - 1] not in "がはも") and not common_noun:
        # The marker follows a noun that is not a predicate (「…で使うKPIとは」): that
        # noun is asked about, as usual. Asked *about* (not its meaning), a common noun
        # (「SVに代わるべき場面ってどんなとき?」) leaves the clause's term as the topic.
        return None
    head = next((m for m in inside if m.start == i), None)
    if head is not None and is_modifier(text, head, inside):
        # 「顧客満足度を上げるためにCRMを使う意味は?」: the main clause's term is asked.
        head = next(
            (m for m in inside if m.start > head.start and not is_modifier(text, m, inside)), None
        )
    if head is not None:
        pos = head.end
        suffix = _BOUND_SUFFIX.match(text, pos)
        if suffix:
            pos = suffix.end()
        while pos < end and (text[pos].isdigit() or text[pos] in "%％."):
            pos += 1  # 「応答率80%」
        if pos < end and (_TOPIC_PARTICLE.match(text, pos) or _VERB_SUFFIX.match(text, head.end)):
            return Subject(head.text, head.term)
    j = i
    while j < end and (is_noun_char(text[j]) or text[j] in "ー・%％."):
        j += 1
    if j == i or j >= end or not _TOPIC_PARTICLE.match(text, j):
        return None
    rest = text[j:end]
    if not any(is_hiragana(c) for c in rest[1:]) and not any(is_noun_char(c) for c in rest):
        return None
    # Another term of the clause marked as its subject or topic (「今月はACWが長い」).
    for m in inside:
        topic = m.start > i and _TOPIC_PARTICLE.match(text, m.end) and text[m.end] in "がはって"
        if topic and not _glued_before(text, i, m.start):
            return Subject(m.text, m.term)
    word = text[i:j]  # 「新人オペレーターが…」「ACW時間が…」: the unknown word, not the clause
    return Subject(word[-MAX_QUERY_CHARS:], None) if len(word) >= 2 else None


def _glued_before(text: str, start: int, pos: int) -> bool:
    return pos > start and is_noun_char(text[pos - 1])


def _trailing_word(text: str, start: int, end: int) -> str:
    """The word just before a marker when no glossary term is there."""
    i = end
    while i > start and is_noun_char(text[i - 1]):
        i -= 1
    if i == end:
        # Written in hiragana or mixed script: take back to the last break; a word only
        # (「ろーぷれ」), never a clause quoted as if it were one (「…を選ぶときに気をつけるこ」).
        chunk = re.split(r"[、,。!?！？\s「」『』]", text[start:end])[-1]
        return chunk if is_word(chunk) else ""
    return text[i:end][-MAX_QUERY_CHARS:]


# Function words a clause has and a word typed in kana has not.
_CLAUSE_KANA = re.compile(
    r"を|ます|です|でし|する|した|して|たい|ない|こと|とき|ので|けど|から|ため|られ|れる|ている|てる"
)


def is_word(chunk: str) -> bool:
    """A word one may look up (「ろーぷれ」「CRMシステム」), not a clause."""
    if not chunk or len(chunk) > MAX_QUERY_CHARS:
        return False
    if all(is_noun_char(c) or c in "ー・" for c in chunk):
        return True
    return not _CLAUSE_KANA.search(chunk)


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Shrink [start, end) to the current sentence, without quotes or spaces at the edges."""
    breaks = list(_SENTENCE_BREAK.finditer(text, start, end))
    if breaks:
        start = breaks[-1].end()
    while end > start and text[end - 1] in _QUOTES:
        end -= 1
    while start < end and text[start] in _QUOTES:
        start += 1
    return (start, end) if start < end else None


def _dedupe(subjects: list[Subject]) -> list[Subject]:
    seen: set[str] = set()
    out = []
    for s in subjects:
        key = s.term or s.query
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def is_lookup_word(text: str) -> bool:
    """A message that is just one word to look up (「BPO」「ロープレ?」),
    not a sentence or emoji."""
    stripped = text.strip(_QUOTES + "?？!！。")
    if not 0 < len(stripped) <= 15:
        return False
    if all(is_noun_char(c) or c in "ー・" for c in stripped):
        return True
    return len(stripped) <= 10 and all(is_hiragana(c) or c == "ー" for c in stripped)


# 「英語の勉強法を教えて」「カレーの作り方を知りたい」: asks how to do something (a method noun:
# 〜方 after a verb stem, 〜法, 方法, やり方, コツ, 手順…), not what a word means.
_HOW_TO = re.compile(
    r"(?:やり方|やりかた|仕方|しかた|方法|ほうほう|(?<=[ぁ-ん])方|(?<=[一-龥])法|コツ|こつ|秘訣|手順|ノウハウ)"
    r"\s*(?:を|が|は|って|について|、)?\s*"
    r"(?:教え|おしえ|知り|しり|知ら|しら|聞き|きき|ある|あり|ない|なに|何|どう|[?？]|$)"
)

_ACRONYM = re.compile(r"(?<![A-Za-z])[A-Z]{2,5}(?![A-Za-z])")


def asks_how_to(text: str) -> bool:
    """The text asks for a method (「Xの勉強法を教えて」), not for a word's meaning."""
    # An abbreviation (「AHTの計算方法」) is likely jargon the glossary lacks: not off topic.
    return bool(_HOW_TO.search(text)) and not asks_meaning(text) and not _ACRONYM.search(text)


def has_question_marker(text: str) -> bool:
    """「〇〇とは」「〇〇って何」: the text asks what a word means."""
    return bool(_MARKER.search(text))


def meaning_marker_at(text: str, pos: int) -> bool:
    """A marker asking for a meaning starts right at `pos` (just after a term)."""
    return bool(_MEANING_MARKER.match(text, pos))


def asks_meaning(text: str) -> bool:
    """Narrower than has_question_marker: asks what a word *means* (「AHTってなんの略?」),
    not 「〇〇について教えて」, which may be about anything."""
    return bool(_MEANING_MARKER.search(text))


# After a person's role (オペレーター, SV...): 「と話したい」「に代わって」「をお願い」.
_PERSON_REQUEST = re.compile(
    r"\s*(?:さん|様|さま|の方|のかた|の人|のひと)?\s*(?:"
    r"(?:と|に|へ|を|で)\s*(?:話|はな[しさすせ]|代わ|かわ[っりる]|替わ|変わ|つな[いぎげ]|繋|呼んで|よんで|"
    r"相談|そうだん|聞き|きき|質問|お願い|おねがい|出して|だして|対応して)"
    r"|(?:お願い|おねがい|呼んで|よんで|出して|だして))"
)
# After エスカレーション: 「をお願い」「してください」.
_ACTION_REQUEST = re.compile(
    r"\s*(?:を\s*)?(?:お願い|おねがい|して(?:ください|下さい|くれ|ほしい|欲しい|もらえ|いただけ))"
)
ESCALATION = "エスカレーション"


def requests_person(text: str, matches: Sequence[Match], people: Collection[str]) -> bool:
    """「オペレーターと話したい」「SVに代わって」「エスカレーションをお願いできますか」:
    a glossary term used to ask for a person, not asked about. 「オペレーターとは」 is not."""
    if has_question_marker(text):
        # 「SVに相談しろと言われたけど、SVって何?」 reports a request and asks a meaning.
        return False
    return bool(person_request_ends(text, matches, people))


def person_request_ends(text: str, matches: Sequence[Match], people: Collection[str]) -> list[int]:
    """Where each request phrase after a role or エスカレーション ends (「SVに代わ|って」)."""
    ends = []
    for m in matches:
        if m.term in people:
            found = _PERSON_REQUEST.match(text, m.end)
        elif m.term == ESCALATION:
            found = _ACTION_REQUEST.match(text, m.end)
        else:
            found = None
        if found:
            ends.append(found.end())
    return ends
