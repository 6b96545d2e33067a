"""The referral's case file as one .zip: every document and attachment, indexed and hashed."""

import datetime
import hashlib
import io
import json
import zipfile

import docx
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from yingji.core.attachments import attach, for_owner
from yingji.core.models import Attachment
from yingji.enforcement import services
from yingji.enforcement.package import (
    INDEX_JSON,
    INDEX_TXT,
    build_referral_package,
    safe_name,
    write_referral_package,
)
from yingji.enforcement.tests.test_documents import (
    AUTHORITY,
    PDF,
    REASON,
    SENT,
    all_text,
    build_case,
)
from yingji.hazards import services as hazard_services


@pytest.fixture
def built(world):
    return build_case(world)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def unzip(data: bytes) -> zipfile.ZipFile:
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert zf.testzip() is None
    return zf


EXPECTED_FILES = [
    ("文书/01_案件移送书_城应急移〔2026〕1号.docx", "案件移送书"),
    ("文书/02_现场检查记录_城应急检记〔2026〕1号.docx", "现场检查记录"),
    ("文书/03_责令限期整改指令书_城应急责改〔2026〕1号.docx", "责令限期整改指令书"),
    ("文书/04_行政处罚告知书_城应急罚告〔2026〕1号.docx", "行政处罚告知书"),
    ("文书/05_行政处罚决定书_城应急罚决〔2026〕1号.docx", "行政处罚决定书"),
    ("文书/06_督办函_城应急督〔2026〕1号.docx", "督办函"),
    ("附件/01_移送材料_询问笔录.pdf", "移送材料"),
    ("附件/02_隐患照片_灰斗积尘.png", "隐患照片"),
    ("附件/03_整改佐证照片_整改后.jpg", "整改佐证照片"),
]


def test_the_package_holds_the_whole_case_file_indexed_and_hashed(world, built):
    zf = unzip(build_referral_package(built.referral))
    names = zf.namelist()
    assert names == [INDEX_TXT, INDEX_JSON, *(name for name, _label in EXPECTED_FILES)]
    # Chinese names carry the zip's UTF-8 flag.
    assert all(info.flag_bits & 0x800 for info in zf.infolist() if not info.filename.isascii())

    index = json.loads(zf.read(INDEX_JSON))
    files = index["files"]
    # Every member but the two index files is listed once, in zip order, with its size and hash.
    assert [f["name"] for f in files] == names[2:]
    assert [(f["name"], f["label"]) for f in files] == EXPECTED_FILES
    for f in files:
        data = zf.read(f["name"])
        assert f["size"] == len(data) == zf.getinfo(f["name"]).file_size
        assert f["sha256"] == sha(data)

    # The attachments are the stored files (photos without their metadata), with the hashes
    # recorded at upload.
    assert zf.read("附件/01_移送材料_询问笔录.pdf") == PDF
    for member in ("附件/02_隐患照片_灰斗积尘.png", "附件/03_整改佐证照片_整改后.jpg"):
        stored = Attachment.objects.get(sha256=sha(zf.read(member)))
        assert stored.file.open("rb").read() == zf.read(member)
    pdf_entry = files[6]
    assert pdf_entry["sha256"] == built.pdf.sha256
    assert pdf_entry["original_name"] == "询问笔录.pdf"
    assert pdf_entry["caption"] == "询问笔录"
    assert pdf_entry["kind"] == "attachment" and files[0]["kind"] == "document"

    # The summary: the referral, the party, the case and its acts with dates and numbers.
    summary = index["summary"]
    assert summary["referral"]["number"] == "城应急移〔2026〕1号"
    assert summary["referral"]["authority"] == AUTHORITY
    assert summary["referral"]["sent_on"] == "2026-03-25"
    assert summary["enterprise"] == {
        "ref": "E-A",
        "name": world.ent_a.name,
        "uscc": world.ent_a.uscc,
        "address": "城中区人民街街道南关社区",
    }
    assert summary["case"]["ref"] == built.case.ref
    assert summary["hazard"]["order_no"] == "城应急责改〔2026〕1号"
    assert summary["inspection"]["record_no"] == "城应急检记〔2026〕1号"
    penalty, letter, referral = summary["acts"]
    assert penalty["kind"] == "penalty"
    assert (penalty["notice_no"], penalty["notified_on"]) == ("城应急罚告〔2026〕1号", "2026-03-10")
    assert (penalty["decision_no"], penalty["decided_on"]) == (
        "城应急罚决〔2026〕1号",
        "2026-03-16",
    )
    assert penalty["amount"] == "92750.00"
    assert penalty["amount_text"] == "人民币玖万贰仟柒佰伍拾元整（¥92,750.00）"
    assert penalty["approved_by"] == "leader"
    assert (letter["number"], letter["issued_on"]) == ("城应急督〔2026〕1号", "2026-03-10")
    assert (referral["number"], referral["sent_on"]) == ("城应急移〔2026〕1号", "2026-03-25")
    timeline = summary["timeline"]
    assert [t["date"] for t in timeline] == sorted(t["date"] for t in timeline)
    assert {t["number"] for t in timeline if t["number"]} == {
        "城应急检记〔2026〕1号",
        "城应急责改〔2026〕1号",
        "城应急罚告〔2026〕1号",
        "城应急罚决〔2026〕1号",
        "城应急督〔2026〕1号",
        "城应急移〔2026〕1号",
    }

    # 目录.txt says the same for people: UTF-8 with a BOM and CRLF, for Windows Notepad.
    raw = zf.read(INDEX_TXT)
    assert raw.startswith("\ufeff".encode()) and b"\r\n" in raw
    txt = raw.decode("utf-8-sig")
    for expected in (
        "案件移送材料目录",
        "移送书文号：城应急移〔2026〕1号",
        f"接收机关：{AUTHORITY}",
        f"当事人：{world.ent_a.name}",
        f"统一社会信用代码：{world.ent_a.uscc}",
        REASON,
        "告知书城应急罚告〔2026〕1号（2026年3月10日送达）",
        "决定书城应急罚决〔2026〕1号（2026年3月16日作出）",
        "人民币玖万贰仟柒佰伍拾元整（¥92,750.00）",
        "督办函：城应急督〔2026〕1号",
        "2026年3月16日  作出《行政处罚决定书》  城应急罚决〔2026〕1号",
        "文件清单（共9件",
    ):
        assert expected in txt, expected
    for f in files:
        assert f["name"] in txt
        assert f"SHA-256：{f['sha256']}" in txt
        assert f"大小：{f['size']:,} 字节" in txt


