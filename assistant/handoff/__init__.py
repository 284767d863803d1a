"""Handoff to human operators, ticket side: escalation tickets, business hours, contact
parsing and webhook notification. Knows nothing of Rasa; actions call it. The live
console (agents, console sessions, takeover) is assistant/livechat/.

Nothing is imported here, so importing one module (``assistant.handoff.replies``) does not
pull in the database or HTTP libraries. Typical use from a bot action::

    from assistant.handoff.settings import notifier_from_env, store_from_env

    store = store_from_env()
    notifier = notifier_from_env(store); notifier.start()
    ticket = store.create(sender_id, channel, "explicit", question, term,
                          candidates, transcript, notify=notifier.enabled)
    notifier.notify_async(ticket.id)   # returns at once
"""
