"""Downloads of records: ledgers (台账) as .xlsx with Chinese headers, frozen header row and
filters; official documents as .docx.

The ledgers of the domain apps are named in ``LEDGERS`` by the import path of their builder
(``yingji.<app>.ledgers.build``), resolved on first use with ``import_string``. Paths
rather than functions because core imports no domain app (the dependency rule of
docs/architecture.md), and paths rather than registration from each ``AppConfig.ready``
because one table says which ledgers exist, works in any process (a command, the worker, a
test) without depending on app loading order, and costs nothing until a ledger is asked
for. A test resolves every path, so a renamed builder fails there, not in a download.
"""

from __future__ import annotations

import calendar
import datetime
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import content_disposition_header
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.dimensions import ColumnDimension

from yingji.core.documents import cn_date

# name → builder: build(*, start=None, end=None, user=None, region=None) -> Sheet
LEDGERS: dict[str, str] = {
    "hazards": "yingji.hazards.ledgers.build",
    "inspections": "yingji.inspections.ledgers.build",
    "enforcement": "yingji.enforcement.ledgers.build",
    "tips": "yingji.tips.ledgers.build",
    "alerts": "yingji.alerts.ledgers.build",
}

# Number formats of typed columns: a header may be (label, width, format).
MONEY = "#,##0.00"
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm"


@dataclass
class Sheet:
    """One ledger: the file name stem, the sheet title, (label, width[, format]) headers and
    the rows (any iterable, consumed once while the file is written)."""

    name: str
    title: str
    headers: Sequence[tuple]
    rows: Iterable[Sequence]


def builder(name: str) -> Callable[..., Sheet]:
    """The builder of a named ledger; LookupError for a name not in LEDGERS."""
    try:
        path = LEDGERS[name]
    except KeyError:
        raise LookupError(name) from None
    return import_string(path)


def build(
    name: str,
    *,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    user=None,
    region=None,
) -> Sheet:
    """A named ledger of the records of [start, end] that `user` may see (all without a user)
    inside `region` (a Region; None or the district itself for everything)."""
    if region is not None and region.parent_id is None:
        region = None  # the district is the whole installation, records with no place too
    return builder(name)(start=start, end=end, user=user, region=region)


def title(name: str) -> str:
    """The title of a named ledger (the TITLE of its builder's module)."""
    return str(sys.modules[builder(name).__module__].TITLE)


# -- periods (of ledgers and reports) ------------------------------------------------------------------------------------
QUARTER_NAMES = "一二三四"


@dataclass(frozen=True)
class Period:
    """The period a document covers: a year, a quarter, a month or any range of dates."""

    kind: str  # year | quarter | month | range
    start: datetime.date
    end: datetime.date

    @property
    def label(self) -> str:
        """2025年, 2025年第一季度, 2025年3月, 2025年1月1日至2025年3月15日."""
        s = self.start
        if self.kind == "year":
            return f"{s.year}年"
        if self.kind == "quarter":
            return f"{s.year}年第{QUARTER_NAMES[(s.month - 1) // 3]}季度"
        if self.kind == "month":
            return f"{s.year}年{s.month}月"
        return f"{cn_date(s)}至{cn_date(self.end)}"

    @property
    def slug(self) -> str:
        """2025, 2025Q1, 2025-03, 20250101-20250315: for file names."""
        s = self.start
        if self.kind == "year":
            return f"{s.year}"
        if self.kind == "quarter":
            return f"{s.year}Q{(s.month - 1) // 3 + 1}"
        if self.kind == "month":
            return f"{s:%Y-%m}"
        return f"{s:%Y%m%d}-{self.end:%Y%m%d}"

    @property
    def query(self) -> str:
        """The period as the query string of the download pages."""
        if self.kind == "range":
            return f"start={self.start:%Y-%m-%d}&end={self.end:%Y-%m-%d}"
        return f"{self.kind}={self.slug}"


MIN_YEAR, MAX_YEAR = 2000, 2100


def _year(value) -> int:
    try:
        year = int(str(value).strip())
    except ValueError:
        raise ValueError(_("Enter a year such as 2025.")) from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(_("Enter a year between 2000 and 2100."))
    return year


def _date(value) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None