def test_the_letter_in_the_package_vouches_for_every_enclosure(built):
    zf = unzip(build_referral_package(built.referral))
    files = json.loads(zf.read(INDEX_JSON))["files"]
    letter = files[0]
    assert letter["label"] == "案件移送书" and letter["number"] == "城应急移〔2026〕1号"
    text = all_text(docx.Document(io.BytesIO(zf.read(letter["name"]))))
    assert "城应急移〔2026〕1号" in text and "青海甲工贸有限公司" in text
    assert f"随本移送书移送案件材料共{len(files) - 1}件" in text
    for f in files[1:]:
        assert f["name"] in text
        assert f["sha256"] in text  # the hash of the very file in the zip
    # The documents inside are the case's own.
    decision = all_text(docx.Document(io.BytesIO(zf.read(files[4]["name"]))))
    assert "城应急罚决〔2026〕1号" in decision
    assert "罚款人民币玖万贰仟柒佰伍拾元整（¥92,750.00）" in decision


def test_the_file_order_is_fixed(built):
    first = unzip(build_referral_package(built.referral))
    again = unzip(build_referral_package(built.referral))
    assert first.namelist() == again.namelist()
    one, two = (json.loads(z.read(INDEX_JSON)) for z in (first, again))
    assert one["summary"] == two["summary"]
    # Attachments are byte for byte the same; generated .docx differ only in zip timestamps.
    assert [f["sha256"] for f in one["files"] if f["kind"] == "attachment"] == [
        f["sha256"] for f in two["files"] if f["kind"] == "attachment"
    ]


def test_writing_to_an_unseekable_stream(built):
    class Sink(io.RawIOBase):
        def __init__(self):
            self.buf = bytearray()

        def writable(self):
            return True

        def write(self, b):
            self.buf += b
            return len(b)

    sink = Sink()
    members = write_referral_package(built.referral, sink)
    zf = unzip(bytes(sink.buf))
    assert zf.namelist()[2:] == [m.name for m in members]


