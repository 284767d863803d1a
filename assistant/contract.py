"""The response contract: every payload kind the bot sends and its fields (README
"Response contract"). Replies are built through `payload`, which refuses a kind or a
field the contract does not list; tests check every payload with `problems`."""

from __future__ import annotations

from typing import Any

# kind → (required fields, optional fields); every payload also has `kind` and `text`.
KINDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {}


def _kind(name: str, required: str = "", optional: str = "") -> None:
    KINDS[name] = (frozenset(required.split()), frozenset(optional.split()))


_kind("definition", "term reading definitions aliases related category source sources")
_kind("comparison", "terms items")
_kind("unknown_term", "query suggestions")
_kind("faq", "id title url as_of source")
_kind("handoff", "ticket within_hours agents_available queue_position")
_kind("agent_joined", "ticket agent", "id")
_kind("agent_left", "ticket agent reason", "id")
_kind("agent_message", "ticket agent", "id time")
_kind("command_refused", "ticket", "command")
_kind("rate_limited", "retry_after")
_kind("offer_human", "reason")
for _name in ("ask_contact", "contact_invalid", "contact_saved", "contact_declined"):
    _kind(_name, "", "ticket contact")
for _name in ("handoff_message", "handoff_closed", "back_to_bot"):
    _kind(_name, "ticket")
_kind("fallback", "", "reason candidates")
# training mode (README "Training mode")
_kind("training_mode", "active total", "category trainee")
_kind("quiz_question", "id qtype prompt options number total", "category")
_kind("quiz_feedback", "correct chosen answer term definition source number total score")
_kind("quiz_summary", "score total weak_terms")
_kind("category_list", "categories")
_kind("weak_terms", "terms")
_kind("reset")
_kind("service_unavailable", "", "ticket")
# shown to the agent only: a push to the customer (LINE) failed (channels/live.py)
_kind("delivery_failed", "reason")
_kind("privacy_notice", "masked kinds")  # card numbers etc. were masked (docs/privacy.md)
for _name in (
    "out_of_scope",
    "greet",
    "thanks",
    "goodbye",
    "feedback_thanks",
    "offer_declined",
    "ack",
):
    _kind(_name)

COMPARISON_ITEM_FIELDS = frozenset({"term", "reading", "definitions"})


def problems(payload: dict[str, Any]) -> list[str]:
    """What is wrong with a payload (empty: it follows the contract)."""
    kind = payload.get("kind")
    if kind not in KINDS:
        return [f"unknown kind {kind!r}"]
    required, optional = KINDS[kind]
    found = set(payload) - {"kind", "text"}
    out = []
    if not isinstance(payload.get("text"), str):
        out.append(f"{kind}: text missing")
    out += [f"{kind}: missing {f}" for f in sorted(required - found)]
    out += [f"{kind}: unexpected {f}" for f in sorted(found - required - optional)]
    if kind == "comparison":
        for item in payload.get("items") or []:
            if set(item) != COMPARISON_ITEM_FIELDS:
                out.append(f"comparison: item fields {sorted(item)}")
    return out


def payload(kind: str, text: str, **fields: Any) -> dict[str, Any]:
    """A payload of this kind; raises ValueError when it breaks the contract."""
    built = {"kind": kind, "text": text, **fields}
    wrong = problems(built)
    if wrong:
        raise ValueError("; ".join(wrong))
    return built
