"""What the bot would answer with some content: the real router (assistant/routing.py)
on an NLU result, with that content's matcher and knowledge. Used by the editor's
preview and by "test all" before a publish (no Rasa imports: the NLU result is a dict,
as Rasa's parse returns it and as the action server's tracker holds it).

"Test all" runs every question with an expected answer — each term asked 「<name>とは?」
by headword and alias, each FAQ's example questions, every tests/eval/cases.yml case —
plus the editor's preview questions, with the old and the new content, and reports
what changes: a *regression* is a question answered right before and not after (it
blocks the publish unless a supervisor confirms it), *fixed* the reverse, *changed* a
different answer text or outcome without an expectation broken (a question that expected
「用語集にありません」 and now gets the new term's definition is such a change).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import replies, routing
from ..glossary import REPO_ROOT, Glossary
from ..matcher import Match, TermMatcher, Token
from ..routing import Route
from .model import Content

EVAL_CASES = REPO_ROOT / "tests" / "eval" / "cases.yml"
# Up to this many 「<name>とは?」 questions (old + new content) every term is asked; above
# it, only the terms a change can affect (a 10,000-term glossary has ~40,000 names).
FULL_TERM_CASES = 4000
NEW_TERMS_CAP = 300  # an import's added terms asked about (they can only be fixed)
LABELS = {
    Route.HANDOFF: "(担当者に引き継ぎます)",
    Route.OFFER_HUMAN: "(担当者への引き継ぎを提案します)",
    Route.DECLINE_OFFER: "(引き継ぎを取りやめます)",
    Route.BACK_TO_BOT: "(ボットに戻ります)",
    Route.FOLLOWUP: "(担当者への伝言として記録します)",
}


def routing_input(
    latest: Mapping[str, Any], text: str, matches: Sequence[Match], **state: Any
) -> routing.RoutingInput:
    """The router's input from an NLU result (Rasa's parse dict / the tracker's latest
    message), the cleaned text, the term matches and the conversation state."""
    intent = latest.get("intent") or {}
    faq = (latest.get("response_selector") or {}).get("faq", {}) or {}
    selected = faq.get("response", {}) or {}
    ranking = faq.get("ranking") or []
    key = (selected.get("intent_response_key") or "").split("/", 1)[-1] or None
    return routing.RoutingInput(
        text=text,
        intent=intent.get("name"),
        intent_confidence=float(intent.get("confidence") or 0.0),
        intent_ranking=tuple(
            (r.get("name"), float(r.get("confidence") or 0.0))
            for r in latest.get("intent_ranking") or []
        ),
        faq_id=key,
        faq_confidence=float(selected.get("confidence") or 0.0),
        faq_runner_up=float(ranking[1].get("confidence") or 0.0) if len(ranking) > 1 else 0.0,
        matches=tuple(matches),
        **state,
    )


Tokenizer = Callable[[str], Sequence[Token] | None]
_tokenizer: list[Tokenizer] = []


def set_tokenizer(tokenizer: Tokenizer) -> None:
    """The NLU's view of a text as matcher tokens (GiNZA's normalized forms and readings),
    registered by the term extractor when the model loads (components/term_extractor.py)."""
    _tokenizer[:] = [tokenizer]


def tokens(text: str) -> Sequence[Token] | None:
    return _tokenizer[0](text) if _tokenizer else None


@dataclass(frozen=True)
class Parsed:
    """A question as the NLU saw it: the parse dict (its term entities are recomputed per
    content) and GiNZA's tokens (normalized forms and readings for the matcher)."""

    text: str
    latest: Mapping[str, Any]
    tokens: Sequence[Token] | None = None


@dataclass(frozen=True)
class Answer:
    kind: str
    text: str
    term: str | None = None
    terms: tuple[str, ...] = ()
    id: str | None = None

    def outcome(self) -> str:
        detail = self.term or "・".join(self.terms) or self.id or ""
        return f"{self.kind} {detail}".strip()

    def public(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "outcome": self.outcome(),
            "term": self.term,
            "terms": list(self.terms),
            "id": self.id,
        }


def answer(parsed: Parsed, content: Content) -> Answer:
    """What the bot answers `parsed` with `content` (first message of a new conversation)."""
    matches = [
        Match(m.term, m.start, m.end, m.text, "nlu")
        for m in content.matcher.find(parsed.text, parsed.tokens)
    ]
    decision = routing.decide(routing_input(parsed.latest, parsed.text, matches), content.knowledge)
    route = decision.route
    if route in (Route.DEFINITION, Route.UNKNOWN_TERM) and decision.subjects:
        texts, first = [], None
        for s in decision.subjects:
            term = content.glossary.get(s.term) if s.term else None
            reply = (
                replies.definition(term)
                if term
                else replies.unknown_term(s.query, content.matcher.suggest(s.query))
            )
            texts.append(reply.text)
            first = first or reply
        assert first is not None
        return Answer(first.payload["kind"], "\n\n".join(texts), term=first.payload.get("term"))
    if route == Route.COMPARISON:
        a, b = (content.glossary.get(s.term or "") for s in decision.subjects[:2])
        if a is not None and b is not None:
            r = replies.comparison(a, b)
            return Answer("comparison", r.text, terms=(a.term, b.term))
    if route == Route.FAQ and decision.faq_id in content.faqs:
        r = replies.faq(content.faqs[decision.faq_id or ""])
        return Answer("faq", r.text, id=decision.faq_id)
    if route == Route.SMALL_TALK and decision.small_talk in replies.SMALL_TALK_TEXT:
        kind = decision.small_talk or ""
        return Answer(kind, replies.small_talk(kind).text)
    if route == Route.OUT_OF_SCOPE:
        return Answer("out_of_scope", replies.out_of_scope().text)
    if route in LABELS:
        return Answer(route.value if route != Route.HANDOFF else "handoff", LABELS[route])
    if route == Route.FALLBACK or route == Route.FAQ:
        r = replies.empty_input() if decision.reason == "empty" else replies.fallback()
        return Answer("fallback", r.text)
    return Answer(route.value, f"({route.value})")


