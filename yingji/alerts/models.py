"""Warnings and forwarded information, their recipients, and roll-calls.

An alert goes to recipient *units* (a town, a village, an enterprise, a rescue team); each unit
has an ordered contact list. A unit's `Recipient` row carries its delivery and acknowledgement
state and the escalation ladder position (叫应叫醒); `Call` is one contact alerted at one step,
with the one-tap token of its link; `Dispatch` is one message through one channel.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yingji.core.models import Notification, Region, WebhookDelivery, ref_validator
from yingji.core.roles import DISTRICT_WIDE, REGIONAL
from yingji.enterprises.models import Enterprise


def new_ref() -> str:
    return "A-" + uuid.uuid4().hex[:12].upper()


def new_rollcall_ref() -> str:
    return "R-" + uuid.uuid4().hex[:12].upper()


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Kind(models.TextChoices):
    WARNING = "warning", _("Warning")
    WEATHER_FORWARD = "weather_forward", _("Forwarded weather item")
    BULLETIN = "bulletin", _("Disaster-prevention bulletin")
    STATION_MESSAGE = "station_message", _("Weather-station message")


class Level(models.TextChoices):
    BLUE = "blue", _("Blue")
    YELLOW = "yellow", _("Yellow")
    ORANGE = "orange", _("Orange")
    RED = "red", _("Red")


class HazardType(models.TextChoices):
    RAINSTORM = "rainstorm", _("Rainstorm")
    FLASH_FLOOD = "flash_flood", _("Flash flood")
    FOREST_FIRE = "forest_fire", _("Forest or grassland fire")
    SNOW = "snow", _("Snowstorm")
    GEOLOGICAL = "geological", _("Geological hazard")
    GALE = "gale", _("Gale")
    THUNDER = "thunder", _("Thunderstorm")
    HAIL = "hail", _("Hail")
    HEAT = "heat", _("Heat wave")
    COLD = "cold", _("Cold wave")
    FROST = "frost", _("Frost")
    FOG = "fog", _("Heavy fog")
    DUST = "dust", _("Sandstorm")
    DROUGHT = "drought", _("Drought")
    EARTHQUAKE = "earthquake", _("Earthquake")
    OTHER = "other", _("Other")


class AlertTemplate(models.Model):
    """A prepared alert (e.g. 暴雨橙色预警): issuing one is choosing it and the area."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.WARNING)
    hazard_type = models.CharField(_("hazard type"), max_length=20, choices=HazardType.choices)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, blank=True)
    headline = models.CharField(_("headline"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    instructions = models.TextField(_("instructions"), blank=True)
    valid_hours = models.PositiveSmallIntegerField(_("valid for (hours)"), default=24)
    public = models.BooleanField(_("public"), default=True)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("alert template")
        verbose_name_plural = _("alert templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AlertQuerySet(models.QuerySet):
    """Staff see every alert; a town or village sees those addressed to a unit in its area."""

    def visible_to(self, user):
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.role in DISTRICT_WIDE:
            return self
        if user.role in REGIONAL and user.region_id:
            units = Recipient.objects.filter(unit__region__path__startswith=user.region.path)
            return self.filter(pk__in=units.values("alert_id"))
        return self.none()

    def with_counts(self, user):
        """Units alerted and acknowledged per alert (n_units, n_acked), counting only the units
        the viewer may see: a town's list must not reveal another town's answers."""
        seen = Q(recipients__isnull=False)
        if user.role not in DISTRICT_WIDE:
            seen = Q(recipients__unit__region__path__startswith=user.region.path)
        acked = seen & Q(recipients__acknowledged_at__isnull=False)
        return self.annotate(
            n_units=Count("recipients", filter=seen), n_acked=Count("recipients", filter=acked)
        )

    def issued(self):
        return self.filter(status__in=(Alert.Status.ISSUED, Alert.Status.LIFTED))

    def current(self, now=None):
        """Issued, not lifted and still valid: what the public page and the feed list."""
        now = now or timezone.now()
        # An imported record without an end is history (a ledger of last year), not in force.
        return self.filter(status=Alert.Status.ISSUED).filter(
            Q(valid_until__gt=now) | (Q(valid_until__isnull=True) & ~Q(source=Alert.Source.IMPORT))
        )


class Alert(models.Model):
    """One warning, forwarded weather item, bulletin or weather-station message."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING_APPROVAL = "pending_approval", _("Awaiting approval")
        ISSUED = "issued", _("Issued")
        LIFTED = "lifted", _("Lifted")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Written here")
        CAP = "cap", _("CAP import")
        INGEST = "ingest", _("Monitoring platform")
        IMPORT = "import", _("Bulk import")

    ref = models.CharField(
        _("reference"), max_length=64, unique=True, default=new_ref, validators=[ref_validator]
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    hazard_type = models.CharField(
        _("hazard type"), max_length=20, choices=HazardType.choices, blank=True
    )
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    headline = models.CharField(_("headline"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    instructions = models.TextField(_("instructions"), blank=True)
    public = models.BooleanField(_("public"), default=True)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    # The area as chosen (towns, villages, or the district); recipients are expanded from it.
    regions = models.ManyToManyField(
        Region, verbose_name=_("target area"), blank=True, related_name="+"
    )
    # Extra recipients besides the area: rescue teams, other bodies, and the enterprises of
    # these sectors (",hazardous_chemicals,gas_station,") inside the area.
    extra_units = models.ManyToManyField(
        "Unit", verbose_name=_("extra recipients"), blank=True, related_name="+"
    )
    sectors = models.CharField(_("enterprises of sectors"), max_length=300, blank=True)
    template = models.ForeignKey(
        AlertTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.MANUAL
    )
    # The sender's id of a CAP message or a monitoring event: imports are idempotent on it.
    source_id = models.CharField(_("source identifier"), max_length=200, blank=True)
    sender = models.CharField(_("originator"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lifted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-issued_at", "-created_at", "-pk"]
        indexes = [
            models.Index(fields=["kind", "issued_at"]),
            models.Index(fields=["status", "valid_until"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "sender", "source_id"],
                condition=~Q(source_id=""),
                name="alert_source_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=("draft", "pending_approval", "cancelled"))
                | Q(issued_at__isnull=False),
                name="issued_alert_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.headline

    def get_absolute_url(self) -> str:
        return reverse("alerts-detail", args=[self.pk])


class UnitQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.role in DISTRICT_WIDE:
            return self
        if user.role in REGIONAL and user.region_id:
            return self.filter(region__path__startswith=user.region.path)
        return self.none()


class Unit(models.Model):
    """Who receives alerts: a town or village, an enterprise, a rescue team, another body."""

    class Kind(models.TextChoices):
        REGION = "region", _("Town or village")
        ENTERPRISE = "enterprise", _("Enterprise")
        TEAM = "team", _("Rescue team")
        OTHER = "other", _("Other unit")

    class Robot(models.TextChoices):
        WECOM = "wecom", _("WeCom group robot")
        DINGTALK = "dingtalk", _("DingTalk group robot")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    region = models.OneToOneField(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alert_unit",
    )
    enterprise = models.OneToOneField(
        Enterprise,
        verbose_name=_("enterprise"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alert_unit",
    )
    robot_kind = models.CharField(
        _("group robot"), max_length=16, choices=Robot.choices, blank=True
    )
    robot_url = models.URLField(_("group robot webhook"), max_length=500, blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = UnitQuerySet.as_manager()

    # A robot webhook URL carries its access key.
    audit_exclude = ("robot_url",)

    class Meta:
        verbose_name = _("recipient unit")
        verbose_name_plural = _("recipient units")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """One rung of a unit's ladder: the duty phone first, then the head, then the deputy."""

    class Role(models.TextChoices):
        DUTY = "duty", _("Duty phone")
        HEAD = "head", _("Head")
        DEPUTY = "deputy", _("Deputy")
        OTHER = "other", _("Other")

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="contacts")
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.DUTY)
    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("mobile phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alert_contacts",
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["unit", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"


class Recipient(models.Model):
    """One unit's copy of an alert: delivered, acknowledged (叫应) or escalated (叫醒)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Being delivered")
        DELIVERED = "delivered", _("Delivered")
        ESCALATED = "escalated", _("Escalated")
        UNANSWERED = "unanswered", _("No answer")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")

    class Method(models.TextChoices):
        APP = "app", _("In the app")
        LINK = "link", _("One-tap link")
        PHONE = "phone", pgettext_lazy("acknowledged by", "Phone")
        IMPORT = "import", _("Imported")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="recipients")
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="recipients"
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING
    )
    # Index into the unit's escalation ladder of the last rung alerted (0: first contact).
    step = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    ack_method = models.CharField(
        _("acknowledged by"), max_length=10, choices=Method.choices, blank=True
    )
    ack_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ack_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ack_name = models.CharField(_("answered by"), max_length=100, blank=True)
    ack_note = models.CharField(_("remark"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["alert", "unit__name"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "unit"], name="one_recipient_per_unit")
        ]
        indexes = [
            models.Index(
                fields=["next_escalation_at"],
                name="recipient_escalation_due",
                condition=Q(acknowledged_at__isnull=True, next_escalation_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.alert} → {self.unit}"


class Call(models.Model):
    """One person alerted at one rung; the token makes their one-tap acknowledgement link."""

    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="calls")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL)
    # Above the unit's own ladder: the town's head or a bureau leader (叫醒).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=100)
    step = models.PositiveSmallIntegerField(default=0)
    token = models.CharField(max_length=64, unique=True, default=new_token)
    at = models.DateTimeField(default=timezone.now)

    audit_exclude = ("token",)

    class Meta:
        ordering = ["recipient", "step", "pk"]

    def __str__(self) -> str:
        return self.name


class Dispatch(models.Model):
    """One message of an alert through one channel; its result lives in the core outbox row."""

    class Channel(models.TextChoices):
        INAPP = "inapp", _("In-app")
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")
        ROBOT = "robot", _("Group robot")

    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="dispatches")
    call = models.ForeignKey(
        Call, null=True, blank=True, on_delete=models.CASCADE, related_name="dispatches"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    webhook = models.ForeignKey(
        WebhookDelivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recipient", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.recipient}"


class RollCallQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.role in DISTRICT_WIDE:
            return self
        if user.role in REGIONAL and user.region_id:
            mine = RollCallEntry.objects.filter(region__path__startswith=user.region.path)
            return self.filter(pk__in=mine.values("rollcall_id"))
        return self.none()


class RollCall(models.Model):
    """A video roll-call (视频点调) of chosen towns and villages: who answered, who did not."""

    ref = models.CharField(
        _("reference"),
        max_length=64,
        unique=True,
        default=new_rollcall_ref,
        validators=[ref_validator],
    )
    held_at = models.DateTimeField(_("held at"), default=timezone.now)
    topic = models.CharField(_("topic"), max_length=200, blank=True)
    note = models.TextField(_("remarks"), blank=True)
    alert = models.ForeignKey(
        Alert,
        verbose_name=_("alert"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rollcalls",
    )
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("held by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RollCallQuerySet.as_manager()

    class Meta:
        verbose_name = _("roll-call")
        verbose_name_plural = _("roll-calls")
        ordering = ["-held_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.topic or _('Roll-call')} {timezone.localtime(self.held_at):%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("alerts-rollcall", args=[self.pk])


class RollCallEntry(models.Model):
    rollcall = models.ForeignKey(RollCall, on_delete=models.CASCADE, related_name="entries")
    region = models.ForeignKey(
        Region, verbose_name=_("town or village"), on_delete=models.PROTECT, related_name="+"
    )
    answered = models.BooleanField(_("answered"), default=False)
    answered_by = models.CharField(_("answered by"), max_length=100, blank=True)
    remark = models.CharField(_("remark"), max_length=300, blank=True)
    # A missed roll-call is followed up; the follow-up closes it.
    followed_up_at = models.DateTimeField(_("followed up at"), null=True, blank=True)
    follow_up_note = models.CharField(_("follow-up"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("roll-call entry")
        verbose_name_plural = _("roll-call entries")
        ordering = ["rollcall", "region__path"]
        constraints = [
            models.UniqueConstraint(fields=["rollcall", "region"], name="one_entry_per_region")
        ]

    def __str__(self) -> str:
        return f"{self.rollcall} {self.region}"


class IngestEvent(models.Model):
    """An event posted by a monitoring platform (flash-flood sensor, fire camera).

    Kept once per (source, event_id), so a platform that retries its POST is answered with
    the event already stored instead of a second alert.
    """

    source = models.CharField(_("platform"), max_length=64)
    event_id = models.CharField(_("event id"), max_length=128)
    hazard_type = models.CharField(
        _("hazard type"), max_length=20, choices=HazardType.choices, blank=True
    )
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, blank=True)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT
    )
    observed_at = models.DateTimeField(_("observed at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    message = models.TextField(_("message"), blank=True)
    payload = models.JSONField(default=dict)
    alert = models.ForeignKey(
        Alert,
        verbose_name=_("alert"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ingest_events",
    )

    class Meta:
        verbose_name = _("monitoring event")
        verbose_name_plural = _("monitoring events")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="one_event_per_source_id")
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.event_id}"
