import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yingji.core.models import ref_validator
from yingji.enterprises.models import Enterprise, ScopedByEnterprise
from yingji.hazards.models import Hazard
from yingji.inspections.models import Inspection


def new_ref() -> str:
    return "C-" + uuid.uuid4().hex[:12].upper()


def act_ref() -> str:
    return "A-" + uuid.uuid4().hex[:12].upper()


class EnterpriseScopedQuerySet(ScopedByEnterprise):
    """Enforcement records follow their enterprise's scope; experts see none."""


class ActQuerySet(EnterpriseScopedQuerySet):
    enterprise_path = "case__enterprise"


class Case(models.Model):
    """An enforcement case (执法案件) against one enterprise: its acts make the timeline."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", pgettext_lazy("case status", "Closed")

    class Source(models.TextChoices):
        HAZARD = "hazard", _("Hazard")
        INSPECTION = "inspection", _("Inspection")
        TIP = "tip", _("Public tip")
        DIRECT = "direct", _("Direct")

    ref = models.CharField(
        _("reference"), max_length=64, unique=True, default=new_ref, validators=[ref_validator]
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="cases"
    )
    title = models.CharField(_("title"), max_length=200)
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.DIRECT
    )
    hazard = models.ForeignKey(
        Hazard,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("hazard"),
    )
    inspection = models.ForeignKey(
        Inspection,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("inspection"),
    )
    opened_on = models.DateField(_("opened on"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    closed_on = models.DateField(pgettext_lazy("case", "closed on"), null=True, blank=True)
    closing_note = models.TextField(_("closing note"), blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = EnterpriseScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("enforcement case")
        verbose_name_plural = _("enforcement cases")
        ordering = ["-opened_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.enterprise.name}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("enforcement-case", args=[self.pk])

    def trigger_date(self):
        """Acts cannot be dated before the finding that triggered the case."""
        if self.hazard_id:
            return self.hazard.found_on
        if self.inspection_id:
            return self.inspection.date
        return self.opened_on


class Approval(models.Model):
    """Fields for acts a leader must approve before they are issued."""

    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def approved(self) -> bool:
        return self.approved_at is not None


class Penalty(Approval):
    """行政处罚: notice (告知) → statement/hearing → leader approval → decision → payment."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        NOTIFIED = "notified", _("Notice served")
        DECIDED = "decided", _("Decided")
        PAID = "paid", _("Paid")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    ref = models.CharField(
        _("reference"), max_length=64, unique=True, default=act_ref, validators=[ref_validator]
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="penalties")
    legal_basis = models.CharField(_("legal basis"), max_length=300)
    facts = models.TextField(_("facts"))
    amount = models.DecimalField(
        _("amount (yuan)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    notice_no = models.CharField(_("notice number"), max_length=64, blank=True)
    notified_on = models.DateField(_("notice served on"), null=True, blank=True)
    statement = models.TextField(_("statement of the party (陈述申辩)"), blank=True)
    hearing_requested = models.BooleanField(_("hearing requested"), default=False)
    hearing_held_on = models.DateField(_("hearing held on"), null=True, blank=True)
    hearing_summary = models.TextField(_("hearing record"), blank=True)
    decision_no = models.CharField(_("decision number"), max_length=64, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ActQuerySet.as_manager()

    class Meta:
        verbose_name = _("administrative penalty")
        verbose_name_plural = _("administrative penalties")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.decision_no or self.notice_no or str(_("Penalty (draft)"))

    @property
    def resolved(self) -> bool:
        return self.status in (self.Status.PAID, self.Status.WITHDRAWN)


class SupervisionLetter(models.Model):
    """督办函 to an enterprise or a responsible unit, with a deadline and the reply."""

    ref = models.CharField(
        _("reference"), max_length=64, unique=True, default=act_ref, validators=[ref_validator]
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="letters")
    addressee = models.CharField(_("addressee"), max_length=200)
    content = models.TextField(_("content"))
    issued_on = models.DateField(_("issued on"))
    deadline = models.DateField(_("reply by"))
    number = models.CharField(_("document number"), max_length=64, unique=True)
    reply = models.TextField(_("reply"), blank=True)
    replied_on = models.DateField(_("replied on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ActQuerySet.as_manager()

    class Meta:
        verbose_name = _("supervision letter")
        verbose_name_plural = _("supervision letters")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.number


class Interview(models.Model):
    """警示约谈: who attended, what was said, what was promised, and the follow-up check."""

    ref = models.CharField(
        _("reference"), max_length=64, unique=True, default=act_ref, validators=[ref_validator]
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="interviews")
    held_on = models.DateField(_("held on"))
    attendees = models.TextField(_("attendees"))
    topics = models.TextField(_("topics"))
    commitments = models.TextField(_("commitments"), blank=True)
    follow_up_on = models.DateField(_("follow-up check on"), null=True, blank=True)
    follow_up_result = models.TextField(_("follow-up result"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ActQuerySet.as_manager()

    class Meta:
        verbose_name = _("warning interview")
        verbose_name_plural = _("warning interviews")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.case.enterprise.name} {self.held_on}"


class Referral(Approval):
    """案件移送 to the city bureau or another authority, with the case file as one .zip."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        RESULT = "result", _("Result received")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    ref = models.CharField(
        _("reference"), max_length=64, unique=True, default=act_ref, validators=[ref_validator]
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="referrals")
    authority = models.CharField(_("receiving authority"), max_length=200)
    reason = models.TextField(_("reason and legal basis"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    number = models.CharField(_("document number"), max_length=64, blank=True)
    sent_on = models.DateField(_("sent on"), null=True, blank=True)
    result = models.TextField(_("result"), blank=True)
    result_on = models.DateField(_("result received on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ActQuerySet.as_manager()

    class Meta:
        verbose_name = _("case referral")
        verbose_name_plural = _("case referrals")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.number or str(_("Referral (draft)"))
