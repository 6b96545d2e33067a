"""Stream interchange records out of .jsonl and .xlsx files, one (location, dict) at a time."""

import datetime
import json
from collections.abc import Iterator
from pathlib import Path


class BadRecord(Exception):
    """A line that is not a record at all (the importer reports it with its location)."""


def _cell(value: object) -> object:
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        value = value.strip()
        return value if value != "" else None
    return value


def read_jsonl(path: Path) -> Iterator[tuple[str, object]]:
    with open(path, encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield f"line {number}", json.loads(line)
            except json.JSONDecodeError as exc:
                yield f"line {number}", BadRecord(f"invalid JSON: {exc.msg} (column {exc.colno})")


def read_xlsx(path: Path, list_fields: dict[str, set[str]]) -> Iterator[tuple[str, object]]:
    """One sheet per record type; row 1 holds field names; lists are `;`-separated."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        for ws in wb.worksheets:
            rows = ws.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                continue
            names = [str(h).strip() if h is not None else None for h in header]
            lists = list_fields.get(ws.title, set())
            for number, row in enumerate(rows, start=2):
                record: dict[str, object] = {"type": ws.title}
                empty = True
                for name, raw in zip(names, row, strict=False):
                    value = _cell(raw)
                    if name is None or value is None:
                        continue
                    empty = False
                    if name in lists and isinstance(value, str):
                        value = [v.strip() for v in value.split(";") if v.strip()]
                    elif name in lists:
                        value = [value]
                    record[name] = value
                if not empty:
                    yield f"{ws.title}!{number}", record
    finally:
        wb.close()


def count_bytes(path: Path) -> int:
    return path.stat().st_size