def test_a_tampered_attachment_refuses_the_package(built):
    att = for_owner(built.hazard).get()
    path = att.file.path
    with open(path, "rb") as f:
        original = f.read()
    # Same size, one byte changed.
    with open(path, "wb") as f:
        f.write(original[:-1] + bytes([original[-1] ^ 0xFF]))
    with pytest.raises(ValueError, match="SHA-256"):
        build_referral_package(built.referral)
    with open(path, "wb") as f:
        f.write(original)
    build_referral_package(built.referral)  # restored: accepted again


def test_a_tampered_referral_document_refuses_the_package(built):
    with open(built.pdf.file.path, "wb") as f:
        f.write(PDF + b"% appended\n")
    with pytest.raises(ValueError, match="SHA-256"):
        build_referral_package(built.referral)


def test_a_missing_file_refuses_the_package(built):
    att = for_owner(built.evidence).get()
    att.file.storage.delete(att.file.name)
    with pytest.raises(ValueError, match="missing"):
        build_referral_package(built.referral)


def test_only_a_sent_referral_has_a_package(world, built):
    with time_machine.travel(SENT, tick=False):
        draft = services.draft_referral(
            built.case, by=world.inspector, authority=AUTHORITY, reason=REASON
        )
    with pytest.raises(ValueError):
        build_referral_package(draft)


@pytest.mark.parametrize(
    "raw, safe",
    [
        ("询问笔录", "询问笔录"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ('a:b*c?"d<e>f|g', "a_b_c_d_e_f_g"),
        ("..", "file"),
        ("", "file"),
        ("x" * 100, "x" * 60),
    ],
)
def test_safe_names(raw, safe):
    assert safe_name(raw) == safe


def test_re_inspections_of_the_hazard_are_in_the_package(world, built):
    with time_machine.travel(SENT, tick=False):
        hazard_services.reinspect(
            built.hazard,
            by=world.inspector,
            passed=False,
            opinion="灰斗仍有积尘。",
            new_deadline=datetime.date(2026, 4, 10),
        )
    zf = unzip(build_referral_package(built.referral))
    files = json.loads(zf.read(INDEX_JSON))["files"]
    assert [f["label"] for f in files[:4]] == [
        "案件移送书",
        "现场检查记录",
        "责令限期整改指令书",
        "整改复查意见书",
    ]
    assert files[3]["name"] == "文书/04_整改复查意见书_城应急复查〔2026〕1号.docx"
    assert "灰斗仍有积尘。" in all_text(docx.Document(io.BytesIO(zf.read(files[3]["name"]))))


def test_a_direct_case_has_the_letter_and_the_referral_files_only(world):
    with time_machine.travel(SENT, tick=False):
        case = services.open_case(
            by=world.inspector, enterprise=world.ent_b, title="涉嫌非法储存危险化学品"
        )
        referral = services.draft_referral(
            case,
            by=world.inspector,
            authority="西宁市公安局城中分局",
            reason="涉嫌犯罪，依法移送。",
        )
        attach(referral, SimpleUploadedFile("scan", PDF), by=world.inspector)
        services.approve_referral(referral, by=world.leader)
        referral = services.send_referral(referral, by=world.inspector)
    zf = unzip(build_referral_package(referral))
    assert zf.namelist() == [
        INDEX_TXT,
        INDEX_JSON,
        "文书/01_案件移送书_城应急移〔2026〕1号.docx",
        "附件/01_移送材料_scan.pdf",  # the extension follows the content
    ]
    index = json.loads(zf.read(INDEX_JSON))
    assert index["summary"]["hazard"] is None and index["summary"]["inspection"] is None
    assert index["summary"]["enterprise"]["name"] == world.ent_b.name
    text = all_text(docx.Document(io.BytesIO(zf.read(zf.namelist()[2]))))
    for expected in (
        "西宁市公安局城中分局：",
        "青海乙化工有限公司“涉嫌非法储存危险化学品”一案，系本局在安全生产执法中发现。",
        "涉嫌犯罪，依法移送。",
        "2026年3月25日，立案，案由：涉嫌非法储存危险化学品。",
        "附件/01_移送材料_scan.pdf",
    ):
        assert expected in text, expected
