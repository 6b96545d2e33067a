"""Downloads of records: ledgers (台账) as .xlsx with Chinese headers, frozen header row and
filters; official documents as .docx."""

import tempfile
from collections.abc import Iterable, Sequence

from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.dimensions import ColumnDimension


def write(fh, title: str, headers: Sequence[tuple[str, int]], rows: Iterable[Sequence]) -> int:
    """Write one sheet; headers are (label, width) pairs. Returns the number of rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    for i, (_label, width) in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)] = ColumnDimension(ws, width=width)
    ws.freeze_panes = "A2"

    head = []
    for label, _width in headers:
        cell = WriteOnlyCell(ws, value=str(label))
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F0F2F5")
        cell.alignment = Alignment(vertical="center")
        head.append(cell)
    ws.append(head)
    n = 0
    for row in rows:
        ws.append([str(v) if isinstance(v, Promise) else v for v in row])
        n += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{n + 1}"
    wb.save(fh)
    return n


def response(filename_stem: str, title: str, headers, rows) -> FileResponse:
    """A download of the ledger, built in a temporary file (flat memory for long lists)."""
    tmp = tempfile.TemporaryFile()  # noqa: SIM115  (FileResponse closes it)
    write(tmp, title, headers, rows)
    tmp.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(tmp, as_attachment=True, filename=f"{filename_stem}-{stamp}.xlsx")


def docx_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(
        data,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