def parse_period(*, year=None, quarter=None, month=None, start=None, end=None) -> Period:
    """The one period the arguments name; ValidationError({argument: message}) otherwise.

    year "2025"; quarter "2025Q1"; month "2025-03"; start and end "2025-01-01" (both).
    """
    given = [name for name, v in (("year", year), ("quarter", quarter), ("month", month)) if v] + (
        ["start"] if start or end else []
    )
    if len(given) != 1:
        message = _("Choose one period: a year, a quarter, a month, or a start and an end date.")
        raise ValidationError({(given[1] if len(given) > 1 else "year"): message})
    kind = given[0]
    try:
        if kind == "year":
            y = _year(year)
            return Period("year", datetime.date(y, 1, 1), datetime.date(y, 12, 31))
        if kind == "quarter":
            m = re.fullmatch(r"\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*", str(quarter))
            if not m:
                raise ValueError(_("Enter a quarter such as 2025Q1."))
            y, q = _year(m[1]), int(m[2])
            last = datetime.date(y, 3 * q, calendar.monthrange(y, 3 * q)[1])
            return Period("quarter", datetime.date(y, 3 * q - 2, 1), last)
        if kind == "month":
            m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", str(month))
            if not m or not 1 <= int(m[2]) <= 12:
                raise ValueError(_("Enter a month such as 2025-03."))
            y, mo = _year(m[1]), int(m[2])
            last = datetime.date(y, mo, calendar.monthrange(y, mo)[1])
            return Period("month", datetime.date(y, mo, 1), last)
    except ValueError as exc:
        raise ValidationError({kind: str(exc)}) from None
    errors = {}
    dates = {}
    for name, value in (("start", start), ("end", end)):
        if not value:
            errors[name] = _("Give both the start and the end date.")
            continue
        try:
            dates[name] = _date(value)
            _year(dates[name].year)
        except ValueError as exc:
            errors[name] = str(exc)
    if not errors and dates["end"] < dates["start"]:
        errors["end"] = _("The end date is before the start date.")
    if errors:
        raise ValidationError(errors)
    return Period("range", dates["start"], dates["end"])


PERIOD_ARGS = ("year", "quarter", "month", "start", "end")


def add_period_arguments(parser) -> None:
    """--year / --quarter / --month / --start --end, for the commands that take a period."""
    parser.add_argument("--year", help="a calendar year: 2025")
    parser.add_argument("--quarter", help="a quarter: 2025Q1")
    parser.add_argument("--month", help="a month: 2025-03")
    parser.add_argument("--start", help="first day of a period: 2025-01-01 (with --end)")
    parser.add_argument("--end", help="last day of a period: 2025-03-31 (with --start)")


def period_from(values) -> Period:
    """The period named by a command's options or a query string (any mapping)."""
    return parse_period(**{name: values.get(name) or None for name in PERIOD_ARGS})


def period_errors(exc: ValidationError) -> str:
    """A ValidationError of parse_period as one line for the command line."""
    return "; ".join(
        f"--{name}: {' '.join(str(m) for m in messages)}"
        for name, messages in exc.message_dict.items()
    )


def in_period(qs, field: str, start: datetime.date | None, end: datetime.date | None):
    """Rows whose date `field` lies in [start, end] (either end open when None)."""
    if start is not None:
        qs = qs.filter(**{f"{field}__gte": start})
    if end is not None:
        qs = qs.filter(**{f"{field}__lte": end})
    return qs


def in_scope(qs, *, user=None, region=None, region_field: str = "enterprise__region"):
    """What `user` may see (everything without a user: the command line acts as the system)
    inside `region`'s subtree, reached through `region_field`."""
    if user is not None:
        qs = qs.visible_to(user)
    if region is not None:
        qs = qs.filter(**{f"{region_field}__path__startswith": region.path})
    return qs


def _value(v):
    if isinstance(v, Promise):
        return str(v)
    if isinstance(v, datetime.datetime) and timezone.is_aware(v):
        # Excel has no time zones: write the local time the bureau reads.
        return timezone.make_naive(v)
    return v


def write(fh, title: str, headers: Sequence[tuple], rows: Iterable[Sequence]) -> int:
    """Write one sheet; headers are (label, width) or (label, width, number format) tuples.

    Dates stay dates (Excel date cells), money gets a number format, the header row is bold,
    frozen and filtered. Returns the number of rows.
    """
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    formats = []
    for i, (_label, width, *fmt) in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)] = ColumnDimension(ws, width=width)
        formats.append(fmt[0] if fmt else None)
    ws.freeze_panes = "A2"

    head = []
    for label, *_rest in headers:
        cell = WriteOnlyCell(ws, value=str(label))
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F0F2F5")
        cell.alignment = Alignment(vertical="center")
        head.append(cell)
    ws.append(head)
    formatted = any(formats)
    n = 0
    for row in rows:
        values = [_value(v) for v in row]
        if formatted:
            for i, fmt in enumerate(formats):
                if fmt and values[i] is not None:
                    values[i] = WriteOnlyCell(ws, value=values[i])
                    values[i].number_format = fmt
        ws.append(values)
        n += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{n + 1}"
    wb.save(fh)
    return n


def write_sheet(fh, sheet: Sheet) -> int:
    return write(fh, str(sheet.title), sheet.headers, sheet.rows)


def sheet_response(sheet: Sheet, filename: str | None = None) -> FileResponse:
    """A download of the ledger, built in a temporary file (flat memory for long lists); the
    default name carries the time it was made."""
    if filename is None:
        filename = f"{sheet.name}-{timezone.localtime():%Y%m%d-%H%M}.xlsx"
    tmp = tempfile.TemporaryFile()  # noqa: SIM115  (FileResponse closes it)
    write_sheet(tmp, sheet)
    tmp.seek(0)
    return FileResponse(tmp, as_attachment=True, filename=filename)


def response(filename_stem: str, title: str, headers, rows) -> FileResponse:
    return sheet_response(Sheet(filename_stem, title, headers, rows))


def docx_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(
        data,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
