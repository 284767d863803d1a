"""The content studio: glossary terms and FAQ edited by staff, stored with revisions in
the handoff database, answered live by every server (docs/content-studio.md)."""
