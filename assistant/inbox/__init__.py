"""The unanswered inbox (未回答, issue 15 item 8, docs/inbox.md).

items.py — grouping the outcome log's misses by the matcher's key form and each item's
status (pure, table-tested); store.py — the SQL that reads the outcome log and the
table `content_inbox` that keeps what a person decided (resolved / dismissed).
The console's API lives in channels/inbox.py, the page in web/agent/inbox.*.
"""
