import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from PIL import Image

from yingji.core.models import Attachment, AuditEntry


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, format="PNG")
    return buf.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(client, ent, name, content, content_type="application/octet-stream"):
    f = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(
        f"/enterprises/{ent.pk}/upload/", {"file": f, "caption": "营业执照"}, follow=True
    )


def test_an_upload_is_typed_by_content_hashed_and_audited(world, login):
    client = login(world.inspector)
    data = png_bytes()
    # The name says PDF; the bytes say PNG, and the bytes win.
    upload(client, world.ent_a, "licence.pdf", data)
    att = Attachment.objects.get()
    assert att.content_type == "image/png"
    assert att.sha256 == hashlib.sha256(data).hexdigest()
    assert att.size == len(data)
    assert att.uploaded_by == world.inspector
    assert AuditEntry.objects.filter(note="attachment", target_id=str(world.ent_a.pk)).exists()
    page = client.get(f"/enterprises/{world.ent_a.pk}/").content.decode()
    assert "licence.pdf" in page


WRONG_TYPE = "Only JPEG, PNG or WebP photos and PDF files can be uploaded."


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("script.png", b"<script>alert(1)</script>", WRONG_TYPE),
        ("doc.pdf", b"MZ\x90\x00binary", WRONG_TYPE),
        ("empty.pdf", b"", "The submitted file is empty."),
    ],
)
def test_it_refuses_files_that_are_not_photos_or_pdf(world, login, name, content, message):
    response = upload(login(world.inspector), world.ent_a, name, content)
    assert not Attachment.objects.exists()
    assert [str(m) for m in response.context["messages"]] == [gettext(message)]


def test_it_refuses_oversize_files(world, login, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    response = upload(login(world.inspector), world.ent_a, "big.pdf", PDF + b"0" * 2000)
    assert not Attachment.objects.exists()
    (message,) = response.context["messages"]
    assert str(message) == gettext("The file is larger than %(max)s.") % {
        "max": filesizeformat(1000)
    }
    assert not (settings.MEDIA_ROOT / "attachments").exists()


def test_downloads_follow_the_owner_record_scope(world, login, client):
    login(world.inspector)
    upload(client, world.ent_a, "scan.pdf", PDF)
    att = Attachment.objects.get()
    url = f"/files/{att.pk}/"
    allowed = ["leader", "inspector", "town", "ent_a", "admin", "duty", "legal"]
    denied = ["ent_b", "village", "expert"]
    for name in allowed:
        client.force_login(world.users[name])
        response = client.get(url)
        assert response.status_code == 200, name
        assert b"".join(response.streaming_content) == PDF
    for name in denied:
        client.force_login(world.users[name])
        assert client.get(url).status_code == 404, name
    client.logout()
    assert client.get(url).status_code == 302


def test_enterprise_users_may_upload_to_their_own_enterprise_only(world, login):
    client = login(world.ent_user_a)
    upload(client, world.ent_a, "own.pdf", PDF)
    assert Attachment.objects.count() == 1
    assert (
        client.post(
            f"/enterprises/{world.ent_b.pk}/upload/", {"file": SimpleUploadedFile("x.pdf", PDF)}
        ).status_code
        == 404
    )
    assert Attachment.objects.count() == 1
