"""The case file of a referral (案件移送材料) as one .zip.

Layout of the archive, in this order::

    目录.txt                      the summary and file list for people (UTF-8 with BOM, CRLF)
    index.json                    the same for machines
    文书/01_案件移送书_<文号>.docx  the referral letter, listing every enclosure with its SHA-256
    文书/02_…                      the case's other documents: 现场检查记录, 责令限期整改指令书,
                                   整改复查意见书, 行政处罚告知书/决定书, 督办函
    附件/01_…                      every attachment of the referral, the case, its hazard (photos),
                                   the hazard's evidence, the inspection and the case's acts

The two index files list every other member (name, what it is, size, SHA-256); they do not
list themselves. Member order is fixed by the records (by type, then by primary key or
upload time), so two builds of the same case list the same files in the same order. Names
are UTF-8 (the zip's language-encoding flag is set for them).

Attachments are read from storage twice: once to check each file against the SHA-256
recorded at upload before anything is written (a mismatch or a missing file refuses the
whole package with ``ValueError``), and once while copying it into the archive in chunks,
checked again. Only the generated .docx documents are held in memory, so
:func:`write_referral_package` can write to a file or an unseekable stream; a ``ValueError``
raised while writing leaves that output incomplete and it must be discarded.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from yingji.core.attachments import ALLOWED_TYPES, for_owner
from yingji.core.documents import cn_date
from yingji.core.models import Attachment
from yingji.enforcement import documents as enf_docs
from yingji.enforcement.models import Case, Penalty, Referral
from yingji.hazards.documents import (
    ORDER_TITLE,
    REINSPECTION_TITLE,
    level_name,
    render_order,
    render_reinspection,
)
from yingji.inspections.documents import RECORD_TITLE, SELF_TITLE, render_inspection_record
from yingji.inspections.models import Inspection

FORMAT = "yingji.referral-package/1"
INDEX_TXT = "目录.txt"
INDEX_JSON = "index.json"
DOCS_DIR = "文书"
FILES_DIR = "附件"
CHUNK = 64 * 1024
_STORED = (".docx", ".jpg", ".jpeg", ".png", ".webp")  # already compressed

PENALTY_STATUS = {
    Penalty.Status.DRAFT: "待告知",
    Penalty.Status.NOTIFIED: "已告知",
    Penalty.Status.DECIDED: "已作出决定",
    Penalty.Status.PAID: "已缴纳罚款",
    Penalty.Status.WITHDRAWN: "已撤销",
}
REFERRAL_STATUS = {
    Referral.Status.DRAFT: "待移送",
    Referral.Status.SENT: "已移送",
    Referral.Status.RESULT: "已收到处理结果",
    Referral.Status.WITHDRAWN: "已撤回",
}
CASE_STATUS = {Case.Status.OPEN: "办理中", Case.Status.CLOSED: "已结案"}
CASE_SOURCE = {
    Case.Source.HAZARD: "事故隐患",
    Case.Source.INSPECTION: "监督检查",
    Case.Source.TIP: "群众举报",
    Case.Source.DIRECT: "直接立案",
}


@dataclass
class Member:
    """One file of the package (other than the two index files)."""

    name: str  # path in the zip
    label: str  # what it is: 行政处罚决定书, 隐患照片 …
    kind: str  # "document" or "attachment"
    size: int
    sha256: str
    data: bytes | None = None  # generated documents
    attachment: Attachment | None = None  # stored files, copied from storage
    info: dict = field(default_factory=dict)

    def enclosure(self) -> enf_docs.Enclosure:
        return enf_docs.Enclosure(self.name, self.label, self.size, self.sha256)

    def entry(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "size": self.size,
            "sha256": self.sha256,
            **self.info,
        }


# -- names --------------------------------------------------------------------------------------
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_name(text: str, limit: int = 60) -> str:
    """A file-name part safe on Windows and Unix: no separators, reserved or control
    characters, no leading dots, at most ``limit`` characters."""
    text = _UNSAFE.sub("_", text or "").strip().strip(".").strip()
    return text[:limit].rstrip() or "file"


def _attachment_file_name(att: Attachment) -> str:
    """The uploaded name, ending in the extension of the type read from the content."""
    name = att.original_name or "file"
    ext = ALLOWED_TYPES.get(att.content_type, "")
    stem, dot, suffix = name.rpartition(".")
    if dot and suffix.lower() in ({ext, "jpeg"} if ext == "jpg" else {ext}):
        return f"{safe_name(stem)}.{suffix.lower()}"
    return f"{safe_name(name)}.{ext}" if ext else safe_name(name)


# -- the documents ------------------------------------------------------------------------------
def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _documents(referral: Referral) -> list[tuple[str, str, bytes, dict]]:
    """(label, number or date, .docx, info) for the case's documents other than the letter."""
    case = referral.case
    docs: list[tuple[str, str, bytes, dict]] = []
    insp = enf_docs.case_inspection(case)
    if insp is not None and insp.status == Inspection.Status.COMPLETED:
        label = SELF_TITLE if insp.self_inspection else RECORD_TITLE
        number = insp.record_no or insp.date.isoformat()
        docs.append((label, number, render_inspection_record(insp), {"number": insp.record_no}))
    hazard = case.hazard if case.hazard_id else None
    if hazard is not None:
        if hazard.order is not None:
            order = hazard.order
            docs.append((ORDER_TITLE, order.number, render_order(order), {"number": order.number}))
        for re_ in hazard.reinspections.order_by("date", "pk"):
            docs.append(
                (REINSPECTION_TITLE, re_.number, render_reinspection(re_), {"number": re_.number})
            )
    for p in case.penalties.order_by("pk"):
        if p.notice_no:
            docs.append(
                (
                    enf_docs.NOTICE_TITLE,
                    p.notice_no,
                    enf_docs.render_penalty_notice(p),
                    {"number": p.notice_no},
                )
            )
        if p.decision_no:
            docs.append(
                (
                    enf_docs.DECISION_TITLE,
                    p.decision_no,
                    enf_docs.render_penalty_decision(p),
                    {"number": p.decision_no},
                )
            )
    for letter in case.letters.order_by("pk"):
        if letter.number:
            docs.append(
                (
                    enf_docs.LETTER_TITLE,
                    letter.number,
                    enf_docs.render_supervision_letter(letter),
                    {"number": letter.number},
                )
            )
    return docs


