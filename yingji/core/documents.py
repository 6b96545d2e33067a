"""Official documents (公文 / 执法文书) as .docx, laid out after GB/T 9704-2012.

Generic helpers only: this module imports no domain app. The domain modules
(``yingji.inspections.documents``, ``yingji.hazards.documents``) build their documents
from these pieces.

Page
    A4 (21 × 29.7 cm); margins top 3.7 cm, bottom 3.5 cm, left 2.8 cm, right 2.6 cm, so the
    text block (版心) is 15.6 × 22.5 cm. Body lines are exactly 28 pt apart (about the
    standard's 22 lines a page) and paragraphs are indented two characters.

Fonts (the East Asian face goes into ``w:rFonts/@w:eastAsia`` of every run and of the
Normal style; python-docx's ``font.name`` sets only ascii/hAnsi, which get Times New
Roman so that digits and Latin letters come out as the standard's 半角 Times)
    title (标题)       方正小标宋简体 2号 (22 pt), centred
    body (正文)        仿宋_GB2312 3号 (16 pt)
    headings (一、)    黑体 3号 (16 pt)
    headings ((一))    楷体_GB2312 3号 (16 pt), usually run in: the heading, then the text
    headings (1.)      仿宋_GB2312 3号 bold; (（1）) plain body text
    tables             仿宋_GB2312 小四 (12 pt), header row in 黑体
    page numbers       宋体 4号 (14 pt), "— 1 —", odd pages right, even pages left,
                       one character in from the edge of the text block

Fallback chain
    Only the first name of each chain is written into the runs. The rest of the chain is
    written into the document's font table (``word/fontTable.xml``) as ``w:altName`` with
    the GB2312 character set (charset 86), which Word consults when the first face is not
    installed; failing all of them Word substitutes a face with the same character set.

    ========  ==============================================================================
    title     方正小标宋简体 → 方正小标宋_GBK → FZXiaoBiaoSong-B05S → 华文中宋 → STZhongsong
              → 宋体 → SimSun
    body      仿宋_GB2312 → FangSong_GB2312 → 仿宋 → FangSong → 华文仿宋 → STFangsong
    heading   黑体 → SimHei → 华文黑体 → STHeiti
    kai       楷体_GB2312 → KaiTi_GB2312 → 楷体 → KaiTi → 华文楷体 → STKaiti
    song      宋体 → SimSun → 华文宋体 → STSong (page numbers)
    ========  ==============================================================================

    LibreOffice ignores ``w:altName`` and asks fontconfig, which on a bare Linux server
    falls back to whatever CJK face is installed (Noto Sans/Serif CJK SC). For faithful
    server-side PDF conversion alias the names above to Noto Serif CJK SC (title, body,
    page numbers) and Noto Sans CJK SC (黑体) in a fontconfig ``<alias>`` file.

Dates
    GB/T 9704-2012 §7.3.5.1 writes the date of a document in Arabic numerals with the year
    in full and no padding (2026年3月5日), replacing the older 二〇二六年三月五日 form;
    :func:`cn_date` does the former by default and the latter with ``style="chinese"``.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Length, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree

# -- page ---------------------------------------------------------------------------------------
PAGE_WIDTH, PAGE_HEIGHT = Cm(21), Cm(29.7)
MARGIN_TOP, MARGIN_BOTTOM = Cm(3.7), Cm(3.5)
MARGIN_LEFT, MARGIN_RIGHT = Cm(2.8), Cm(2.6)
TEXT_WIDTH = Cm(21 - 2.8 - 2.6)  # 15.6 cm
# The page number's 18 pt line box ends 2.2 cm above the page edge, so its top lies
# 35 - 22 - 6.35 ≈ 7 mm below the text block (GB/T 9704-2012 §7.5).
FOOTER_DISTANCE = Cm(2.2)
FOOTER_LINE = Pt(18)

# -- sizes (字号) -------------------------------------------------------------------------------
SIZE_2 = Pt(22)  # 2号: title
SIZE_3 = Pt(16)  # 3号: body
SIZE_4 = Pt(14)  # 4号: page numbers
SIZE_SMALL_4 = Pt(12)  # 小四: tables
CHAR = SIZE_3  # one character of body text, for indents
LINE = Pt(28)  # body line pitch
TITLE_LINE = Pt(36)
TABLE_LINE = Pt(20)

Align = WD_ALIGN_PARAGRAPH


@dataclass(frozen=True)
class Font:
    """An East Asian font chain: ``names[0]`` goes into the runs, the rest are fallbacks."""

    names: tuple[str, ...]
    latin: str = "Times New Roman"

    @property
    def name(self) -> str:
        return self.names[0]


TITLE_FONT = Font(
    (
        "方正小标宋简体",
        "方正小标宋_GBK",
        "FZXiaoBiaoSong-B05S",
        "华文中宋",
        "STZhongsong",
        "宋体",
        "SimSun",
    )
)
BODY_FONT = Font(("仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "华文仿宋", "STFangsong"))
HEADING_FONT = Font(("黑体", "SimHei", "华文黑体", "STHeiti"))
KAI_FONT = Font(("楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "华文楷体", "STKaiti"))
SONG_FONT = Font(("宋体", "SimSun", "华文宋体", "STSong"), latin="宋体")
FONTS = (TITLE_FONT, BODY_FONT, HEADING_FONT, KAI_FONT, SONG_FONT)

_THEME_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def _set_rfonts(rpr, font: Font) -> None:
    rfonts = rpr.get_or_add_rFonts()
    for attr in _THEME_ATTRS:  # a theme attribute would win over the explicit name
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:ascii"), font.latin)
    rfonts.set(qn("w:hAnsi"), font.latin)
    rfonts.set(qn("w:eastAsia"), font.name)
    # Ambiguous characters (“” — · …) take the East Asian face.
    rfonts.set(qn("w:hint"), "eastAsia")


def set_font(
    run: Run, font: Font = BODY_FONT, size: Length | None = SIZE_3, *, bold: bool | None = None
) -> Run:
    """Give a run its Latin and East Asian face, size and weight."""
    run.font.name = font.latin  # ascii + hAnsi only
    _set_rfonts(run._element.get_or_add_rPr(), font)
    if size is not None:
        run.font.size = size
    if bold is not None:
        run.font.bold = bold
    return run


# -- dates --------------------------------------------------------------------------------------
_CN_DIGITS = "〇一二三四五六七八九"


def _cn_number(n: int) -> str:
    """1…31 in Chinese numerals: 五, 十, 十二, 二十, 三十一."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    return (_CN_DIGITS[tens] if tens > 1 else "") + "十" + (_CN_DIGITS[ones] if ones else "")


