import hashlib
import re
import secrets
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yingji.core.roles import CAPABILITIES, DISTRICT_WIDE, REGIONAL, Role

ref_validator = RegexValidator(r"^[^\s/]{1,64}$", _("A reference may not contain spaces or “/”."))


class RegionQuerySet(models.QuerySet):
    def visible_to(self, user) -> "RegionQuerySet":
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if not user.can("region.view"):
            return self.none()
        if user.role in REGIONAL:
            if user.region_id is None:
                return self.none()
            return self.filter(path__startswith=user.region.path)
        return self

    def subtree(self, region: "Region") -> "RegionQuerySet":
        return self.filter(path__startswith=region.path)


class Region(models.Model):
    """District → town (镇/街道) → village (村/社区), with a materialised path for subtrees."""

    class Level(models.TextChoices):
        DISTRICT = "district", _("District")
        TOWN = "town", _("Town / subdistrict")
        VILLAGE = "village", _("Village / community")

    PARENT_LEVEL = {Level.TOWN: Level.DISTRICT, Level.VILLAGE: Level.TOWN}

    ref = models.CharField(_("reference"), max_length=64, unique=True, validators=[ref_validator])
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    code = models.CharField(_("administrative code"), max_length=12, blank=True)
    path = models.CharField(max_length=400, db_index=True, editable=False)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.path = self.compute_path()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        expected = self.PARENT_LEVEL.get(self.level)
        if expected is None and self.parent_id:
            raise ValidationError({"parent": _("A district has no parent region.")})
        if expected is not None:
            if self.parent is None:
                raise ValidationError({"parent": _("This level needs a parent region.")})
            if self.parent.level != expected:
                raise ValidationError(
                    {
                        "parent": _("The parent of a %(level)s must be a %(parent)s.")
                        % {"level": self.get_level_display(), "parent": self.Level(expected).label}
                    }
                )

    def compute_path(self) -> str:
        return (self.parent.path if self.parent else "/") + self.ref + "/"

    @property
    def town(self) -> "Region | None":
        if self.level == self.Level.VILLAGE:
            return self.parent
        return self if self.level == self.Level.TOWN else None


class Department(models.Model):
    """A section of the bureau (科室)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    duties = models.TextField(_("duties"), blank=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.INSPECTOR)
    full_name = models.CharField(_("full name"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.SET_NULL
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("The town or village a town/village officer answers for."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username

    def clean(self) -> None:
        super().clean()
        if self.role in REGIONAL and self.region_id is None:
            raise ValidationError({"region": _("Town and village officers need a region.")})
        if self.role == Role.TOWN_OFFICER and self.region and self.region.level != "town":
            raise ValidationError({"region": _("A town officer's region must be a town.")})
        if self.role == Role.VILLAGE_OFFICER and self.region and self.region.level != "village":
            raise ValidationError({"region": _("A village officer's region must be a village.")})

    def can(self, capability: str) -> bool:
        if not self.is_active:
            return False
        return self.role in CAPABILITIES[capability]

    @property
    def district_wide(self) -> bool:
        return self.role in DISTRICT_WIDE


class AuditHead(models.Model):
    """The single row that holds the tip of the audit chain; locked to append."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"