# -- the attachments ----------------------------------------------------------------------------
def _owners(referral: Referral) -> list[tuple[str, object]]:
    """(what its files are, record) in package order."""
    case = referral.case
    owners: list[tuple[str, object]] = [("移送", referral), ("案件", case)]
    hazard = case.hazard if case.hazard_id else None
    if hazard is not None:
        owners.append(("隐患", hazard))
        owners += [("整改佐证", ev) for ev in hazard.evidence.order_by("submitted_at", "pk")]
    insp = enf_docs.case_inspection(case)
    if insp is not None:
        owners.append(("检查", insp))
    owners += [("行政处罚", p) for p in case.penalties.order_by("pk")]
    owners += [("督办", letter) for letter in case.letters.order_by("pk")]
    owners += [("约谈", i) for i in case.interviews.order_by("pk")]
    return owners


def _attachment_label(prefix: str, att: Attachment) -> str:
    return prefix + ("照片" if att.content_type.startswith("image/") else "材料")


def _read(att: Attachment):
    """Yield the stored file in chunks; a missing file refuses the package."""
    if not att.file:
        raise ValueError(f"Attachment {att.pk} ({att.original_name}) has no stored file.")
    try:
        f = att.file.open("rb")
    except FileNotFoundError:
        raise ValueError(
            f"The file of attachment {att.pk} ({att.original_name}) is missing."
        ) from None
    with f:
        yield from f.chunks(CHUNK)


def _mismatch(att: Attachment) -> ValueError:
    return ValueError(
        f"The file of attachment {att.pk} ({att.original_name}) does not match the SHA-256 "
        "recorded at upload; the package is refused."
    )


def verify_attachment(att: Attachment) -> int:
    """Check the stored file against the recorded SHA-256; return its size."""
    digest, size = hashlib.sha256(), 0
    for chunk in _read(att):
        digest.update(chunk)
        size += len(chunk)
    if digest.hexdigest() != att.sha256:
        raise _mismatch(att)
    return size