def cn_date(d: datetime.date | None, style: str = "arabic") -> str:
    """2026年3月5日 (GB/T 9704-2012, the default) or 二〇二六年三月五日 (``style="chinese"``)."""
    if d is None:
        return ""
    if style == "chinese":
        year = "".join(_CN_DIGITS[int(c)] for c in str(d.year))
        return f"{year}年{_cn_number(d.month)}月{_cn_number(d.day)}日"
    if style != "arabic":
        raise ValueError(f"unknown date style {style!r}")
    return f"{d.year}年{d.month}月{d.day}日"


# -- the document -------------------------------------------------------------------------------
def new_document(title: str, number: str = "", *, issuer: str = "") -> DocxDocument:
    """An A4 document with the styles, fonts and page numbers set, and its title block.

    The title block is the issuer (if given) and the title, centred in the title font,
    then the document number (文号) on the right under the title.
    """
    doc = Document()
    _setup_page(doc)
    _setup_styles(doc)
    _register_fonts(doc)
    _add_page_numbers(doc)
    props = doc.core_properties
    props.title, props.author, props.language = title, issuer, "zh-CN"
    props.subject = number
    for line in (issuer, title):
        if line:
            p = paragraph(doc, line, indent=False, align=Align.CENTER, font=TITLE_FONT, size=SIZE_2)
            _line(p, TITLE_LINE)
    if number:
        p = paragraph(doc, number, indent=False, align=Align.RIGHT)
        p.paragraph_format.space_before = Pt(6)
    # One blank line between the title block and the text.
    doc.paragraphs[-1].paragraph_format.space_after = LINE
    return doc