def judge(expect: Mapping[str, Any], got: Answer) -> bool:
    """As scripts/eval.py judges the first payload."""
    if got.kind != expect.get("kind"):
        return False
    if "term" in expect and got.term != expect["term"]:
        return False
    if "terms" in expect and list(got.terms) != list(expect["terms"]):
        return False
    return not ("id" in expect and got.id != expect["id"])


# -- test all ----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    text: str
    expect: Mapping[str, Any] | None  # None: a preview question (no expected answer)
    origin: str  # term:<headword> / faq:<id> / eval:<group> / preview


def content_cases(content: Content, terms: Collection[str] | None = None) -> list[Case]:
    """Every stored example question: each term by each name (only the headwords in
    `terms` when given), each FAQ's questions."""
    out = []
    for t in content.glossary:
        if terms is not None and t.term not in terms:
            continue
        for name in t.names:
            out.append(
                Case(f"{name}とは?", {"kind": "definition", "term": t.term}, f"term:{t.term}")
            )
    for f in content.faqs.values():
        for q in f.questions:
            out.append(Case(q, {"kind": "faq", "id": f.id}, f"faq:{f.id}"))
    return out


def affected_terms(old: Content, new: Content, new_cap: int = NEW_TERMS_CAP) -> set[str]:
    """The headwords whose 「<name>とは?」 answers a change can move: the terms changed,
    removed or added (added ones up to `new_cap`: their own questions can only be fixed,
    not broken), and every term a changed name overlaps (one name inside the other: the
    longest match could now be the other term)."""
    before = {t["term"]: t for t in old.terms}
    after = {t["term"]: t for t in new.terms}
    edited = {k for k in before.keys() & after.keys() if before[k] != after[k]}
    removed = before.keys() - after.keys()
    added = after.keys() - before.keys()
    changed = edited | removed | added
    names = [n for c in (old, new) for t in c.glossary if t.term in changed for n in t.names]
    touched: set[str] = set()
    for c in (old, new):  # existing names inside a changed name
        for n in names:
            touched.update(m.term for m in c.matcher.find(n))
    probe = TermMatcher(Glossary(terms=tuple(t for t in new.glossary if t.term in changed)))
    for c in (old, new):  # changed names inside existing names
        for t in c.glossary:
            if any(probe.find(n) for n in t.names):
                touched.add(t.term)
    return (edited | removed | set(sorted(added)[:new_cap]) | touched) - (
        added - set(sorted(added)[:new_cap])
    )


def eval_cases(path: Path = EVAL_CASES) -> list[Case]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {"cases": []}
    return [
        Case(c["text"], c["expect"], f"eval:{c.get('group', '')}") for c in raw.get("cases") or []
    ]


def all_cases(
    old: Content,
    new: Content,
    preview: Iterable[str] = (),
    evals: Sequence[Case] | None = None,
    full_limit: int = FULL_TERM_CASES,
) -> list[Case]:
    """Preview questions, the new content's examples, the old content's examples (a term
    removed shows as a regression), the eval cases; each text once (first wins). With a
    large glossary (more than `full_limit` term questions) only the terms a change can
    affect are asked (`affected_terms`); FAQ questions and the eval always."""
    names = sum(len(t.names) for t in old.glossary) + sum(len(t.names) for t in new.glossary)
    terms = None if names <= full_limit else affected_terms(old, new)
    seen: dict[str, Case] = {}
    cases = [Case(q, None, "preview") for q in preview if q.strip()]
    cases += (
        content_cases(new, terms)
        + content_cases(old, terms)
        + list(eval_cases() if evals is None else evals)
    )
    for c in cases:
        seen.setdefault(c.text, c)
    return list(seen.values())


@dataclass
class TestAll:
    total: int = 0
    seconds: float = 0.0
    regressions: list[dict[str, Any]] = field(default_factory=list)
    fixed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)

    def public(self, limit: int = 200) -> dict[str, Any]:
        return {
            "total": self.total,
            "seconds": round(self.seconds, 3),
            "regressions": self.regressions[:limit],
            "fixed": self.fixed[:limit],
            "changed": self.changed[:limit],
            "counts": {
                "regressions": len(self.regressions),
                "fixed": len(self.fixed),
                "changed": len(self.changed),
            },
            "preview": self.preview,
        }


def test_all(
    cases: Sequence[Case], parse: Callable[[str], Parsed], old: Content, new: Content
) -> TestAll:
    started = time.perf_counter()
    report = TestAll(total=len(cases))
    for case in cases:
        parsed = parse(case.text)
        before, after = answer(parsed, old), answer(parsed, new)
        row = {
            "text": case.text,
            "origin": case.origin,
            "expect": dict(case.expect or {}) or None,
            "old": before.public(),
            "new": after.public(),
        }
        if case.expect is None:
            report.preview.append(row)
            continue
        was, now = judge(case.expect, before), judge(case.expect, after)
        learned = case.expect.get("kind") == "unknown_term" and after.kind in (
            "definition",
            "comparison",
        )
        if was and not now and learned:
            # A word the glossary lacked (expected 「用語集にありません」) is now a term: the
            # point of adding it, shown as a change, not a regression.
            report.changed.append(row)
        elif was and not now:
            report.regressions.append(row)
        elif now and not was:
            report.fixed.append(row)
        elif before.text != after.text or before.outcome() != after.outcome():
            report.changed.append(row)
    report.seconds = time.perf_counter() - started
    return report
