"""Custom actions (rasa-sdk). Thin: each calls the domain modules in `assistant/`."""
