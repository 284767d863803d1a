"""What the bot says in training mode (payload kinds in assistant/contract.py)."""

from __future__ import annotations

from ..contract import payload
from ..replies import Reply
from .quiz import Question

NUMBERS = "①②③④"
STOP_BUTTON = {"title": "研修モードを終わる", "payload": "研修モードを終わる"}


def started(category: str | None, total: int) -> Reply:
    scope = f"「{category}」の" if category else ""
    text = (
        f"研修モードを始めます。{scope}用語クイズを{total}問出します。"
        "ボタンか、答えの入力(番号・用語名)で答えてください。"
        "「〇〇とは?」で用語の意味も調べられます。「終了」で研修モードを終わります。"
    )
    return Reply(text, payload("training_mode", text, active=True, category=category, total=total))


def stopped(score: int | None, total: int | None) -> Reply:
    text = (
        "研修モードを終わりました。おつかれさまでした。続きはいつでも「研修モード」で再開できます。"
    )
    return Reply(
        text, payload("training_mode", text, active=False, category=None, total=total or 0)
    )


def question(q: Question, number: int, total: int, qid: str, category: str | None) -> Reply:
    lines = [f"【第{number}問 / {total}問】", q.prompt]
    lines += [f"{i + 1}. {o}" for i, o in enumerate(q.options)]
    text = "\n".join(lines)
    buttons = [
        {"title": o if len(o) <= 40 else o[:40] + "…", "payload": str(i + 1)}
        for i, o in enumerate(q.options)
    ]
    return Reply(
        text,
        payload(
            "quiz_question",
            text,
            id=qid,
            qtype=q.kind,
            prompt=q.prompt,
            options=list(q.options),
            number=number,
            total=total,
            category=category,
        ),
        buttons,
    )


def feedback(q: Question, chosen: int | None, number: int, total: int, score: int) -> Reply:
    correct = chosen == q.answer
    head = (
        "○ 正解です!" if correct else f"× 不正解です。正解は {q.answer + 1}. {q.options[q.answer]}"
    )
    text = f"{head}\n【{q.term}】{q.definition}\n(出典: {q.source})"
    return Reply(
        text,
        payload(
            "quiz_feedback",
            text,
            correct=correct,
            chosen=chosen,
            answer=q.answer,
            term=q.term,
            definition=q.definition,
            source=q.source,
            number=number,
            total=total,
            score=score,
        ),
    )


def withdrawn(q: Question, total: int, category: str | None) -> Reply:
    """The pending question's term was disabled in the content studio meanwhile."""
    text = f"「{q.term}」は用語集から外れたため、この問題は採点しません。次の問題に進みます。"
    return Reply(text, payload("training_mode", text, active=True, category=category, total=total))


def summary(score: int, total: int, weak: list[str]) -> Reply:
    if total:
        text = f"おつかれさまでした。{total}問中{score}問正解です。"
    else:  # its only question was withdrawn (the term left the glossary) before an answer
        text = "おつかれさまでした。採点できる問題はありませんでした。"
    if weak:
        text += "\n苦手な用語: " + "、".join(weak)
    text += "\nもう一度は「クイズを出して」、終わるときは「終了」。"
    return Reply(
        text,
        payload("quiz_summary", text, score=score, total=total, weak_terms=weak),
        [{"title": "もう一度", "payload": "クイズを出して"}, STOP_BUTTON],
    )


def category_list(cats: dict[str, list[str]]) -> Reply:
    lines = ["カテゴリ一覧(「〇〇のクイズ」でそのカテゴリだけ出題します):"]
    lines += [f"・{c}: " + "、".join(ts) for c, ts in cats.items()]
    text = "\n".join(lines)
    return Reply(
        text,
        payload(
            "category_list", text, categories=[{"name": c, "terms": ts} for c, ts in cats.items()]
        ),
        [{"title": f"{c}のクイズ", "payload": f"{c}のクイズ"} for c in cats],
    )


def weak_terms(terms: list[tuple[str, int, int]]) -> Reply:
    if terms:
        text = "苦手な用語(まちがえた回数):\n" + "\n".join(f"・{t}({w}回)" for t, w, _ in terms)
    else:
        text = "苦手な用語はまだありません。"
    return Reply(
        text,
        payload("weak_terms", text, terms=[{"term": t, "wrong": w, "box": b} for t, w, b in terms]),
    )


def trainee_name(name: str, sessions: int) -> Reply:
    text = f"{name}さんとして記録します。"
    if sessions:
        text += f"これまでの{sessions}回の記録を引き継ぎます。"
    return Reply(text, payload("training_mode", text, active=True, total=0, trainee=name))


def no_question() -> Reply:
    text = "いま答える問題はありません。「クイズを出して」で出題します。"
    return Reply(text, payload("fallback", text))
