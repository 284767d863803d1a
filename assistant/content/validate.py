"""Checks on content records before anything is saved, with messages for editors.

Each problem is ``{"field": ..., "message": ...}`` (Japanese, shown next to the field).
Names (headwords and aliases) are compared in the matcher's normalised form
(`normalize.key_form`: width, case, kana, long vowel, middle dot, spaces), so
「ＡＣＷ」 or 「acw」 is the same name as 「ACW」.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..normalize import blank_controls, key_form
from ..routing import without_noise

Problem = dict[str, str]

MAX_NAME = 60
MAX_ALIASES = 30
MAX_CATEGORY = 30
MAX_DEFINITIONS = 10
MAX_DEFINITION = 2000
MAX_SOURCE = 200
MAX_NOTE = 500
MAX_TITLE = 120
MAX_ANSWER = 4000
MAX_QUESTIONS = 100
MAX_QUESTION = 200
MAX_URL = 500
MAX_AS_OF = 40
FAQ_ID = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")
# Kana readings: hiragana, katakana, the long vowel, the middle dot, spaces.
KANA = re.compile(r"^[\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc\u30fd\u30fe\u30fb・ー\s]+$")


def _p(field: str, message: str) -> Problem:
    return {"field": field, "message": message}


def _too_long(field: str, label: str, value: str, limit: int) -> list[Problem]:
    return (
        [_p(field, f"{label}は{limit}文字以内にしてください(いま{len(value)}文字)")]
        if len(value) > limit
        else []
    )


def _shown(name: str) -> str:
    """A name as quoted in a message: control characters made visible, at most 40 characters."""
    blanked = blank_controls(name)
    shown = "".join("□" if a != b or a in "\n\t" else a for a, b in zip(name, blanked, strict=True))
    return shown if len(shown) <= 40 else shown[:40] + "…"


def name_problem(label: str, name: str) -> str | None:
    """Why `name` (a headword, alias or related term) can never be asked for, or None.

    Mirrors how the chat cleans what customers type: `normalize.clean_user_text` blanks
    control characters, and the router (`routing.without_noise`) blanks tags, URLs and
    e-mail addresses before any name is matched — so a name with 「<b>」 in it is never
    found in a message. Plain angle brackets that make no tag (「A<B」, 「A>B」) are kept by
    that cleaning, and so are allowed here."""
    if blank_controls(name) != name or "\n" in name or "\t" in name:
        return (
            f"{label}「{_shown(name)}」に改行・タブ・制御文字(□の位置)が含まれています。"
            "取り除いてください"
        )
    cleaned, _ = without_noise(name, ())
    if cleaned == name:
        return None
    if re.search(r"<[^<>]*>", name):
        return (
            f"{label}「{_shown(name)}」にはタグのような書き方(<…>)は使えません。"
            "お客さまの入力からはタグが取り除かれるため、この名前では答えられません"
        )
    return (
        f"{label}「{_shown(name)}」にはURLやメールアドレスは使えません。"
        "お客さまの入力からは取り除かれるため、この名前では答えられません"
    )


def names_of(record: Mapping[str, Any]) -> list[str]:
    return [record.get("term") or "", *(record.get("aliases") or [])]


NameIndex = dict[str, list[tuple[Any, str, str]]]


def name_index(terms: Iterable[tuple[Any, Mapping[str, Any]]]) -> NameIndex:
    """key form of every name → [(identity, headword, name as written)] of the enabled terms."""
    index: NameIndex = {}
    for ident, record in terms:
        for n in names_of(record):
            k = key_form(n)
            if k:
                index.setdefault(k, []).append((ident, record.get("term") or "", n))
    return index


def check_term(
    record: Mapping[str, Any], ident: Any, names: NameIndex, headwords: Iterable[str] | set[str]
) -> list[Problem]:
    """Problems of a cleaned term record. `ident`: the term's identity in `names` (the
    enabled terms after the change); `headwords`: every enabled headword after the change
    (related terms must be among them)."""
    out: list[Problem] = []
    term = record.get("term") or ""
    if not term:
        out.append(_p("term", "見出し語を入力してください"))
    out += _too_long("term", "見出し語", term, MAX_NAME)
    if term and (problem := name_problem("見出し語", term)):
        out.append(_p("term", problem))
    reading = record.get("reading") or ""
    if not reading:
        out.append(_p("reading", "読みを入力してください(ひらがなかカタカナ)"))
    elif not KANA.match(reading):
        out.append(_p("reading", "読みはひらがなかカタカナで入力してください"))
    out += _too_long("reading", "読み", reading, MAX_NAME)
    category = record.get("category") or ""
    if not category:
        out.append(_p("category", "カテゴリを入力してください"))
    out += _too_long("category", "カテゴリ", category, MAX_CATEGORY)
    aliases = record.get("aliases") or []
    if len(aliases) > MAX_ALIASES:
        out.append(_p("aliases", f"別名は{MAX_ALIASES}個までにしてください"))
    for alias in aliases:
        out += _too_long("aliases", f"別名「{alias[:20]}」", alias, MAX_NAME)
        if problem := name_problem("別名", alias):
            out.append(_p("aliases", problem))
        elif len(key_form(alias)) < 2:
            out.append(
                _p(
                    "aliases",
                    f"別名「{alias}」は1文字なので、ほかの言葉の一部と誤って一致します。2文字以上にしてください",
                )
            )
    if term and len(key_form(term)) < 1:
        out.append(_p("term", "見出し語に文字がありません"))
    # Names already used by another term.
    mine = {key_form(n): n for n in names_of(record) if n}
    for k, written in mine.items():
        for other, headword, n in names.get(k, ()):
            if other != ident:
                field = "term" if written == term else "aliases"
                out.append(
                    _p(
                        field,
                        f"「{written}」はすでに用語「{headword}」の名前({n})として使われています",
                    )
                )
                break
    known = headwords if isinstance(headwords, set) else set(headwords)
    for rel in record.get("related") or []:
        if problem := name_problem("関連用語", rel):
            out.append(_p("related", problem))
        elif rel == term:
            out.append(_p("related", "関連用語に自分自身は指定できません"))
        elif rel not in known:
            out.append(
                _p("related", f"関連用語「{rel}」は用語集にありません(見出し語で指定してください)")
            )
    definitions = record.get("definitions") or []
    if not definitions:
        out.append(_p("definitions", "定義を一つ以上入力してください"))
    if len(definitions) > MAX_DEFINITIONS:
        out.append(_p("definitions", f"定義は{MAX_DEFINITIONS}個までにしてください"))
    for i, d in enumerate(definitions, 1):
        if not d.get("text"):
            out.append(_p("definitions", f"定義{i}の本文を入力してください"))
        if not d.get("source"):
            out.append(_p("definitions", f"定義{i}の出典を入力してください"))
        out += _too_long("definitions", f"定義{i}", d.get("text") or "", MAX_DEFINITION)
        out += _too_long("definitions", f"定義{i}の出典", d.get("source") or "", MAX_SOURCE)
        out += _too_long("definitions", f"定義{i}のメモ", d.get("note") or "", MAX_NOTE)
    return out


def check_faq(record: Mapping[str, Any], others: Iterable[Mapping[str, Any]]) -> list[Problem]:
    out: list[Problem] = []
    fid = record.get("id") or ""
    if not fid:
        out.append(_p("id", "IDを入力してください(半角英小文字・数字・_)"))
    elif not FAQ_ID.match(fid):
        out.append(_p("id", "IDは半角英小文字・数字・_で、64文字以内にしてください"))
    elif any(o.get("id") == fid for o in others):
        out.append(_p("id", f"ID「{fid}」はすでに使われています"))
    title = record.get("title") or ""
    if not title:
        out.append(_p("title", "タイトルを入力してください"))
    out += _too_long("title", "タイトル", title, MAX_TITLE)
    answer = record.get("answer") or ""
    if not answer:
        out.append(_p("answer", "回答を入力してください"))
    out += _too_long("answer", "回答", answer, MAX_ANSWER)
    if not record.get("source"):
        out.append(_p("source", "出典を入力してください"))
    out += _too_long("source", "出典", record.get("source") or "", MAX_SOURCE)
    url = record.get("url") or ""
    if url and not re.match(r"^https?://[^\s<>\"]+$", url):
        out.append(_p("url", "出典URLは http:// か https:// で始まるURLにしてください"))
    out += _too_long("url", "出典URL", url, MAX_URL)
    out += _too_long("as_of", "時点", record.get("as_of") or "", MAX_AS_OF)
    questions = record.get("questions") or []
    if len(questions) > MAX_QUESTIONS:
        out.append(_p("questions", f"質問例は{MAX_QUESTIONS}個までにしてください"))
    for q in questions:
        out += _too_long("questions", f"質問例「{q[:20]}」", q, MAX_QUESTION)
    return out
