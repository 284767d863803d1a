"""Retention and deletion (docs/retention.md).

    python -m assistant.retention.cli registry          what is stored where, how long
    python -m assistant.retention.cli purge             delete/anonymise what is too old
    python -m assistant.retention.cli forget TARGET [--dry-run]
                                                        a sender id or ESC-YYYYMMDD-NNNN

Databases: HANDOFF_DB_URL (as the servers), the tracker store from TRACKER_DB_URL or
the endpoints file (--endpoints, default endpoints.yml). Safe while the servers run.
Exit codes: 0 done, 1 nothing found (nothing changed), 2 malformed argument or
setting (nothing changed), 3 other error (e.g. database unreachable).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..handoff.db import create_schema, make_engine
from ..handoff.settings import HandoffSettings
from ..training.store import TrainingStore
from .locations import LocationError, tracker_url
from .purge import InvalidTarget, NothingFound, forget, purge
from .registry import REGISTRY
from .settings import RetentionSettings

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE, EXIT_ERROR = 0, 1, 2, 3


def _tracker_engine(url: str) -> Engine:
    from sqlalchemy import create_engine

    if url.startswith("sqlite"):
        # wait for a serving Rasa's write instead of failing with "database is locked"
        return create_engine(url, future=True, connect_args={"timeout": 30})
    return create_engine(url, future=True, pool_pre_ping=True)


def _engines(args: argparse.Namespace) -> tuple[Engine, Engine]:
    handoff = make_engine(HandoffSettings.from_env().db_url)
    create_schema(handoff)
    TrainingStore(handoff)  # its tables, as the action server creates them
    return _tracker_engine(tracker_url(args.endpoints)), handoff


def cmd_registry(_args: argparse.Namespace) -> int:
    settings = RetentionSettings.from_env()
    for e in REGISTRY:
        days = getattr(settings, e.retention) if e.retention else None
        keep = f"{days} days" if days else ("forever" if e.retention else "-")
        print(f"{e.store:8} {e.table:26} {e.on_purge:9} {keep:>10}  {e.holds}")
    return EXIT_OK


def cmd_purge(args: argparse.Namespace) -> int:
    settings = RetentionSettings.from_env()
    tracker, handoff = _engines(args)
    counts = purge(tracker, handoff, settings)
    print(f"purged: {counts.summary()}")
    return EXIT_OK


def cmd_forget(args: argparse.Namespace) -> int:
    tracker, handoff = _engines(args)
    result = forget(
        tracker, handoff, args.target, actor=f"cli:{getpass.getuser()}", dry_run=args.dry_run
    )
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb} ({result.kind}): {result.counts.summary()}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="retention", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--endpoints", help="endpoints file with the tracker store")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("registry", help="what is stored where, and how long")
    sub.add_parser("purge", help="delete or anonymise data older than its retention")
    f = sub.add_parser("forget", help="delete everything of one customer")
    f.add_argument("target", help="sender id or ticket number ESC-YYYYMMDD-NNNN")
    f.add_argument("--dry-run", action="store_true", help="count, change nothing")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"registry": cmd_registry, "purge": cmd_purge, "forget": cmd_forget}
    try:
        if args.command == "forget":
            from .purge import parse_target

            parse_target(args.target)  # malformed: say why before touching any database
        return handlers[args.command](args)
    except InvalidTarget as exc:
        print(f"error: {exc}; nothing changed", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, LocationError) as exc:
        print(f"error: {exc}; nothing changed", file=sys.stderr)
        return EXIT_USAGE
    except NothingFound as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_NOT_FOUND
    except SQLAlchemyError as exc:
        print(f"error: database: {exc.__class__.__name__}: {exc}"[:500], file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
