"""Uploads: type from the content (not the name), size limit, SHA-256, scoped download."""

import hashlib

import filetype
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from yingji.core import audit
from yingji.core.models import Attachment

ALLOWED_TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/pdf": "pdf",
}


def sniff(uploaded) -> str:
    """Return the MIME type read from the file's first bytes, or raise ValidationError."""
    uploaded.seek(0)
    head = uploaded.read(8192)
    uploaded.seek(0)
    kind = filetype.guess(head)
    mime = kind.mime if kind else None
    if mime not in ALLOWED_TYPES:
        raise ValidationError(
            _("Only JPEG, PNG or WebP photos and PDF files can be uploaded."), code="type"
        )
    return mime


def validate_upload(uploaded) -> str:
    if uploaded.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if uploaded.size > settings.UPLOAD_MAX_BYTES:
        raise ValidationError(
            _("The file is larger than %(max)s.")
            % {"max": filesizeformat(settings.UPLOAD_MAX_BYTES)},
            code="size",
        )
    return sniff(uploaded)


def strip_metadata(uploaded, mime: str):
    """Re-encode a photo without its EXIF/XMP (GPS position, device), keeping its orientation.

    Nobody inside the bureau should learn where a reporter stood from a photo's metadata.
    """
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image, ImageOps

    uploaded.seek(0)
    try:
        with Image.open(uploaded) as img:
            rotated = ImageOps.exif_transpose(img)
            fmt = img.format
            out = io.BytesIO()
            options = {}
            if fmt == "JPEG":
                # Keep the original quantisation unless the pixels had to be rotated.
                options["quality"] = "keep" if rotated is img else 90
            rotated.save(out, format=fmt, **options)
    except Exception:
        raise ValidationError(_("The photo could not be read."), code="image") from None
    return SimpleUploadedFile(uploaded.name or "photo", out.getvalue(), content_type=mime)


def prepare(uploaded):
    """Check an upload and strip a photo's metadata, before anything is written."""
    if getattr(uploaded, "yingji_mime", None):
        return uploaded
    mime = validate_upload(uploaded)
    if mime.startswith("image/"):
        uploaded = strip_metadata(uploaded, mime)
    uploaded.yingji_mime = mime
    return uploaded


def prepare_all(files) -> list:
    """Prepare every upload of an act first, so a bad one leaves no file of the others."""
    return [prepare(f) for f in files]


def attach(owner: models.Model, uploaded, *, by, caption: str = "") -> Attachment:
    """Store an upload against a record (one act: file, row and audit entry)."""
    uploaded = prepare(uploaded)
    mime = uploaded.yingji_mime
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    with transaction.atomic():
        att = Attachment(
            owner_type=ContentType.objects.get_for_model(owner),
            owner_id=str(owner.pk),
            original_name=(uploaded.name or "file")[:255],
            content_type=mime,
            size=uploaded.size,
            sha256=digest.hexdigest(),
            caption=caption[:200],
            uploaded_by=by,
        )
        att.file.save(f"{att.id.hex}.{ALLOWED_TYPES[mime]}", uploaded, save=False)
        try:
            att.save()
            audit.record(
                audit.AuditEntry.Action.CREATE,
                owner,
                actor=by,
                after={
                    "attachment": str(att.id),
                    "name": att.original_name,
                    "sha256": att.sha256,
                    "size": att.size,
                    "type": mime,
                },
                note="attachment",
            )
        except Exception:
            att.file.delete(save=False)  # no row, no file
            raise
    return att


def for_owner(owner: models.Model):
    return Attachment.objects.filter(
        owner_type=ContentType.objects.get_for_model(owner), owner_id=str(owner.pk)
    ).select_related("uploaded_by")


def owner_visible(att: Attachment, user) -> models.Model | None:
    """The attachment's record if the user may see it (through its scope queryset)."""
    model = att.owner_type.model_class()
    manager = model._default_manager
    if not hasattr(manager, "visible_to"):
        return None
    return manager.visible_to(user).filter(pk=att.owner_id).first()