def _attachments(referral: Referral) -> list[tuple[str, Attachment, int]]:
    found = []
    for prefix, owner in _owners(referral):
        for att in for_owner(owner).order_by("uploaded_at", "pk"):
            found.append((_attachment_label(prefix, att), att, verify_attachment(att)))
    return found


# -- the case file ------------------------------------------------------------------------------
def letter_name(referral: Referral) -> str:
    return f"{DOCS_DIR}/01_{enf_docs.REFERRAL_TITLE}_{safe_name(referral.number)}.docx"


def case_file(referral: Referral) -> list[Member]:
    """Every enclosure of the referral, named and hashed: the case's documents (numbered
    from 02, the letter being 01) and its attachments, each checked against its SHA-256."""
    members = []
    for seq, (label, number, data, info) in enumerate(_documents(referral), start=2):
        members.append(
            Member(
                name=f"{DOCS_DIR}/{seq:02d}_{label}_{safe_name(number)}.docx",
                label=label,
                kind="document",
                size=len(data),
                sha256=_hash(data),
                data=data,
                info=info,
            )
        )
    for seq, (label, att, size) in enumerate(_attachments(referral), start=1):
        members.append(
            Member(
                name=f"{FILES_DIR}/{seq:02d}_{label}_{_attachment_file_name(att)}",
                label=label,
                kind="attachment",
                size=size,
                sha256=att.sha256,
                attachment=att,
                info={
                    "attachment": str(att.pk),
                    "original_name": att.original_name,
                    "content_type": att.content_type,
                    "caption": att.caption,
                    "uploaded_at": timezone.localtime(att.uploaded_at).isoformat(),
                    "uploaded_by": _person(att.uploaded_by),
                },
            )
        )
    return members


# -- the summary --------------------------------------------------------------------------------
def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    return value.isoformat()


def _person(user) -> str:
    return (user.full_name or user.username) if user else ""


def _acts(case: Case) -> list[dict]:
    acts: list[dict] = []
    for p in case.penalties.order_by("pk"):
        acts.append(
            {
                "kind": "penalty",
                "label": "行政处罚",
                "ref": p.ref,
                "status": p.status,
                "status_label": PENALTY_STATUS.get(p.status, p.status),
                "legal_basis": p.legal_basis,
                "facts": p.facts,
                "amount": f"{p.amount:.2f}",
                "amount_text": enf_docs.amount_text(p.amount),
                "notice_no": p.notice_no,
                "notified_on": _iso(p.notified_on),
                "statement": p.statement,
                "hearing_requested": p.hearing_requested,
                "approved_by": _person(p.approved_by),
                "approved_at": _iso(p.approved_at),
                "decision_no": p.decision_no,
                "decided_on": _iso(p.decided_on),
                "paid_on": _iso(p.paid_on),
            }
        )
    for letter in case.letters.order_by("pk"):
        acts.append(
            {
                "kind": "supervision_letter",
                "label": "督办函",
                "ref": letter.ref,
                "number": letter.number,
                "addressee": letter.addressee,
                "issued_on": _iso(letter.issued_on),
                "deadline": _iso(letter.deadline),
                "replied_on": _iso(letter.replied_on),
            }
        )
    for i in case.interviews.order_by("pk"):
        acts.append(
            {
                "kind": "interview",
                "label": "警示约谈",
                "ref": i.ref,
                "held_on": _iso(i.held_on),
                "follow_up_on": _iso(i.follow_up_on),
            }
        )
    for r in case.referrals.order_by("pk"):
        acts.append(
            {
                "kind": "referral",
                "label": "案件移送",
                "ref": r.ref,
                "number": r.number,
                "authority": r.authority,
                "status": r.status,
                "status_label": REFERRAL_STATUS.get(r.status, r.status),
                "approved_by": _person(r.approved_by),
                "approved_at": _iso(r.approved_at),
                "sent_on": _iso(r.sent_on),
                "result_on": _iso(r.result_on),
            }
        )
    return acts


