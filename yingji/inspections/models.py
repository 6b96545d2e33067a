import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yingji.core.models import Region, ref_validator
from yingji.enterprises.models import Enterprise, Feature, ScopedByEnterprise, Sector


class Mode(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    CAMPAIGN = "campaign", _("Special campaign")
    DOUBLE_RANDOM = "double_random", _("Double-random")
    EXPERT = "expert", _("Expert hazard check")
    JOINT = "joint", _("Joint")
    CROSS = "cross", _("Cross")
    GRID = "grid", _("Grid")
    NIGHT = "night", _("Night surprise")


def new_ref() -> str:
    return "I-" + uuid.uuid4().hex[:12].upper()


class Scope(models.Model):
    """Which enterprises a target or campaign covers: blank fields match everything."""

    sector = models.CharField(_("sector"), max_length=32, choices=Sector.choices, blank=True)
    feature = models.CharField(
        _("risk feature"), max_length=32, choices=Feature.choices, blank=True
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        abstract = True

    def enterprises(self):
        qs = Enterprise.objects.filter(status=Enterprise.Status.ACTIVE)
        if self.sector:
            qs = qs.filter(sector=self.sector)
        if self.feature:
            qs = qs.with_feature(self.feature)
        if self.region_id:
            qs = qs.filter(region__path__startswith=self.region.path)
        return qs

    def scope_label(self) -> str:
        parts = [
            str(self.get_sector_display()) if self.sector else "",
            str(self.get_feature_display()) if self.feature else "",
            self.region.name if self.region_id else "",
        ]
        return " · ".join(p for p in parts if p) or str(_("All enterprises"))


class Plan(models.Model):
    """The year's inspection plan (年度检查计划)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("inspection plan")
        verbose_name_plural = _("inspection plans")
        ordering = ["-year", "title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("inspections-plan", args=[self.pk])


class PlanTarget(Scope):
    """A target of the plan, e.g. every hazardous-chemicals enterprise twice a year."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="targets")
    title = models.CharField(_("title"), max_length=200)
    times = models.PositiveSmallIntegerField(_("inspections per enterprise per year"), default=1)

    class Meta:
        verbose_name = _("plan target")
        verbose_name_plural = _("plan targets")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.times < 1 or self.times > 52:
            raise ValidationError({"times": _("Give a number from 1 to 52.")})

    def progress(self) -> dict:
        """Enterprises in scope, and those inspected at least `times` times this year."""
        year = self.plan.year
        qs = self.enterprises().annotate(
            n=Count(
                "inspections",
                filter=Q(
                    inspections__status="completed",
                    inspections__date__year=year,
                    # The bureau's own visits count; an enterprise checking itself does not.
                    inspections__self_inspection=False,
                ),
            )
        )
        total = qs.count()
        done = qs.filter(n__gte=self.times).count()
        return {
            "total": total,
            "done": done,
            "percent": round(done * 100 / total) if total else 100,
        }


class Campaign(Scope):
    """A special campaign (专项行动) with its own scope and period."""

    title = models.CharField(_("title"), max_length=200)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("special campaign")
        verbose_name_plural = _("special campaigns")
        ordering = ["-start"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("inspections-campaign", args=[self.pk])

    def clean(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": _("The end cannot be before the start.")})

    def progress(self) -> dict:
        total = self.enterprises().count()
        done = (
            self.enterprises()
            .filter(inspections__campaign=self, inspections__status="completed")
            .distinct()
            .count()
        )
        return {
            "total": total,
            "done": done,
            "percent": round(done * 100 / total) if total else 100,
        }


class ChecklistTemplate(models.Model):
    """A checklist (检查表) for a sector or risk feature; its items live in versions."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    sector = models.CharField(_("sector"), max_length=32, choices=Sector.choices, blank=True)
    feature = models.CharField(
        _("risk feature"), max_length=32, choices=Feature.choices, blank=True
    )

    class Meta:
        verbose_name = _("checklist")
        verbose_name_plural = _("checklists")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def current(self) -> "ChecklistVersion | None":
        return self.versions.order_by("-version").first()


class ChecklistVersion(models.Model):
    """One frozen version of a checklist; inspections point at the version they used."""

    template = models.ForeignKey(
        ChecklistTemplate, on_delete=models.PROTECT, related_name="versions"
    )
    version = models.PositiveSmallIntegerField(_("version"))
    # [{"code": "1.1", "text": "…", "basis": "《安全生产法》第…条"}, …]
    items = models.JSONField(_("items"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["template", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["template", "version"], name="uniq_checklist_version")
        ]

    def __str__(self) -> str:
        return f"{self.template.name} v{self.version}"


class Draw(models.Model):
    """A double-random draw (双随机抽查): inputs frozen and published, then drawn."""

    class Status(models.TextChoices):
        PREPARED = "prepared", _("Prepared")
        PUBLISHED = "published", _("Inputs published")
        DRAWN = "drawn", _("Drawn")

    title = models.CharField(_("title"), max_length=200)
    year = models.PositiveSmallIntegerField(_("year"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PREPARED
    )
    criteria = models.JSONField(_("candidate filter"), default=dict, blank=True)
    candidates = models.JSONField(default=list, blank=True)  # enterprise refs, sorted
    pool = models.JSONField(default=list, blank=True)  # inspector usernames, sorted
    conflicts = models.JSONField(default=dict, blank=True)  # username → [enterprise refs]
    n = models.PositiveIntegerField(_("enterprises to draw"))
    per_enterprise = models.PositiveSmallIntegerField(_("inspectors per enterprise"), default=2)
    seed = models.CharField(_("seed"), max_length=200, blank=True)
    inputs_digest = models.CharField(max_length=64, blank=True)
    published_at = models.DateTimeField(_("inputs published at"), null=True, blank=True)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)
    result = models.JSONField(default=list, blank=True)  # [[ref, [usernames]], …]
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="redraws"
    )
    reason = models.TextField(_("reason for the redraw"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("double-random draw")
        verbose_name_plural = _("double-random draws")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("inspections-draw", args=[self.pk])

    def inputs(self):
        from yingji.lib.draw import Inputs

        return Inputs(
            seed=self.seed,
            candidates=tuple(self.candidates),
            pool=tuple(self.pool),
            conflicts=self.conflicts,
            n=self.n,
            per_enterprise=self.per_enterprise,
        )


class InspectorConflict(models.Model):
    """An inspector who must never be drawn for an enterprise (回避)."""

    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conflicts"
    )
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["inspector", "enterprise"], name="uniq_conflict")
        ]

    def __str__(self) -> str:
        return f"{self.inspector} × {self.enterprise}"


class InspectionQuerySet(ScopedByEnterprise):
    def for_experts(self, user):
        return self.filter(experts=user)


class Inspection(models.Model):
    """One visit to one enterprise (家次)."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")

    ref = models.CharField(
        _("reference"), max_length=64, unique=True, default=new_ref, validators=[ref_validator]
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        related_name="inspections",
    )
    date = models.DateField(_("date"))
    mode = models.CharField(_("mode"), max_length=20, choices=Mode.choices, default=Mode.ROUTINE)
    onsite = models.BooleanField(_("on-site check"), default=True)
    ledger = models.BooleanField(_("ledger review"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PLANNED
    )
    self_inspection = models.BooleanField(_("enterprise self-inspection"), default=False)
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="inspections",
        verbose_name=_("inspectors"),
    )
    inspector_names = models.CharField(_("inspectors (names)"), max_length=300, blank=True)
    experts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="expert_inspections",
        verbose_name=_("experts"),
    )
    plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.SET_NULL, related_name="inspections"
    )
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inspections",
        verbose_name=_("campaign"),
    )
    draw = models.ForeignKey(
        Draw, null=True, blank=True, on_delete=models.SET_NULL, related_name="inspections"
    )
    checklist = models.ForeignKey(
        ChecklistVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        verbose_name=_("checklist"),
    )
    answers = models.JSONField(default=dict, blank=True)  # item code → ok / hazard / na
    summary = models.TextField(_("summary"), blank=True)
    record_no = models.CharField(_("record number"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = InspectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-date", "-pk"]
        indexes = [
            models.Index(fields=["status", "date"]),
            models.Index(fields=["enterprise", "date"]),
            # The lists' order: newest first.
            models.Index(fields=["-date", "-id"], name="inspection_newest"),
            # The statistics: a year's completed inspections per enterprise from the index.
            models.Index(fields=["status", "enterprise", "date"], name="inspection_stats"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise.name} {self.date:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("inspections-detail", args=[self.pk])

    def methods_display(self) -> str:
        parts = [
            str(_("on-site check")) if self.onsite else "",
            str(_("ledger review")) if self.ledger else "",
        ]
        return " + ".join(p for p in parts if p)
