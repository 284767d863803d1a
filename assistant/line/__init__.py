"""LINE Messaging API: the pure parts (no Rasa, no I/O except store.py).

* `signature`: X-Line-Signature (base64 HMAC-SHA256 of the raw body).
* `events`: a webhook body → the events we act on.
* `render`: the bot's replies (response contract) → LINE message objects within
  LINE's limits, and how they are split between the free reply and paid pushes.
* `store`: which webhook events were already taken (across servers), who
  unfollowed, how many replies and pushes were sent.

The channel that carries these out is channels/line.py (docs/line.md).
"""