def case_summary(referral: Referral) -> dict:
    """The referral, the party, the case with its hazard and inspection, its acts and its
    dated steps."""
    case = referral.case
    ent = case.enterprise
    hazard = case.hazard if case.hazard_id else None
    insp = enf_docs.case_inspection(case)
    return {
        "issuer": settings.SITE_NAME,
        "referral": {
            "ref": referral.ref,
            "number": referral.number,
            "authority": referral.authority,
            "reason": referral.reason,
            "approved_by": _person(referral.approved_by),
            "approved_at": _iso(referral.approved_at),
            "sent_on": _iso(referral.sent_on),
        },
        "enterprise": {
            "ref": ent.ref,
            "name": ent.name,
            "uscc": ent.uscc,
            "address": enf_docs.party_address(ent),
        },
        "case": {
            "ref": case.ref,
            "title": case.title,
            "source": case.source,
            "source_label": CASE_SOURCE.get(case.source, case.source),
            "opened_on": _iso(case.opened_on),
            "status": case.status,
            "status_label": CASE_STATUS.get(case.status, case.status),
            "closed_on": _iso(case.closed_on),
        },
        "hazard": None
        if hazard is None
        else {
            "ref": hazard.ref,
            "description": hazard.description,
            "level": hazard.level,
            "level_label": level_name(hazard.level),
            "legal_basis": hazard.legal_basis,
            "found_on": _iso(hazard.found_on),
            "status": hazard.status,
            "order_no": hazard.order.number if hazard.order else "",
        },
        "inspection": None
        if insp is None
        else {
            "ref": insp.ref,
            "date": _iso(insp.date),
            "record_no": insp.record_no,
            "status": insp.status,
            "self_inspection": insp.self_inspection,
            "inspectors": insp.inspector_names,
        },
        "acts": _acts(case),
        "timeline": [
            {
                "date": _iso(e.date),
                "what": e.what,
                "number": e.number,
                "detail": e.detail,
                "internal": e.internal,
            }
            for e in enf_docs.case_events(case)
        ],
    }


def _act_line(act: dict) -> str:
    if act["kind"] == "penalty":
        parts = [f"行政处罚：{act['amount_text']}，依据{act['legal_basis']}，{act['status_label']}"]
        if act["notice_no"]:
            parts.append(f"告知书{act['notice_no']}（{_cn(act['notified_on'])}送达）")
        if act["decision_no"]:
            parts.append(f"决定书{act['decision_no']}（{_cn(act['decided_on'])}作出）")
        if act["paid_on"]:
            parts.append(f"{_cn(act['paid_on'])}缴纳")
        return "；".join(parts)
    if act["kind"] == "supervision_letter":
        line = (
            f"督办函：{act['number']}，致{act['addressee'] or '—'}，"
            f"{_cn(act['issued_on'])}下发，要求于{_cn(act['deadline'])}前回复"
        )
        if act["replied_on"]:
            line += f"，{_cn(act['replied_on'])}已回复"
        return line
    if act["kind"] == "interview":
        return f"警示约谈：{_cn(act['held_on'])}"
    line = (
        f"案件移送：{act['number'] or '（未编号）'}，移送{act['authority']}，{act['status_label']}"
    )
    if act["sent_on"]:
        line += f"，{_cn(act['sent_on'])}移送"
    return line


def _cn(iso: str | None) -> str:
    return cn_date(datetime.date.fromisoformat(iso[:10])) if iso else ""


