import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yingji.core.models import Region, ref_validator
from yingji.core.roles import DISTRICT_WIDE, REGIONAL, Role
from yingji.enterprises.validators import validate_phone, validate_uscc


class Sector(models.TextChoices):
    INDUSTRIAL_TRADE = "industrial_trade", _("Industry and trade")
    HAZARDOUS_CHEMICALS = "hazardous_chemicals", _("Hazardous chemicals")
    GAS_STATION = "gas_station", _("Gas station")
    CROWDED_PLACE = "crowded_place", _("Crowded place")
    CONSTRUCTION = "construction", _("Construction")
    OTHER = "other", _("Other")


class Feature(models.TextChoices):
    DUST_EXPLOSION = "dust_explosion", _("Combustible dust")
    CONFINED_SPACE = "confined_space", _("Confined space")
    HAZCHEM_STORAGE = "hazchem_storage", _("Hazardous chemicals storage")
    AMMONIA_REFRIGERATION = "ammonia_refrigeration", _("Ammonia refrigeration")
    HOT_WORK = "hot_work", _("Hot work")
    METAL_SMELTING = "metal_smelting", _("Metal smelting")
    GAS_USE = "gas_use", _("Industrial / catering gas use")
    INSULATION_MATERIAL = "insulation_material", _("Building insulation material")


class RiskGrade(models.TextChoices):
    RED = "red", _("Red (major)")
    ORANGE = "orange", _("Orange (high)")
    YELLOW = "yellow", _("Yellow (moderate)")
    BLUE = "blue", _("Blue (low)")


def new_ref() -> str:
    return "E-" + uuid.uuid4().hex[:12].upper()


class ScopedByEnterprise(models.QuerySet):
    """Records that follow their enterprise's scope, the rule every page, API and export uses.

    Subclasses say how to reach the enterprise (`enterprise_path`) and what experts see.
    """

    enterprise_path = "enterprise"

    def for_experts(self, user):
        return self.none()

    def visible_to(self, user):
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.role in DISTRICT_WIDE:
            return self
        prefix = f"{self.enterprise_path}__" if self.enterprise_path else ""
        if user.role in REGIONAL:
            if user.region_id is None:
                return self.none()
            return self.filter(**{f"{prefix}region__path__startswith": user.region.path})
        if user.role == Role.ENTERPRISE:
            return self.filter(**{f"{prefix}accounts__user": user})
        if user.role == Role.EXPERT:
            return self.for_experts(user)
        return self.none()


class EnterpriseQuerySet(ScopedByEnterprise):
    enterprise_path = ""  # the enterprise itself; experts see enterprises through inspections

    def editable_by(self, user) -> "EnterpriseQuerySet":
        if not user.can("enterprise.edit"):
            return self.none()
        return self.visible_to(user)

    def with_feature(self, feature: str) -> "EnterpriseQuerySet":
        return self.filter(features__contains=f",{feature},")

    def search(
        self,
        *,
        q: str = "",
        sector: str = "",
        feature: str = "",
        risk_grade: str = "",
        region: Region | None = None,
        status: str = "active",
    ) -> "EnterpriseQuerySet":
        """The registry's filters, shared by the list page, its exports and the API."""
        qs = self
        if q := q.strip():
            qs = qs.filter(Q(name__icontains=q) | Q(uscc__icontains=q.upper()))
        if sector:
            qs = qs.filter(sector=sector)
        if feature:
            qs = qs.with_feature(feature)
        if risk_grade:
            qs = qs.filter(risk_grade=risk_grade)
        if region is not None:
            qs = qs.filter(region__path__startswith=region.path)
        if status and status != "all":
            qs = qs.filter(status=status)
        return qs


class Enterprise(models.Model):
    """A production and business unit (生产经营单位)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    ref = models.CharField(
        _("reference"), max_length=64, unique=True, default=new_ref, validators=[ref_validator]
    )
    name = models.CharField(_("name"), max_length=200, db_index=True)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, db_index=True, validators=[validate_uscc]
    )
    sector = models.CharField(_("sector"), max_length=32, choices=Sector.choices)
    # Stored as ",a,b," so one LIKE finds a feature on SQLite and PostgreSQL alike.
    features = models.CharField(_("risk features"), max_length=400, blank=True, default="")
    region = models.ForeignKey(
        Region,
        verbose_name=_("town / village"),
        on_delete=models.PROTECT,
        related_name="enterprises",
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    risk_grade = models.CharField(
        _("risk grade"), max_length=16, choices=RiskGrade.choices, blank=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    standardized = models.BooleanField(_("standardisation completed"), default=False)
    contact_name = models.CharField(_("safety contact"), max_length=64, blank=True)
    contact_phone = models.CharField(
        _("contact phone"), max_length=32, blank=True, validators=[validate_phone]
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    objects = EnterpriseQuerySet.as_manager()

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["uscc"], condition=Q(status="active"), name="uniq_active_uscc"
            )
        ]
        indexes = [models.Index(fields=["sector", "status"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("enterprises-detail", args=[self.pk])

    def clean(self) -> None:
        errors = {}
        if self.uscc and self.status == self.Status.ACTIVE:
            clash = Enterprise.objects.filter(uscc=self.uscc, status=self.Status.ACTIVE)
            if clash.exclude(pk=self.pk).exists():
                errors["uscc"] = _(
                    "An active enterprise with this credit code is already registered."
                )
        if self.region_id and self.region.level == Region.Level.DISTRICT:
            errors["region"] = _("Choose the town or village where the enterprise is.")
        unknown = [f for f in self.feature_list if f not in Feature.values]
        if unknown:
            errors["features"] = _("Unknown risk feature: %(f)s") % {"f": ", ".join(unknown)}
        if errors:
            raise ValidationError(errors)

    @property
    def feature_list(self) -> list[str]:
        return [f for f in self.features.split(",") if f]

    @feature_list.setter
    def feature_list(self, values) -> None:
        # Known features in canonical order; unknown ones are kept so clean() can name them.
        given = list(dict.fromkeys(values))
        ordered = [f for f in Feature.values if f in given] + [
            f for f in given if f not in Feature.values
        ]
        self.features = ("," + ",".join(ordered) + ",") if ordered else ""

    def feature_labels(self) -> list[str]:
        labels = dict(Feature.choices)
        return [str(labels.get(f, f)) for f in self.feature_list]


class EnterpriseAccount(models.Model):
    """Links an enterprise user to the one enterprise they manage."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enterprise_account"
    )
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="accounts")

    def __str__(self) -> str:
        return f"{self.user} → {self.enterprise}"