def _setup_page(doc: DocxDocument) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
    section.header_distance, section.footer_distance = Cm(1.5), FOOTER_DISTANCE
    section.gutter = Cm(0)


def _setup_styles(doc: DocxDocument) -> None:
    # Document defaults: drop the template's theme fonts (Calibri / MS Mincho).
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_rfonts(rpr, BODY_FONT)
    lang = rpr.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")
    ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = ppr.find(qn("w:spacing"))
    if spacing is not None:
        ppr.remove(spacing)

    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT.latin
    _set_rfonts(normal.element.get_or_add_rPr(), BODY_FONT)
    normal.font.size = SIZE_3
    pf = normal.paragraph_format
    pf.space_before = pf.space_after = Pt(0)
    pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, LINE
    pf.alignment = Align.JUSTIFY

    # A justified line ending in a manual line break is not stretched across the line.
    compat = doc.settings.element.find(qn("w:compat"))
    if compat is None:
        compat = OxmlElement("w:compat")
        doc.settings.element.append(compat)
    if compat.find(qn("w:doNotExpandShiftReturn")) is None:
        compat.insert(0, OxmlElement("w:doNotExpandShiftReturn"))


def _register_fonts(doc: DocxDocument) -> None:
    """Add each chain to word/fontTable.xml: the first name, the rest as w:altName."""
    part = next(
        (r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable")),
        None,
    )
    if part is None:
        return
    root = etree.fromstring(part.blob)
    known = {f.get(qn("w:name")) for f in root.findall(qn("w:font"))}
    for font in FONTS:
        if font.name in known:
            continue
        el = etree.SubElement(root, qn("w:font"))
        el.set(qn("w:name"), font.name)
        alt = etree.SubElement(el, qn("w:altName"))
        alt.set(qn("w:val"), ",".join(font.names[1:]))
        for tag, val in (("w:charset", "86"), ("w:family", "auto"), ("w:pitch", "variable")):
            etree.SubElement(el, qn(tag)).set(qn("w:val"), val)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _field(paragraph: Paragraph, instruction: str, placeholder: str, **fmt) -> None:
    """A complex field (PAGE, NUMPAGES …) with a cached result."""
    for kind in ("begin", "instr", "separate", "text", "end"):
        run = set_font(paragraph.add_run(), **fmt)
        if kind == "instr":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = f" {instruction} "
            run._element.append(instr)
        elif kind == "text":
            run.text = placeholder
        else:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._element.append(fld)


def _add_page_numbers(doc: DocxDocument) -> None:
    """ "— 1 —" in 宋体 4号: odd pages right, even pages left, one character in."""
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    fmt = {"font": SONG_FONT, "size": SIZE_4}
    for footer, align in ((section.footer, Align.RIGHT), (section.even_page_footer, Align.LEFT)):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.alignment = align
        pf = p.paragraph_format
        pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, FOOTER_LINE
        pf.first_line_indent = Pt(0)
        if align == Align.RIGHT:
            pf.right_indent = SIZE_4
        else:
            pf.left_indent = SIZE_4
        set_font(p.add_run("— "), **fmt)
        _field(p, "PAGE", "1", **fmt)
        set_font(p.add_run(" —"), **fmt)


def to_bytes(doc: DocxDocument) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# -- paragraphs ---------------------------------------------------------------------------------
def _line(p: Paragraph, pitch: Length | None) -> None:
    pf = p.paragraph_format
    if pitch is None:
        pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.SINGLE, None
    else:
        pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, pitch


def add_text(
    p: Paragraph,
    text: str,
    *,
    font: Font = BODY_FONT,
    size: Length | None = SIZE_3,
    bold: bool | None = None,
    underline: bool | None = None,
) -> Run:
    """Append a run; newlines in ``text`` become line breaks."""
    run = p.add_run()
    for i, piece in enumerate(text.split("\n")):
        if i:
            run.add_break()
        if piece:
            run.add_text(piece)
    set_font(run, font, size, bold=bold)
    if underline is not None:
        run.font.underline = underline
    return run


def placeholder(p: Paragraph, text: str) -> Run:
    """A run the author still has to complete or check, highlighted yellow so it is found
    (and so a document cannot go out with it unnoticed)."""
    run = add_text(p, text)
    run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    return run


def is_placeholder(run: Run) -> bool:
    return run.font.highlight_color == WD_COLOR_INDEX.YELLOW


def paragraph(
    doc,
    text: str = "",
    *,
    indent: bool = True,
    align=Align.JUSTIFY,
    font: Font = BODY_FONT,
    size: Length = SIZE_3,
    bold: bool | None = None,
) -> Paragraph:
    """A body paragraph: first line indented two characters unless ``indent=False``.

    ``doc`` is anything with ``add_paragraph`` (a document or a table cell).
    """
    p = doc.add_paragraph()
    p.alignment = align
    p.paragraph_format.first_line_indent = size * 2 if indent else Pt(0)
    if text:
        add_text(p, text, font=font, size=size, bold=bold)
    return p


def paragraphs(doc, text: str, **kwargs) -> list[Paragraph]:
    """One body paragraph per non-blank line of ``text`` (user input with newlines)."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return [paragraph(doc, line, **kwargs) for line in lines]


def heading(doc, text: str) -> Paragraph:
    """A first-level heading (一、…) in 黑体 3号, indented like body text, kept with what
    follows."""
    p = paragraph(doc, text, font=HEADING_FONT)
    p.paragraph_format.keep_with_next = True
    return p


def subheading(doc, text: str) -> Paragraph:
    """A second-level heading ((一)…) standing alone, in 楷体 3号."""
    p = paragraph(doc, text, font=KAI_FONT)
    p.paragraph_format.keep_with_next = True
    return p


def labelled(doc, label: str, value: str, *, indent: bool = True) -> Paragraph:
    """ "label：value" with the label in 黑体; further lines of ``value`` become paragraphs."""
    first, *rest = [line.strip() for line in (value or "").splitlines() if line.strip()] or [""]
    p = paragraph(doc, indent=indent)
    add_text(p, f"{label}：", font=HEADING_FONT)
    add_text(p, first)
    for line in rest:
        paragraph(doc, line, indent=indent)
    return p


def addressee(doc, name: str) -> Paragraph:
    """The addressee (主送机关) flush left, followed by a full-width colon."""
    return paragraph(doc, f"{name}：", indent=False)


def signature_line(
    doc, label: str, right: str = "年    月    日", *, space_before: Length = LINE
) -> Paragraph:
    """ "检查人员（签名）：" on the left and a blank date on the right of the same line.

    Signature lines are kept with what follows, so that the signature block (and the
    sign-off after it) never breaks across pages.
    """
    p = paragraph(doc, indent=False, align=Align.LEFT)
    p.paragraph_format.space_before = space_before
    p.paragraph_format.keep_with_next = True
    p.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH - CHAR, WD_TAB_ALIGNMENT.RIGHT)
    add_text(p, label)
    if right:
        add_text(p, "\t" + right)
    return p


def _width(text: str, size: Length = SIZE_3) -> int:
    """Approximate printed width: CJK characters are one em, ASCII half an em."""
    return sum(size if ord(c) > 0x2000 else size // 2 for c in text)


def signoff(doc, issuer: str, date_text: str, *, space_before: Length = LINE) -> None:
    """The issuer and the date at the foot (落款), GB/T 9704-2012 §7.3.5.1.

    The issuer sits two characters in from the right and the date starts two characters to
    the right of the issuer's first character; a date longer than that moves in to two
    characters from the right and pushes the issuer left to keep the offset.
    """
    w_issuer, w_date, two = _width(issuer), _width(date_text), CHAR * 2
    date_indent = w_issuer - w_date
    issuer_indent = two
    if date_indent < two:
        date_indent = two
        issuer_indent = date_indent + w_date + two - w_issuer
    for text, indent, before, keep in (
        (issuer, issuer_indent, space_before, True),
        (date_text, date_indent, 0, False),
    ):
        p = paragraph(doc, text, indent=False, align=Align.RIGHT)
        p.paragraph_format.right_indent = Length(indent)
        p.paragraph_format.space_before = Length(before)
        p.paragraph_format.keep_with_next = keep


# -- tables -------------------------------------------------------------------------------------
def _cell_text(cell, text: str, *, align, font: Font, size: Length, bold: bool | None) -> None:
    p = cell.paragraphs[0]
    p.alignment = align
    p.paragraph_format.first_line_indent = Pt(0)
    _line(p, TABLE_LINE)
    add_text(p, str(text), font=font, size=size, bold=bold)
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def _new_table(doc, n_rows: int, widths: Sequence[float]) -> Table:
    table = doc.add_table(rows=n_rows, cols=len(widths))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False  # w:tblLayout type="fixed": the widths below hold
    tbl_w = table._tbl.tblPr.find(qn("w:tblW"))
    if tbl_w is not None:
        tbl_w.set(qn("w:type"), "dxa")
        tbl_w.set(qn("w:w"), str(round(Cm(sum(widths)).twips)))
    for i, w in enumerate(widths):
        table.columns[i].width = Cm(w)
        for cell in table.columns[i].cells:
            cell.width = Cm(w)
    return table


KV_ROW_HEIGHT = Cm(0.8)
# Rows with more text than this may break across pages (a row taller than a page must).
KEEP_ROW_CHARS = 300


def _keep_row_together(row, values) -> None:
    if sum(len(str(v or "")) for v in values) <= KEEP_ROW_CHARS:
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def _check_widths(widths: Sequence[float]) -> None:
    total = Cm(sum(widths))
    if abs(total - TEXT_WIDTH) > Cm(0.05):
        raise ValueError(f"column widths add up to {sum(widths)} cm, not 15.6 cm")


def table(
    doc,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    widths: Sequence[float],
    *,
    align: Sequence | None = None,
    size: Length = SIZE_SMALL_4,
) -> Table:
    """A ruled list table across the text block: 黑体 header row repeated on every page.

    ``widths`` are in cm and must add up to the text width (15.6 cm); ``align`` gives each
    column's alignment (default: justified).
    """
    _check_widths(widths)
    _keep_previous_with_next(doc)
    rows = [list(r) for r in rows]
    align = list(align or [Align.JUSTIFY] * len(widths))
    t = _new_table(doc, 1 + len(rows), widths)
    header = t.rows[0]
    trpr = header._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))
    trpr.append(OxmlElement("w:tblHeader"))
    for cell, text in zip(header.cells, headers, strict=True):
        _cell_text(cell, text, align=Align.CENTER, font=HEADING_FONT, size=size, bold=None)
    for row, values in zip(t.rows[1:], rows, strict=True):
        _keep_row_together(row, values)
        for cell, text, a in zip(row.cells, values, align, strict=True):
            _cell_text(
                cell, "" if text is None else text, align=a, font=BODY_FONT, size=size, bold=None
            )
    _after_table(doc)
    return t


def kv_table(
    doc,
    pairs: Sequence[tuple[str, object]],
    widths: Sequence[float] = (4.2, 11.4),
    *,
    size: Length = SIZE_SMALL_4,
) -> Table:
    """A two-column table of labels (黑体, centred) and values."""
    _check_widths(widths)
    _keep_previous_with_next(doc)
    t = _new_table(doc, len(pairs), widths)
    for row, (label, value) in zip(t.rows, pairs, strict=True):
        _keep_row_together(row, (label, value))
        row.height_rule, row.height = WD_ROW_HEIGHT_RULE.AT_LEAST, KV_ROW_HEIGHT
        _cell_text(row.cells[0], label, align=Align.CENTER, font=HEADING_FONT, size=size, bold=None)
        _cell_text(
            row.cells[1],
            "" if value is None else value,
            align=Align.LEFT,
            font=BODY_FONT,
            size=size,
            bold=None,
        )
    _after_table(doc)
    return t


def _keep_previous_with_next(doc) -> None:
    """Keep the paragraph that introduces a table on the page of the table's first row."""
    body = doc.element.body
    last = next((el for el in reversed(body) if el.tag != qn("w:sectPr")), None)
    if last is not None and last.tag == qn("w:p"):
        Paragraph(last, doc._body).paragraph_format.keep_with_next = True


def _after_table(doc) -> None:
    """Tables end flush with the next line: a short spacer paragraph keeps them apart."""
    p = doc.add_paragraph()
    p.paragraph_format.first_line_indent = Pt(0)
    _line(p, Pt(8))