def directory_text(summary: dict, members: list[Member]) -> str:
    """目录.txt: the summary and the file list, for people."""
    ref, ent, case = summary["referral"], summary["enterprise"], summary["case"]
    lines = [
        summary["issuer"],
        "案件移送材料目录",
        "",
        f"移送书文号：{ref['number']}",
        f"接收机关：{ref['authority']}",
        f"移送日期：{_cn(ref['sent_on'])}",
        f"当事人：{ent['name']}",
        f"统一社会信用代码：{ent['uscc']}",
        f"地址：{ent['address']}",
        f"案件：{case['title']}（编号{case['ref']}，{case['source_label']}，"
        f"{_cn(case['opened_on'])}立案，{case['status_label']}）",
    ]
    if summary["inspection"]:
        insp = summary["inspection"]
        lines.append(
            f"检查：{_cn(insp['date'])}，{insp['record_no'] or '（无编号）'}，{insp['inspectors']}"
        )
    if summary["hazard"]:
        h = summary["hazard"]
        lines.append(
            f"隐患：{h['description']}（{h['level_label']}，{_cn(h['found_on'])}发现"
            + (f"，整改指令书{h['order_no']}" if h["order_no"] else "")
            + "）"
        )
    lines += ["", "移送理由及依据：", *summary["referral"]["reason"].splitlines()]

    lines += ["", "一、执法行为", ""]
    lines += [f"{i}. {_act_line(a)}" for i, a in enumerate(summary["acts"], start=1)] or ["无"]

    lines += ["", "二、执法过程", ""]
    for e in summary["timeline"]:
        text = f"{_cn(e['date'])}  {e['what']}"
        if e["number"]:
            text += f"  {e['number']}"
        lines.append(text)

    lines += [
        "",
        f"三、文件清单（共{len(members)}件；本目录和 {INDEX_JSON} 不在其内）",
        "",
    ]
    for i, m in enumerate(members, start=1):
        lines.append(f"{i}. {m.name}")
        note = m.label
        if m.info.get("caption"):
            note += f"（{m.info['caption']}）"
        if m.info.get("original_name"):
            note += f"，原文件名：{m.info['original_name']}"
        lines += [
            f"   说明：{note}",
            f"   大小：{m.size:,} 字节",
            f"   SHA-256：{m.sha256}",
        ]
    return "\ufeff" + "\r\n".join(lines) + "\r\n"


def index_data(summary: dict, members: list[Member], generated_at: datetime.datetime) -> dict:
    return {
        "format": FORMAT,
        "generated_at": _iso(generated_at),
        "summary": summary,
        "files": [m.entry() for m in members],
    }


# -- the archive --------------------------------------------------------------------------------
def _zinfo(name: str, stamp: datetime.datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
    stored = name.lower().endswith(_STORED)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _copy_attachment(zf: zipfile.ZipFile, m: Member, stamp: datetime.datetime) -> None:
    """Stream the stored file into the archive, checking it again on the way."""
    att = m.attachment
    digest, size = hashlib.sha256(), 0
    with zf.open(_zinfo(m.name, stamp), "w") as dst:
        for chunk in _read(att):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    if digest.hexdigest() != m.sha256 or size != m.size:
        raise _mismatch(att)


def write_referral_package(referral: Referral, out) -> list[Member]:
    """Write the package to ``out`` (a binary file object); return its members, the letter
    first. Raises ValueError before writing anything if the referral has not been sent or
    an attachment does not match its SHA-256."""
    referral = Referral.objects.select_related("case__enterprise", "approved_by").get(
        pk=referral.pk
    )
    if not referral.number or referral.sent_on is None:
        raise ValueError("The referral has not been sent (it has no number yet).")
    enclosed = case_file(referral)
    letter_data = enf_docs.render_referral(referral, [m.enclosure() for m in enclosed])
    letter = Member(
        name=letter_name(referral),
        label=enf_docs.REFERRAL_TITLE,
        kind="document",
        size=len(letter_data),
        sha256=_hash(letter_data),
        data=letter_data,
        info={"number": referral.number},
    )
    members = [letter, *enclosed]
    stamp = timezone.localtime()
    summary = case_summary(referral)
    index = json.dumps(index_data(summary, members, stamp), ensure_ascii=False, indent=2)
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(_zinfo(INDEX_TXT, stamp), directory_text(summary, members).encode())
        zf.writestr(_zinfo(INDEX_JSON, stamp), (index + "\n").encode())
        for m in members:
            if m.data is not None:
                zf.writestr(_zinfo(m.name, stamp), m.data)
            else:
                _copy_attachment(zf, m, stamp)
    return members


def build_referral_package(referral: Referral) -> bytes:
    """The whole case file of a sent referral as one .zip (see the module docstring)."""
    buf = io.BytesIO()
    write_referral_package(referral, buf)
    return buf.getvalue()
