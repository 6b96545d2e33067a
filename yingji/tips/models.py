import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yingji.core.models import ref_validator
from yingji.core.roles import DISTRICT_WIDE, REGIONAL
from yingji.enterprises.models import Enterprise
from yingji.inspections.models import Inspection


def new_ref() -> str:
    return "T-" + uuid.uuid4().hex[:12].upper()


class Channel(models.TextChoices):
    HOTLINE = "hotline_12345", _("12345 hotline")
    PLATFORM = "platform", _("Reporting platform")
    PHONE = "phone", _("Phone")
    LETTER = "letter", _("Letter")
    VISIT = "visit", _("Visit")


class TipQuerySet(models.QuerySet):
    """Tips are bureau work: staff see all; a town sees tips about enterprises in its area."""

    def visible_to(self, user):
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.role in DISTRICT_WIDE:
            return self
        if user.role in REGIONAL and user.region_id:
            return self.filter(enterprise__region__path__startswith=user.region.path)
        return self.none()

    def overdue(self, on=None):
        on = on or timezone.localdate()
        return self.exclude(status=Tip.Status.CLOSED).filter(deadline__lt=on)


class Tip(models.Model):
    """A report from the public (举报), from any channel, followed with a receipt code."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        ASSIGNED = "assigned", _("Assigned")
        VERIFYING = "verifying", _("Verifying")
        VERIFIED = "verified", _("Verified true")
        UNFOUNDED = "unfounded", _("Unfounded")
        TRANSFERRED = "transferred", _("Transferred")
        CLOSED = "closed", pgettext_lazy("tip status", "Closed")

    class Reward(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        APPROVED = "approved", _("Approved")
        PAID = "paid", pgettext_lazy("reward", "Paid")
        WAIVED = "waived", _("Waived by the reporter")

    ref = models.CharField(
        _("reference"), max_length=64, unique=True, default=new_ref, validators=[ref_validator]
    )
    # The receipt code is given to the reporter once; only its keyed hash is stored.
    receipt_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    channel = models.CharField(
        pgettext_lazy("tip", "channel"), max_length=20, choices=Channel.choices
    )
    received_on = models.DateField(_("received on"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    hotline_ticket = models.CharField(
        _("hotline ticket"), max_length=64, unique=True, null=True, blank=True
    )
    hotline_deadline = models.DateField(_("hotline deadline"), null=True, blank=True)
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("enterprise"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tips",
    )
    enterprise_name = models.CharField(_("enterprise as reported"), max_length=200, blank=True)
    location = models.CharField(_("where"), max_length=300, blank=True)
    content = models.TextField(_("what was reported"))
    anonymous = models.BooleanField(_("anonymous"), default=True)
    # Fernet tokens (encrypted at rest); read only through services.reveal_identity.
    reporter_name_enc = models.TextField(blank=True)
    reporter_contact_enc = models.TextField(blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RECEIVED
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tips",
    )
    deadline = models.DateField(_("handling deadline"), null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
    )
    transferred_to = models.CharField(_("transferred to"), max_length=200, blank=True)
    inspection = models.ForeignKey(
        Inspection,
        verbose_name=_("inspection"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tips",
    )
    verified = models.BooleanField(_("found true"), default=False)
    findings = models.TextField(_("what was checked and found"), blank=True)
    answer = models.TextField(_("answer to the reporter"), blank=True)
    closed_on = models.DateField(pgettext_lazy("tip", "closed on"), null=True, blank=True)
    reward_status = models.CharField(_("reward"), max_length=16, choices=Reward.choices, blank=True)
    reward_amount = models.DecimalField(
        _("reward (yuan)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    reward_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reward approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reward_approved_at = models.DateTimeField(_("reward approved at"), null=True, blank=True)
    reward_paid_on = models.DateField(_("reward paid on"), null=True, blank=True)
    reward_method = models.CharField(_("payment method"), max_length=100, blank=True)
    reward_claimed_at = models.DateTimeField(_("claimed by the reporter at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TipQuerySet.as_manager()

    # Neither the ciphertext of the identity nor the code's hash belongs in the audit log.
    audit_exclude = ("reporter_name_enc", "reporter_contact_enc", "receipt_hash")

    class Meta:
        verbose_name = _("tip")
        verbose_name_plural = _("tips")
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["channel", "received_on"]),
            models.Index(fields=["status", "deadline"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_on__isnull=False),
                name="closed_tip_has_date",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.received_on:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("tips-detail", args=[self.pk])

    @property
    def is_overdue(self) -> bool:
        return (
            self.status != self.Status.CLOSED
            and self.deadline is not None
            and (self.deadline < timezone.localdate())
        )


class TipMessage(models.Model):
    """The conversation with the reporter: the bureau's questions and the reporter's answers."""

    class Kind(models.TextChoices):
        QUESTION = "question", _("Question to the reporter")
        ANSWER = "answer", _("Reporter's answer")

    tip = models.ForeignKey(Tip, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    text = models.TextField(_("text"))
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:40]}"


class RewardRule(models.Model):
    """How a reward is proposed (举报奖励): a share of the fine within bounds, or fixed sums."""

    class Kind(models.TextChoices):
        PERCENT_OF_FINE = "percent", _("Percentage of the resulting fine")
        FIXED = "fixed", _("Fixed amount per hazard level")

    kind = models.CharField(_("rule"), max_length=16, choices=Kind.choices, default=Kind.FIXED)
    percent = models.DecimalField(
        _("percent of the fine"), max_digits=5, decimal_places=2, default=Decimal("15.00")
    )
    minimum = models.DecimalField(
        _("minimum (yuan)"), max_digits=10, decimal_places=2, default=Decimal("100.00")
    )
    maximum = models.DecimalField(
        _("maximum (yuan)"), max_digits=10, decimal_places=2, default=Decimal("300000.00")
    )
    fixed_general = models.DecimalField(
        _("fixed: general hazard (yuan)"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("100.00"),
    )
    fixed_major = models.DecimalField(
        _("fixed: major hazard (yuan)"), max_digits=10, decimal_places=2, default=Decimal("1000.00")
    )
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("reward rule")
        verbose_name_plural = _("reward rules")

    def __str__(self) -> str:
        return self.get_kind_display()
