"""The Simplified Chinese catalog is complete, compiled and in sync, and the UI switches language."""

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

PO_PATH = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")\s*$')
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]")


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def msgid(self) -> str:
        return self.fields.get("msgid", "")

    @property
    def context(self) -> str | None:
        return self.fields.get("msgctxt")

    @property
    def plural(self) -> str | None:
        return self.fields.get("msgid_plural")

    @property
    def msgstrs(self) -> list[str]:
        if self.plural is None:
            return [self.fields.get("msgstr", "")]
        keys = sorted(
            (k for k in self.fields if k.startswith("msgstr[")), key=lambda k: int(k[7:-1])
        )
        return [self.fields[k] for k in keys]

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.context is None


def _unquote(text: str) -> str:
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """A small reader for the gettext .po format (entries separated by blank lines)."""
    entries: list[Entry] = []
    current: Entry | None = None
    key = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            current, key = None, None
            continue
        if current is None:
            current = Entry(line=number)
            entries.append(current)
        if line.startswith("#~"):
            current.obsolete = True
            continue
        if line.startswith("#,"):
            current.flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            assert key is not None, f"{path}:{number}: continuation without a keyword"
            current.fields[key] += _unquote(line)
            continue
        match = _KEYWORD.match(line)
        assert match, f"{path}:{number}: cannot parse {raw!r}"
        key = match.group(1)
        current.fields[key] = _unquote(match.group(2))
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    assert PO_PATH.exists(), f"missing {PO_PATH}: run makemessages"
    return parse_po(PO_PATH)


@pytest.fixture(scope="module")
def messages(entries) -> list[Entry]:
    return [e for e in entries if not e.is_header and not e.obsolete]


def test_the_header_declares_simplified_chinese(entries):
    header = entries[0]
    assert header.is_header
    assert "fuzzy" not in header.flags
    meta = dict(line.split(": ", 1) for line in header.fields["msgstr"].splitlines())
    assert meta["Language"] == "zh_Hans"
    assert meta["Content-Type"] == "text/plain; charset=UTF-8"
    assert meta["Plural-Forms"] == "nplurals=1; plural=0;"


def test_every_entry_is_translated_and_none_is_fuzzy(messages):
    assert len(messages) > 100
    untranslated = [e.msgid for e in messages if not all(s.strip() for s in e.msgstrs)]
    fuzzy = [e.msgid for e in messages if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []
    obsolete = [e.line for e in parse_po(PO_PATH) if e.obsolete]
    assert obsolete == [], "run makemessages with --no-obsolete"


def test_plurals_use_the_single_chinese_form(messages):
    for e in (e for e in messages if e.plural is not None):
        assert len(e.msgstrs) == 1, e.msgid


def test_placeholders_are_kept(messages):
    def names(text: str) -> list[str]:
        return sorted(m.group(0) for m in _PLACEHOLDER.finditer(text))

    for e in messages:
        expected = names(e.msgid)
        for msgstr in e.msgstrs:
            assert names(msgstr) == expected, (e.msgid, msgstr)


def test_the_compiled_catalog_matches_the_po_file(messages):
    assert MO_PATH.exists(), f"missing {MO_PATH}: run compilemessages"
    mismatched = []
    with translation.override("zh-hans"):
        for e in messages:
            if e.plural is not None:
                got = [
                    translation.npgettext(e.context, e.msgid, e.plural, n)
                    if e.context
                    else translation.ngettext(e.msgid, e.plural, n)
                    for n in (1, 2)
                ]
                want = [e.msgstrs[0]] * 2
            elif e.context is not None:
                got, want = translation.pgettext(e.context, e.msgid), e.msgstrs[0]
            else:
                got, want = translation.gettext(e.msgid), e.msgstrs[0]
            if got != want:
                mismatched.append((e.msgid, got, want))
    assert mismatched == [], "the .mo is stale: run compilemessages"


def test_translations_apply_to_lazy_labels():
    from yingji.core.roles import Role
    from yingji.enterprises.models import RiskGrade, Sector

    with translation.override("zh-hans"):
        assert str(Role.ENTERPRISE.label) == "企业安全管理员"
        assert str(Sector.HAZARDOUS_CHEMICALS.label) == "危险化学品"
        assert str(RiskGrade.RED.label) == "红色（重大）"
    with translation.override("en"):
        assert str(Sector.HAZARDOUS_CHEMICALS.label) == "Hazardous chemicals"


@pytest.mark.django_db
def test_the_login_page_is_in_chinese_by_default(client):
    html = client.get("/login/").content.decode()
    assert "登录" in html
    assert "Log in" not in html
    assert '<html lang="zh-hans">' in html


@pytest.mark.django_db
def test_a_chinese_browser_gets_chinese(client):
    html = client.get("/login/", headers={"accept-language": "zh-CN,zh;q=0.9"}).content.decode()
    assert "登录" in html


@pytest.mark.django_db
def test_accept_language_en_gives_english(client):
    html = client.get("/login/", headers={"accept-language": "en"}).content.decode()
    assert "Log in" in html
    assert "登录" not in html
    assert '<html lang="en">' in html


@pytest.mark.django_db
def test_the_language_cookie_wins(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/login/", headers={"accept-language": "zh-CN"}).content.decode()
    assert "Log in" in html
    assert "登录" not in html
