"""Live chat, the console side of a handoff: agent accounts (agents.py, agents_cli.py),
console log-in sessions and the audit log (console_auth.py), the rules of a conversation an
agent owns (takeover.py) and what the console shows (console_view.py). No Rasa; the
channels (channels/live.py, channels/agent_console.py) carry it out. The tickets it works
on are the ticket side's (assistant/handoff/)."""