class AuditEntry(models.Model):
    """One link of the hash chain: who changed which record, from what, to what."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        DELETE = "delete", _("Deleted")
        IMPORT = "import", _("Imported")
        VIEW = "view", _("Viewed")

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(_("actor"), max_length=150)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(_("record"), max_length=200)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["seq"]
        indexes = [models.Index(fields=["target_type", "target_id", "seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target_type}:{self.target_id}"

    NOTES = {
        "attachment": _("file uploaded"),
        "import": _("bulk import"),
        "account linked": _("account linked"),
        "reward proposed": _("reward proposed"),
        "reward approved": _("reward approved"),
        "reward paid": _("reward paid"),
        "reward claimed": _("reward claimed by the reporter"),
        "reward waived by the reporter": _("reward waived by the reporter"),
        "duplicate": _("linked as a duplicate"),
        "closed with its original": _("closed with its original"),
        "reporter identity viewed": _("reporter identity viewed"),
        "reporter": _("from the reporter"),
        "approved": _("approved"),
        "hearing": _("hearing"),
        "signed off": _("signed off"),
        "draw": _("planned by the draw"),
        "drawn": _("drawn"),
        "inputs published": _("inputs published"),
        "self-inspection": _("self-inspection"),
        "submitted for approval": _("submitted for approval"),
        "follow-up": _("followed up"),
        "ladder order": _("order of contacts changed"),
        "acknowledged (app)": _("acknowledged in the app"),
        "acknowledged (link)": _("acknowledged by the one-tap link"),
        "acknowledged (phone)": _("acknowledged by phone"),
        "acknowledged (import)": _("acknowledged (imported)"),
    }
    # Notes that carry a value: (pattern, translated text with the pattern's named groups).
    NOTE_PATTERNS = (
        (re.compile(r"issued to (?P<n>\d+) units"), _("issued to %(n)s units")),
        (
            re.compile(r"escalation stopped for (?P<n>\d+) units"),
            _("escalation stopped for %(n)s units"),
        ),
        (re.compile(r"sent back: (?P<r>.*)", re.S), _("sent back: %(r)s")),
        (re.compile(r"area: (?P<a>.*)", re.S), _("area: %(a)s")),
    )

    @property
    def note_display(self) -> str:
        if self.note in self.NOTES:
            return self.NOTES[self.note]
        for pattern, text in self.NOTE_PATTERNS:
            if match := pattern.fullmatch(self.note):
                return text % match.groupdict()
        return self.note

    def changes(self) -> list[tuple[str, object, object]]:
        """Fields whose values differ between before and after."""
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


def _upload_to(instance: "Attachment", filename: str) -> str:
    return f"attachments/{timezone.now():%Y/%m}/{instance.id.hex}"


class Attachment(models.Model):
    """A photo or PDF attached to a record, served only through a scope-checked view."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    owner_id = models.CharField(max_length=64)
    file = models.FileField(upload_to=_upload_to)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=64)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64, db_index=True)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at"]
        indexes = [models.Index(fields=["owner_type", "owner_id"])]

    def __str__(self) -> str:
        return self.original_name


class DocumentCounter(models.Model):
    """The last number issued for one document type in one year."""

    doc_type = models.CharField(max_length=32)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["doc_type", "year"], name="uniq_counter_type_year")
        ]

    def __str__(self) -> str:
        return f"{self.doc_type} {self.year}: {self.last}"


class IssuedNumber(models.Model):
    """Every document number ever issued, so uniqueness is also a database fact."""

    doc_type = models.CharField(max_length=32)
    year = models.PositiveSmallIntegerField()
    seq = models.PositiveIntegerField()
    text = models.CharField(max_length=64, unique=True)
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["doc_type", "year", "seq"], name="uniq_number")
        ]

    def __str__(self) -> str:
        return self.text


class Notification(models.Model):
    """The outbox: one message to one user through one channel."""

    class Channel(models.TextChoices):
        INAPP = "inapp", _("In-app")
        EMAIL = "email", _("Email")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        null=True,
        blank=True,
    )
    # For people without an account (a reporter who left an email): the address itself.
    address = models.CharField(max_length=254, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_due",
                condition=Q(status="pending"),
            ),
            models.Index(fields=["recipient", "channel", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.subject


class ApiToken(models.Model):
    """A bearer token for integrations; only its hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    audit_exclude = ("key_hash",)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def new_key() -> str:
        return "yj_" + secrets.token_urlsafe(32)


class LoginFailure(models.Model):
    """Failed logins, counted per username and per client address to throttle guessing."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.username} @ {self.ip}"


class ImportJob(models.Model):
    """An import started from the web page, run by the worker, followed on its page."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class WebhookDelivery(models.Model):
    """An outbound HTTP POST (hotline callbacks, group-robot messages), retried by the worker."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    url = models.URLField(max_length=500)
    payload = models.JSONField()
    purpose = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="webhook_due", condition=Q(status="pending")
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} → {self.url}"
