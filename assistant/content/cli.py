"""The content studio from the command line.

    python -m assistant.content.cli export [--glossary PATH] [--faq PATH]
        write the content database back to data/glossary.yml and data/faq.yml (the
        enabled terms and FAQ, in the files' own layout, comments kept), so a developer
        can commit the staff's changes and `make generate` / `make train` learn them
    python -m assistant.content.cli status
        the revision, counts and the latest changes

Same HANDOFF_DB_URL as the bot (`make content-export`). The database is seeded from
the files on first start if it is empty.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from ..faq import FAQ_PATH
from ..glossary import glossary_path
from ..handoff.cli import safe
from ..handoff.settings import store_from_env
from .service import ContentService


class _Block(str):
    """A string written as a YAML literal block (FAQ answers)."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


_Dumper.add_representer(
    _Block, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", str(s), style="|")
)


def _header(path: Path) -> str:
    """The comment block before ``version:`` of the existing file."""
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8")
    at = text.find("version:")
    return text[:at] if at > 0 else ""


def glossary_yaml(terms: Sequence[dict[str, Any]], header: str = "") -> str:
    body: str = yaml.safe_dump(
        {"version": 1, "terms": list(terms)}, allow_unicode=True, sort_keys=False, width=10000
    )
    return header + body


def faq_yaml(faqs: Sequence[dict[str, Any]], header: str = "") -> str:
    entries = [{**f, "answer": _Block(f["answer"])} for f in faqs]
    body: str = yaml.dump(
        {"version": 1, "faqs": entries},
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=10000,
    )
    # One blank line between FAQ entries, as the hand-written file has.
    body = body.replace("\n  - id: ", "\n\n  - id: ").replace("faqs:\n\n", "faqs:\n")
    return header + body


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make content-export", description="コンテンツ(用語・FAQ)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", help="データベースの内容を data/*.yml に書き出す")
    export.add_argument("--glossary", type=Path, default=None)
    export.add_argument("--faq", type=Path, default=None)
    sub.add_parser("status", help="版と件数、最近の変更")
    args = parser.parse_args(argv)

    store = store_from_env()
    try:
        service = ContentService(store.engine)
        service.ensure_seeded()
        snap = service.snapshot()
        terms = [i.data for i in snap.enabled("term")]
        faqs = [i.data for i in snap.enabled("faq")]
        if args.command == "export":
            gpath = args.glossary or glossary_path()
            fpath = args.faq or FAQ_PATH
            gpath.write_text(glossary_yaml(terms, _header(gpath)), encoding="utf-8")
            fpath.write_text(faq_yaml(faqs, _header(fpath)), encoding="utf-8")
            print(
                f"版 {snap.revision}: 用語 {len(terms)} 件 → {gpath}、FAQ {len(faqs)} 件 → {fpath}"
            )
        else:
            print(f"版 {snap.revision}: 用語 {len(terms)} 件、FAQ {len(faqs)} 件")
            for r in service.store.recent(20):
                print(
                    "\t".join(
                        safe(str(x))
                        for x in (r["id"], r["at"], r["actor"], r["action"], r["kind"], r["key"])
                    )
                )
    finally:
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
