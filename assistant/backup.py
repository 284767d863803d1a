"""Backups of the SQLite databases (docs/backups.md).

    python -m assistant.backup backup [--dir var/backups]        -> var/backups/<UTC time>/
    python -m assistant.backup restore BACKUP_DIR [--to DIR] [--force]

Copies are made with SQLite's online backup API (`sqlite3.Connection.backup`): a
consistent snapshot while the servers keep reading and writing (WAL included), never a
half-written file as `cp` can give. Each backup has a manifest (file names, sizes,
SHA-256, `PRAGMA integrity_check`). Restore checks the manifest, then writes each
database with the backup API again (into a fresh directory with --to, or over the
configured files with --force: stop the servers first). PostgreSQL databases are not
copied here: use pg_dump (docs/backups.md).

Databases: HANDOFF_DB_URL and the tracker store (TRACKER_DB_URL or --endpoints, as
assistant.retention.cli). Exit codes: 0 done, 2 usage (nothing changed), 3 error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import make_url

from .handoff.settings import HandoffSettings
from .retention.locations import REPO_ROOT, LocationError, tracker_url

EXIT_OK, EXIT_USAGE, EXIT_ERROR = 0, 2, 3
MANIFEST = "manifest.json"
# name in the backup -> which database
DATABASES = ("tracker.db", "handoff.db")


class BackupError(RuntimeError):
    """A backup that cannot be made or restored (the message says why); nothing changed."""


class RestoreFailed(RuntimeError):
    """A restore that failed after it started writing."""


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for any other database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def configured(endpoints: str | None = None) -> dict[str, str]:
    """name in the backup -> SQLAlchemy URL of the live database."""
    return {
        "tracker.db": tracker_url(endpoints),
        "handoff.db": HandoffSettings.from_env().db_url,
    }


def copy_sqlite(source: Path, target: Path) -> None:
    """Online backup of ``source`` into ``target`` (a consistent snapshot)."""
    src = sqlite3.connect(source, timeout=30)  # only read (ro mode can miss a WAL's -shm)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=1024)  # in steps: a writer waits at most one step
        finally:
            dst.close()
    finally:
        src.close()


def integrity(path: Path) -> str:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup(urls: dict[str, str], root: Path, now: datetime | None = None) -> tuple[Path, list[str]]:
    """A new directory under ``root`` with a copy of every SQLite database in ``urls``;
    also the list of databases skipped (not SQLite: pg_dump)."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S%fZ")
    folder = root / stamp
    folder.mkdir(parents=True, exist_ok=False)
    files, skipped = {}, []
    for name, url in urls.items():
        path = sqlite_path(url)
        if path is None:
            skipped.append(f"{name}: {make_url(url).get_backend_name()} (use pg_dump)")
            continue
        if not path.exists():
            skipped.append(f"{name}: {path} does not exist yet")
            continue
        target = folder / name
        copy_sqlite(path, target)
        check = integrity(target)
        if check != "ok":
            raise BackupError(f"{name}: integrity check of the copy failed: {check}")
        files[name] = {
            "source": str(path),
            "bytes": target.stat().st_size,
            "sha256": sha256(target),
            "integrity": check,
        }
    if not files:
        folder.rmdir()
        raise BackupError("no SQLite database to back up: " + "; ".join(skipped))
    manifest = {"created": stamp, "files": files, "skipped": skipped}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return folder, skipped


def verify(folder: Path) -> dict:
    """The manifest of a backup whose files match it; BackupError otherwise."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{folder} is not a backup (no readable {MANIFEST}): {exc}") from exc
    for name, info in files.items():
        if name not in DATABASES:
            raise BackupError(f"{MANIFEST} names an unknown file {name!r}")
        path = folder / name
        if not path.is_file() or sha256(path) != info.get("sha256"):
            raise BackupError(f"{name}: missing or changed since the backup (SHA-256)")
    return dict(manifest)


def restore(folder: Path, targets: dict[str, Path], force: bool = False) -> list[str]:
    """Write the backup's databases to ``targets`` (name -> file). Without ``force`` an
    existing target is refused and nothing is written."""
    manifest = verify(folder)
    plan = {name: targets[name] for name in manifest["files"] if name in targets}
    if not plan:
        raise BackupError("nothing to restore to (no SQLite target configured)")
    existing = [str(p) for p in plan.values() if p.exists() and p.stat().st_size > 0]
    if existing and not force:
        raise BackupError(
            "would overwrite " + ", ".join(existing) + " (stop the servers, "
            "then --force; or restore --to a fresh directory)"
        )
    for name, target in plan.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_sqlite(folder / name, target)
        if integrity(target) != "ok":
            raise RestoreFailed(f"{target}: integrity check failed after restore")
    return [f"{name} -> {target}" for name, target in plan.items()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="backup", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--endpoints", help="endpoints file with the tracker store")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("backup", help="copy the SQLite databases (safe while serving)")
    b.add_argument("--dir", default=str(REPO_ROOT / "var" / "backups"))
    r = sub.add_parser("restore", help="restore a backup directory")
    r.add_argument("backup_dir")
    r.add_argument("--to", help="a directory: write tracker.db and handoff.db there")
    r.add_argument("--force", action="store_true", help="overwrite the configured databases")
    args = parser.parse_args(argv)
    try:
        if args.command == "backup":
            folder, skipped = backup(configured(args.endpoints), Path(args.dir))
            print(f"backup: {folder}")
            for line in skipped:
                print(f"skipped {line}")
            return EXIT_OK
        folder = Path(args.backup_dir)
        if args.to:
            targets = {name: Path(args.to) / name for name in DATABASES}
        else:
            targets = {}
            for name, url in configured(args.endpoints).items():
                path = sqlite_path(url)
                if path is not None:
                    targets[name] = path
        for line in restore(folder, targets, force=args.force):
            print(f"restored {line}")
        return EXIT_OK
    except (BackupError, LocationError, ValueError) as exc:
        print(f"error: {exc}; nothing changed", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, sqlite3.Error, RestoreFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
