import datetime
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yingji.core.models import ref_validator
from yingji.enterprises.models import Enterprise, ScopedByEnterprise
from yingji.inspections.models import Inspection


def new_ref() -> str:
    return "H-" + uuid.uuid4().hex[:12].upper()


def today() -> datetime.date:
    return timezone.localdate()


class Category(models.TextChoices):
    EQUIPMENT = "equipment", _("Equipment and facilities")
    MANAGEMENT = "management", _("Safety management")
    ENVIRONMENT = "environment", _("Workplace environment")
    OPERATION = "operation", _("Unsafe operation")
    FIRE = "fire", _("Fire safety")
    ELECTRICAL = "electrical", _("Electrical safety")
    HAZCHEM = "hazchem", _("Hazardous chemicals")
    OTHER = "other", _("Other")


class HazardQuerySet(ScopedByEnterprise):
    def for_experts(self, user):
        return self.filter(inspection__experts=user)

    def overdue(self, on: datetime.date | None = None) -> "HazardQuerySet":
        """Not closed and past the deadline on the given day (derived, never stored)."""
        on = on or today()
        # An IN over the open states (not an exclude) lets the (status, deadline) index serve.
        return self.filter(status__in=Hazard.OPEN_STATES, deadline__lt=on)

    def due_within(self, days: int, on: datetime.date | None = None) -> "HazardQuerySet":
        on = on or today()
        return self.exclude(status=Hazard.Status.CLOSED).filter(
            deadline__gte=on, deadline__lte=on + datetime.timedelta(days=days)
        )


class Hazard(models.Model):
    """A hazard (隐患) and its place in the rectification loop."""

    class Level(models.TextChoices):
        GENERAL = "general", _("General")
        MAJOR = "major", _("Major")

    class Status(models.TextChoices):
        REPORTED = "reported", _("Reported")
        OPEN = "open", _("Rectifying")
        SUBMITTED = "submitted", _("Evidence submitted")
        CLOSED = "closed", pgettext_lazy("hazard status", "Closed")

    class Source(models.TextChoices):
        INSPECTION = "inspection", _("Inspection")
        SELF_REPORT = "self_report", _("Enterprise self-report")
        TIP = "tip", _("Public tip")
        IMPORT = "import", _("Imported")

    OPEN_STATES = ("reported", "open", "submitted")

    ref = models.CharField(
        _("reference"), max_length=64, unique=True, default=new_ref, validators=[ref_validator]
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="hazards"
    )
    inspection = models.ForeignKey(
        Inspection,
        verbose_name=_("inspection"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hazards",
    )
    found_on = models.DateField(_("found on"))
    level = models.CharField(
        _("level"), max_length=16, choices=Level.choices, default=Level.GENERAL
    )
    category = models.CharField(
        _("category"), max_length=20, choices=Category.choices, default=Category.OTHER
    )
    description = models.TextField(_("description"))
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REPORTED
    )
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.INSPECTION
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    order = models.ForeignKey(
        "RectificationOrder",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hazards",
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responsible_hazards",
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Major hazards: leader sign-off and listed supervision (挂牌督办).
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    supervised = models.BooleanField(_("listed for supervision"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = HazardQuerySet.as_manager()

    class Meta:
        verbose_name = _("hazard")
        verbose_name_plural = _("hazards")
        ordering = ["-found_on", "-pk"]
        indexes = [
            models.Index(fields=["found_on"]),
            models.Index(fields=["status", "deadline"]),
            models.Index(fields=["enterprise", "found_on"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="closed", closed_on__isnull=False) | ~Q(status="closed"),
                name="closed_hazard_has_date",
            )
        ]

    def __str__(self) -> str:
        return f"{self.enterprise.name}: {self.description[:40]}"

    def get_absolute_url(self) -> str:
        return reverse("hazards-detail", args=[self.pk])

    @property
    def is_overdue(self) -> bool:
        return (
            self.status != self.Status.CLOSED
            and self.deadline is not None
            and (self.deadline < today())
        )


class ThroughHazardQuerySet(models.QuerySet):
    """Orders and re-inspections are visible to whoever may see their hazards."""

    hazard_path = "hazards"

    def visible_to(self, user):
        return self.filter(
            **{f"{self.hazard_path}__in": Hazard.objects.visible_to(user)}
        ).distinct()


class ReinspectionQuerySet(ThroughHazardQuerySet):
    hazard_path = "hazard"


class RectificationOrder(models.Model):
    """责令限期整改指令书: one numbered order covering one or more hazards."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="orders")
    inspection = models.ForeignKey(
        Inspection, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    number = models.CharField(_("document number"), max_length=64, unique=True)
    issued_on = models.DateField(_("issued on"))
    deadline = models.DateField(_("deadline"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requirements = models.TextField(_("requirements"), blank=True)

    objects = ThroughHazardQuerySet.as_manager()

    class Meta:
        verbose_name = _("rectification order")
        verbose_name_plural = _("rectification orders")
        ordering = ["-issued_on", "-pk"]

    def __str__(self) -> str:
        return self.number


class Evidence(models.Model):
    """What the enterprise submits to show a hazard is fixed (photos in attachments)."""

    hazard = models.ForeignKey(Hazard, on_delete=models.CASCADE, related_name="evidence")
    note = models.TextField(_("description of the rectification"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)

    objects = ReinspectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("rectification evidence")
        verbose_name_plural = _("rectification evidence")
        ordering = ["submitted_at"]

    def __str__(self) -> str:
        return f"{self.hazard_id}: {self.note[:40]}"


class Reinspection(models.Model):
    """复查: passed closes the hazard (销号); failed reopens it with a new deadline."""

    hazard = models.ForeignKey(Hazard, on_delete=models.CASCADE, related_name="reinspections")
    date = models.DateField(_("date"))
    passed = models.BooleanField(_("passed"))
    opinion = models.TextField(_("opinion"))
    new_deadline = models.DateField(_("new deadline"), null=True, blank=True)
    number = models.CharField(_("document number"), max_length=64, unique=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ReinspectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("re-inspection")
        verbose_name_plural = _("re-inspections")
        ordering = ["date", "pk"]

    def __str__(self) -> str:
        return self.number


class Reminder(models.Model):
    """A deadline reminder sent once per hazard, kind and deadline (so restarts never repeat)."""

    hazard = models.ForeignKey(Hazard, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)  # "before" or "due"
    deadline = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hazard", "kind", "deadline"], name="uniq_reminder")
        ]

    def __str__(self) -> str:
        return f"{self.hazard_id} {self.kind} {self.deadline}"
