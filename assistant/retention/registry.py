"""What the assistant stores, where, and what retention applies: the one list that
`make purge`, `make forget` and docs/retention.md follow.

Every table of the tracker store and the handoff database is named here (a unit test
fails when a table exists that the registry does not know, so a new table cannot be
added without deciding its retention). ``personal`` says whether a row can hold a
customer's or an agent's personal data; ``retention`` names the setting
(settings.py) whose age limit applies, ``on_purge`` what purge does with older rows,
and ``forget_by`` how a deletion request finds one customer's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

TRACKER = "tracker"  # Rasa's tracker store (endpoints.yml: var/tracker.db or PostgreSQL)
HANDOFF = "handoff"  # HANDOFF_DB_URL (var/handoff.db or PostgreSQL)
FILES = "files"  # not a database: logs and backups on disk


@dataclass(frozen=True)
class StoredData:
    store: str
    table: str
    holds: str
    personal: bool
    retention: str | None  # a settings.RetentionSettings field, None = kept (see note)
    on_purge: str  # "delete" | "anonymise" | "expire" | "keep"
    forget_by: str  # how `forget` finds one customer's rows ("" = holds no customer data)
    note: str = ""


REGISTRY: tuple[StoredData, ...] = (
    StoredData(
        TRACKER,
        "events",
        "every conversation event: the customer's messages, the bot's replies, slots "
        "(contact details, handoff state), agent messages appended to the tracker",
        True,
        "conversations_days",
        "delete",
        "sender_id",
        "events older than the limit are deleted (sessions expire after 60 minutes, so "
        "an old event never belongs to a conversation in progress)",
    ),
    StoredData(
        TRACKER,
        "message_receipts",
        "exactly-once receipts: client message id, sender, the reply that was sent",
        True,
        None,
        "expire",
        "sender_id",
        "deleted when expired (MESSAGE_ID_TTL_HOURS)",
    ),
    StoredData(
        HANDOFF,
        "handoff_tickets",
        "escalation tickets: sender id, last question, transcript, contact (email/phone), "
        "owner agent",
        True,
        "tickets_days",
        "anonymise",
        "sender_id",
        "closed tickets older than the limit keep only id, day, channel, reason, status, "
        "times and owner (statistics); sender, question, term, candidates, transcript and "
        "contact are blanked. Open tickets are kept until closed.",
    ),
    StoredData(
        HANDOFF,
        "handoff_ticket_messages",
        "follow-up messages of a ticket (customer, agent, system)",
        True,
        "tickets_days",
        "delete",
        "ticket_id of the customer's tickets",
        "deleted with their ticket's anonymisation",
    ),
    StoredData(
        HANDOFF,
        "handoff_ticket_counters",
        "per-day ticket sequence numbers",
        False,
        None,
        "keep",
        "",
    ),
    StoredData(
        HANDOFF,
        "handoff_agents",
        "staff accounts: username, display name, Argon2id hash",
        True,
        None,
        "keep",
        "",
        'staff data, kept while the account exists (`make agents ARGS="disable …"`)',
    ),
    StoredData(
        HANDOFF,
        "handoff_agent_sessions",
        "console log-in sessions (SHA-256 of the token)",
        True,
        None,
        "expire",
        "",
        "expired sessions are deleted",
    ),
    StoredData(
        HANDOFF,
        "handoff_audit",
        "log-ins, failures, claims (agent username, client address), deletion requests "
        "(counts only), new tickets for the ticket cap (the customer's sender id as actor, "
        "a keyed hash of their address)",
        True,
        "audit_days",
        "delete",
        "ticket_id of the customer's tickets (unlinked, the entry stays); new-ticket "
        "entries by actor (deleted)",
        "forget entries are kept: they prove the deletion and hold no personal data; "
        "new-ticket entries are deleted after a day (the cap counts minutes)",
    ),
    StoredData(
        HANDOFF,
        "training_trainees",
        "training mode per sender: trainee name, pending question",
        True,
        "training_days",
        "delete",
        "sender",
    ),
    StoredData(
        HANDOFF,
        "training_sessions",
        "quiz sessions per trainee",
        True,
        "training_days",
        "delete",
        "trainee names of the sender",
    ),
    StoredData(
        HANDOFF,
        "training_answers",
        "every quiz answer as typed",
        True,
        "training_days",
        "delete",
        "trainee names of the sender",
    ),
    StoredData(
        HANDOFF,
        "training_mastery",
        "Leitner box per trainee and term",
        True,
        "training_days",
        "delete",
        "trainee names of the sender",
    ),
    StoredData(
        HANDOFF,
        "training_glossary_gaps",
        "words trainees asked about that the glossary lacks",
        True,
        "training_days",
        "delete",
        "trainee names of the sender",
    ),
    StoredData(
        HANDOFF,
        "analytics_outcomes",
        "one row per bot turn, feedback, handoff and CSAT: conversation (sender) id, the "
        "question as typed and normalised, decision, term, ticket id, agent username",
        True,
        "outcomes_days",
        "delete",
        "conversation (= sender id) or ticket_id of the customer's tickets",
        "rows older than the limit are deleted; the day roll-ups keep the counts",
    ),
    StoredData(
        HANDOFF,
        "analytics_csat_once",
        "which conversations were asked / answered the CSAT question (conversation id, time; "
        "no score): once per conversation across servers",
        True,
        "outcomes_days",
        "delete",
        "conversation (= sender id)",
        "deleted with the outcome rows of the same age",
    ),
    StoredData(
        HANDOFF,
        "analytics_rollup",
        "per day and channel: counts by dimension (decisions, hours, terms, agents, …); "
        "the dimension `misses` is keyed by a normalised customer question, with an example "
        "question and its conversation id",
        True,
        "outcomes_days",
        "anonymise",
        "the days of the customer's outcome rows (rebuilt without them); misses whose "
        "example is the customer's",
        "older than the limit: `misses` rows (customer text) are deleted, examples blanked; "
        "the counts stay for KPI comparisons",
    ),
    StoredData(
        HANDOFF,
        "analytics_rollup_days",
        "which days are rolled up, when, and whether final",
        False,
        None,
        "keep",
        "",
        "a forget marks the customer's days for a rebuild",
    ),
    StoredData(
        HANDOFF,
        "analytics_rollup_users",
        "per day and channel: 64-bit hashes of conversation ids (distinct users over a period)",
        True,
        "outcomes_days",
        "delete",
        "the hash of the sender id",
        "older than the limit deleted: distinct users of older periods are no longer counted",
    ),
    StoredData(
        HANDOFF,
        "analytics_rollup_trainees",
        "per day and channel: 64-bit hashes of trainees' conversation ids",
        True,
        "outcomes_days",
        "delete",
        "the hash of the sender id",
        "as analytics_rollup_users",
    ),
    StoredData(
        HANDOFF,
        "content_items",
        "glossary terms and FAQ edited in the content studio (editor usernames)",
        True,
        None,
        "keep",
        "",
        "the content itself: kept (docs/content-studio.md); editor usernames are staff data, "
        "no customer data",
    ),
    StoredData(
        HANDOFF,
        "content_revisions",
        "every content change: who (editor username), when, before and after",
        True,
        None,
        "keep",
        "",
        "the history that makes every edit undoable: kept; editor usernames are staff data, "
        "no customer data",
    ),
    StoredData(
        HANDOFF,
        "content_state",
        "the content revision counter (the servers' change marker)",
        False,
        None,
        "keep",
        "",
    ),
    StoredData(
        HANDOFF,
        "line_users",
        "LINE user ids with followed / unfollowed",
        True,
        "conversations_days",
        "delete",
        "the user id of a `line:<userId>` sender",
        "rows not updated within the limit are deleted unless the user has an open ticket "
        "(an unknown user counts as followed, as before the row existed)",
    ),
    StoredData(
        HANDOFF,
        "line_webhook_events",
        "ids of LINE webhook events taken (de-duplication of redeliveries), no content",
        False,
        None,
        "expire",
        "",
        "deleted after 7 days (LINE redelivers for a limited time only)",
    ),
    StoredData(
        HANDOFF,
        "line_sends",
        "LINE replies and pushes per day (counts: pushes cost money)",
        False,
        None,
        "keep",
        "",
    ),
    StoredData(
        FILES,
        "var/*.log",
        "server logs (errors can quote a message)",
        True,
        None,
        "keep",
        "",
        "rotate with the host's log rotation; not touched by purge",
    ),
    StoredData(
        FILES,
        "backups (make backup)",
        "copies of both SQLite databases",
        True,
        None,
        "keep",
        "",
        "a forgotten customer stays in older backups until they are rotated: keep backups "
        "no longer than the shortest retention (docs/backups.md)",
    ),
    StoredData(
        HANDOFF,
        "content_inbox",
        "the unanswered inbox's decisions: an item's key form and label (a customer's "
        "question as stored, masked, grouped over many conversations, no sender id), the "
        "editor who resolved or dismissed it, the reason",
        True,
        "outcomes_days",
        "delete",
        "the key forms of the customer's missed questions in the outcome log (unless another "
        "conversation still has the same question)",
        "decisions older than the outcome log's limit are deleted: the misses they were about "
        "are gone from the log (docs/inbox.md)",
    ),
)


def tables(store: str) -> set[str]:
    return {entry.table for entry in REGISTRY if entry.store == store}


def entry(store: str, table: str) -> StoredData:
    for candidate in REGISTRY:
        if candidate.store == store and candidate.table == table:
            return candidate
    raise KeyError(f"{store}.{table} is not in the retention registry")
