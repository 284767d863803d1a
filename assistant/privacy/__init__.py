"""Personal data in customer text, found and masked before anything stores it
(docs/privacy.md). Pure: no Rasa, no I/O; channels/privacy.py applies it."""

from .masking import Finding, Masked, PrivacySettings, luhn_ok, mask, mynumber_ok

__all__ = ["Finding", "Masked", "PrivacySettings", "luhn_ok", "mask", "mynumber_ok"]
