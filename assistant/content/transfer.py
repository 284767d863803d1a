"""CSV / XLSX import and export of the content, one row per term or FAQ.

Columns (the first row; English keys, or the Japanese labels in brackets):

* terms: ``term`` (見出し語), ``reading`` (読み), ``aliases`` (別名, separated by ``|``),
  ``category`` (カテゴリ), ``related`` (関連用語, ``|``), ``definition_1`` (定義1),
  ``source_1`` (出典1), ``note_1`` (メモ1), ``definition_2`` … (as many as needed)
* FAQ: ``id`` (ID), ``title`` (タイトル), ``answer`` (回答), ``source`` (出典),
  ``url`` (URL), ``as_of`` (時点), ``questions`` (質問例, one per line or ``|``)

CSV may be UTF-8 (with or without BOM) or CP932 (Shift_JIS, as Japanese Excel saves
it); export writes UTF-8 with a BOM. An import is matched to the content by headword /
FAQ id and never deletes: `plan` returns the dry-run diff (added / changed / unchanged /
errors with row numbers) and the changes, which are applied all or nothing. Cells that
start with ``=``, ``+``, ``-``, ``@``, tab or CR are exported with a leading ``'``
(CSV/formula injection) and that ``'`` is taken off again on import; a formula in an
XLSX cell is an error.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .model import Record, clean
from .store import Change, Snapshot

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_CELL = 10_000
FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

TERM_COLUMNS = ["term", "reading", "aliases", "category", "related"]
FAQ_COLUMNS = ["id", "title", "answer", "source", "url", "as_of", "questions"]
LABELS = {
    "見出し語": "term",
    "読み": "reading",
    "別名": "aliases",
    "カテゴリ": "category",
    "関連用語": "related",
    "ID": "id",
    "タイトル": "title",
    "回答": "answer",
    "出典": "source",
    "URL": "url",
    "時点": "as_of",
    "質問例": "questions",
}
_NUMBERED = re.compile(r"^(definition|source|note|定義|出典|メモ)_?(\d{1,2})$")
_NUMBERED_KEYS = {"定義": "definition", "出典": "source", "メモ": "note"}
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


class FileError(ValueError):
    """The file as a whole cannot be read (message for the editor)."""


@dataclass
class Plan:
    kind: str
    rows: int = 0
    added: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    change_rows: list[int] = field(default_factory=list)  # the row number of each change

    def public(self, limit: int = 500) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "added": self.added[:limit],
            "changed": self.changed[:limit],
            "unchanged": self.unchanged,
            "errors": self.errors[:limit],
            "counts": {
                "added": len(self.added),
                "changed": len(self.changed),
                "unchanged": self.unchanged,
                "errors": len(self.errors),
            },
        }


# -- reading ---------------------------------------------------------------------------


def decode(data: bytes) -> str:
    if b"\x00" in data[:65536]:
        raise FileError("テキストのCSVファイルではありません(バイナリのデータが含まれています)")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    for encoding in ("utf-8", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileError("文字コードを判別できません。UTF-8 か Shift_JIS(CP932)で保存してください")


def read_csv(data: bytes) -> list[list[str]]:
    try:
        text = decode(data)
    except UnicodeDecodeError:
        raise FileError("UTF-8 として読めない文字があります(BOM付きUTF-8のファイル)") from None
    try:
        rows = list(_limited(csv.reader(io.StringIO(text, newline=""))))
    except csv.Error as exc:
        raise FileError(f"CSVとして読めません: {exc}") from None
    return rows


def read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise FileError(f"XLSXファイルとして読めません({type(exc).__name__})") from None
    except Exception as exc:  # noqa: BLE001 (openpyxl raises many kinds on a damaged file)
        raise FileError(f"XLSXファイルとして読めません({type(exc).__name__})") from None
    try:
        sheet = book.worksheets[0]
        out = []
        for n, row in enumerate(sheet.iter_rows(), 1):
            if n > MAX_ROWS + 1:
                raise FileError(f"行が多すぎます(最大{MAX_ROWS:,}行)")
            cells: list[str] = []
            for cell in row:
                value = cell.value
                if getattr(cell, "data_type", None) == "f" or (
                    isinstance(value, str) and value.startswith("=")
                ):
                    cells.append(_Formula(str(value)))
                else:
                    cells.append("" if value is None else str(value))
            out.append(cells)
        return out
    finally:
        book.close()


class _Formula(str):
    """A cell that holds a formula (refused on import)."""


def _limited(rows: Iterable[list[str]]) -> Iterable[list[str]]:
    for n, row in enumerate(rows, 1):
        if n > MAX_ROWS + 1:
            raise FileError(f"行が多すぎます(最大{MAX_ROWS:,}行)")
        yield row


def read_rows(data: bytes, fmt: str) -> list[list[str]]:
    if len(data) > MAX_BYTES:
        raise FileError(f"ファイルが大きすぎます(最大{MAX_BYTES // (1024 * 1024)}MB)")
    if not data:
        raise FileError("ファイルが空です")
    if fmt == "xlsx":
        return read_xlsx(data)
    if fmt == "csv":
        return read_csv(data)
    raise FileError("形式は csv か xlsx を指定してください")


def _header_key(name: str) -> str | None:
    name = (name or "").strip().lstrip("\ufeff")
    if name in TERM_COLUMNS or name in FAQ_COLUMNS:
        return name
    if name in LABELS:
        return LABELS[name]
    m = _NUMBERED.match(name)
    if m:
        base = _NUMBERED_KEYS.get(m.group(1), m.group(1))
        return f"{base}_{int(m.group(2))}"
    return None


def _unescape(value: str) -> str:
    """Take off the `'` an export put before a cell that starts like a formula."""
    if len(value) > 1 and value[0] == "'" and value[1] in DANGEROUS:
        return value[1:]
    return value


def records_from_rows(
    kind: str, rows: Sequence[Sequence[str]]
) -> tuple[list[tuple[int, Record]], list[dict[str, Any]]]:
    """(row number, raw record) per non-empty data row, and the errors found reading."""
    if not rows:
        raise FileError("ファイルに行がありません")
    header = [_header_key(h) for h in rows[0]]
    required = (
        ["term", "reading", "category", "definition_1"]
        if kind == "term"
        else ["id", "title", "answer"]
    )
    missing = [c for c in required if c not in header]
    if missing:
        raise FileError(
            f"1行目に必要な列がありません: {', '.join(missing)}"
            "(列名は docs/content-studio.md を参照)"
        )
    out, errors = [], []
    for n, row in enumerate(rows[1:], 2):
        if not any((c or "").strip() for c in row):
            continue
        if len(row) > len(header) and any((c or "").strip() for c in row[len(header) :]):
            errors.append({"row": n, "field": "", "message": "見出しのない列に値があります"})
            continue
        cells: dict[str, str] = {}
        bad = False
        for key, value in zip(header, row, strict=False):  # short rows: missing cells
            if key is None:
                continue
            if isinstance(value, _Formula):
                errors.append(
                    {
                        "row": n,
                        "field": key,
                        "message": "数式のセルは取り込めません(値として入力してください)",
                    }
                )
                bad = True
                continue
            value = _unescape(value or "")
            if len(value) > MAX_CELL:
                errors.append(
                    {"row": n, "field": key, "message": f"セルが長すぎます(最大{MAX_CELL:,}文字)"}
                )
                bad = True
            cells[key] = value
        if bad:
            continue
        if kind == "term":
            defs = []
            for i in range(1, 100):
                if f"definition_{i}" not in cells and f"source_{i}" not in cells:
                    if i > 1:
                        break
                    continue
                defs.append(
                    {
                        "text": cells.get(f"definition_{i}", ""),
                        "source": cells.get(f"source_{i}", ""),
                        "note": cells.get(f"note_{i}", ""),
                    }
                )
            raw: Record = {k: cells.get(k, "") for k in TERM_COLUMNS}
            raw["definitions"] = defs
        else:
            raw = {k: cells.get(k, "") for k in FAQ_COLUMNS}
        out.append((n, raw))
    return out, errors


def plan_import(kind: str, data: bytes, fmt: str, snap: Snapshot, check: Any) -> Plan:
    """The dry-run diff of importing `data` into the content of `snap`. `check` is
    service.check_changes (run on the planned changes against the whole content)."""
    plan = Plan(kind)
    try:
        rows = read_rows(data, fmt)
        records, plan.errors = records_from_rows(kind, rows)
    except FileError as exc:
        plan.errors = [{"row": None, "field": "", "message": str(exc)}]
        return plan
    plan.rows = len(records)
    existing = {i.key: i for i in snap.items if i.kind == kind}
    seen: dict[str, int] = {}
    planned = []
    for n, raw in records:
        record = clean(kind, raw)
        key = record.get("term") if kind == "term" else record.get("id")
        key = key or ""
        if key and key in seen:
            plan.errors.append(
                {
                    "row": n,
                    "field": "term" if kind == "term" else "id",
                    "message": f"「{key}」は{seen[key]}行目と重複しています",
                }
            )
            continue
        seen[key] = n
        current = existing.get(key)
        if current is not None and current.data == record and current.enabled:
            plan.unchanged += 1
            continue
        if current is None:
            ch = Change(kind, record, action="import")
            plan.added.append({"row": n, "key": key})
        else:
            ch = Change(kind, record, current.id, True, current.revision, "import")
            plan.changed.append(
                {
                    "row": n,
                    "key": key,
                    "fields": _changed_fields(current.data, record)
                    + ([] if current.enabled else ["enabled"]),
                }
            )
        plan.changes.append(ch)
        plan.change_rows.append(n)
        planned.append((ch, current, record))
    if planned:
        for p in check(snap, planned):
            plan.errors.append(
                {"row": plan.change_rows[p["index"]], "field": p["field"], "message": p["message"]}
            )
    plan.errors.sort(key=lambda e: e["row"] or 0)
    return plan


def _changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return [k for k in after if before.get(k) != after.get(k)]


# -- writing ---------------------------------------------------------------------------


def neutralise(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(DANGEROUS) else text


def export_rows(kind: str, records: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    if kind == "term":
        width = max([len(r.get("definitions") or []) for r in records] + [1])
        header = TERM_COLUMNS + [
            f"{k}_{i}" for i in range(1, width + 1) for k in ("definition", "source", "note")
        ]
        rows = [header]
        for r in records:
            row = [
                r.get("term", ""),
                r.get("reading", ""),
                "|".join(r.get("aliases") or []),
                r.get("category", ""),
                "|".join(r.get("related") or []),
            ]
            defs = list(r.get("definitions") or [])
            for i in range(width):
                d = defs[i] if i < len(defs) else {}
                row += [d.get("text", ""), d.get("source", ""), d.get("note", "")]
            rows.append(row)
    else:
        rows = [FAQ_COLUMNS]
        for r in records:
            rows.append(
                [
                    r.get("id", ""),
                    r.get("title", ""),
                    r.get("answer", ""),
                    r.get("source", ""),
                    r.get("url") or "",
                    r.get("as_of") or "",
                    "\n".join(r.get("questions") or []),
                ]
            )
    return [[neutralise(c) for c in row] for row in rows]


def to_csv(rows: Sequence[Sequence[str]]) -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def to_xlsx(rows: Sequence[Sequence[str]], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    for row in rows:
        sheet.append(list(row))  # neutralised: no cell starts with "=", so none is a formula
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
